"""The console entry point (`source-pinterest`), also used by main.py and the Docker image."""

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


def run() -> None:
    entrypoint = PinterestEntrypoint(SourcePinterest())
    # As the CDK's own `launch`, with our entrypoint: one print per message keeps each line whole.
    with PRINT_BUFFER:
        for message in entrypoint.run(entrypoint.parse_args(sys.argv[1:])):
            print(f"{message}\n", end="")
