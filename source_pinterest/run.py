"""The console entry point (`source-pinterest`), also used by main.py and the Docker image."""

import ctypes
import ctypes.util
import os
import sys
from typing import Any, Mapping

from airbyte_cdk.entrypoint import PRINT_BUFFER, AirbyteEntrypoint
from airbyte_cdk.models import ConnectorSpecification

from source_pinterest.source import SourcePinterest, validated_config


class PinterestEntrypoint(AirbyteEntrypoint):
    """The CDK's entrypoint with one change: `check` validates the config with the connector's own parser. The
    CDK's JSON-schema check would answer first, with messages such as "None is not of type 'object'" that neither
    name the field nor say what it accepts, and that repeat the offending value (a mistyped secret included)."""

    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        validated_config(config)


M_ARENA_MAX = -8  # glibc's mallopt parameter for the number of malloc arenas


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Fewer malloc arenas: glibc gives each thread that allocates its own arena (up to 8 per core), and records
    built in the lane and worker threads but freed in the main one leave each arena partly used. On the large
    benchmark account this held peak RSS at 220-235 MB against 158-160 MB with two arenas, at no cost in speed.
    An operator's MALLOC_ARENA_MAX wins; other C libraries (macOS, musl) are left alone."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def run() -> None:
    limit_malloc_arenas()  # before any thread starts
    entrypoint = PinterestEntrypoint(SourcePinterest())
    # As the CDK's own `launch`, with our entrypoint: one print per message keeps each line whole.
    with PRINT_BUFFER:
        for message in entrypoint.run(entrypoint.parse_args(sys.argv[1:])):
            print(f"{message}\n", end="")
