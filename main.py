"""`python main.py spec|check|discover|read ...`: the same entry point as the `source-pinterest` script."""

from source_pinterest.run import run

if __name__ == "__main__":
    run()
