"""The console entry point (`source-pinterest`), also used by main.py and the Docker image."""

import argparse
import ctypes
import ctypes.util
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.entrypoint import PRINT_BUFFER, AirbyteEntrypoint
from airbyte_cdk.models import ConnectorSpecification
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest import limits
from source_pinterest.source import SourcePinterest, validated_config
from source_pinterest.sync.failures import unexpected_failure


class PinterestEntrypoint(AirbyteEntrypoint):
    """The CDK's entrypoint with two changes. `check` validates the config with the connector's own parser: the
    CDK's JSON-schema check would answer first, with messages such as "None is not of type 'object'" that neither
    name the field nor say what it accepts, and that repeat the offending value (a mistyped secret included). And
    an exception that is not a traced one says what happened instead of "Something went wrong in the connector"
    (during a read, each stream's own failures are already described by SourcePinterest._read_stream)."""

    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        validated_config(config)

    def run(self, parsed_args: argparse.Namespace) -> Iterable[str]:
        try:
            yield from super().run(parsed_args)
        except AirbyteTracedException:
            raise
        except Exception as error:
            raise unexpected_failure(
                "Source Pinterest", f"the {parsed_args.command} command", error, _api_host()
            ) from error


def _api_host() -> str | None:
    try:
        return urlsplit(limits.base_url()).hostname
    except ValueError:
        return None


M_ARENA_MAX = -8  # glibc's mallopt parameter for the number of malloc arenas


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Fewer malloc arenas: glibc gives each thread that allocates its own arena (up to 8 per core), and records
    built in the worker threads but freed in the main one leave each arena partly used. On the large
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
