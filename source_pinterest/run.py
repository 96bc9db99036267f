"""The console entry point (`source-pinterest`), also used by main.py and the Docker image."""

import sys

from airbyte_cdk.entrypoint import launch

from source_pinterest.source import SourcePinterest


def run() -> None:
    launch(SourcePinterest(), sys.argv[1:])
