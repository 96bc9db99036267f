"""What pin_metrics=true costs per page of GET /pins on the emulator: bytes and time, with and without the flag.

    python -m pinterest_emulator.measure_pin_metrics [--size medium] [--rounds 5]

Pages of 250 (the connector's page size), every page of the listing, each variant read `rounds` times in turn; the
median time per page is printed. The emulator adds no latency, so the time is the emulator's rendering and JSON plus
the local round trip: the extra bytes are the figure that carries over to the real API.
"""

import argparse
import statistics
import time

import requests

from . import Emulator
from .auth import bearer_session


def _pages(session: requests.Session, base_url: str, params: dict) -> list[tuple[int, float]]:
    """(bytes, seconds) of every page of GET /pins with these params."""
    out = []
    query = {"page_size": 250, "include_protected_pins": "true", **params}
    while True:
        began = time.perf_counter()
        response = session.get(f"{base_url}/pins", params=query, timeout=60)
        response.raise_for_status()
        body = response.json()
        out.append((len(response.content), time.perf_counter() - began))
        if not body.get("bookmark"):
            return out
        query["bookmark"] = body["bookmark"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with Emulator(seed=1, size=args.size) as emu:
        session = bearer_session(emu.base_url)
        variants = {"without": {}, "with pin_metrics": {"pin_metrics": "true"}}
        measured: dict[str, list[tuple[int, float]]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, params in variants.items():
                measured[name] += _pages(session, emu.base_url, params)
    results = {}
    for name, pages in measured.items():
        results[name] = (statistics.median(b for b, _ in pages), statistics.median(s for _, s in pages))
        print(
            f"{name:>17}: {len(pages) // args.rounds} pages/listing, median page {results[name][0] / 1024:.1f} KiB, "
            f"median {results[name][1] * 1000:.1f} ms/page"
        )
    (plain_bytes, plain_s), (metrics_bytes, metrics_s) = results.values()
    print(
        f"pin_metrics adds {(metrics_bytes - plain_bytes) / 1024:.1f} KiB per page of 250 "
        f"(+{(metrics_bytes / plain_bytes - 1) * 100:.0f}%) and {(metrics_s - plain_s) * 1000:+.1f} ms per page "
        f"({(metrics_s / plain_s - 1) * 100:+.0f}%)"
    )


if __name__ == "__main__":
    main()
