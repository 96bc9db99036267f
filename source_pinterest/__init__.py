"""source-pinterest: an Airbyte source for the Pinterest API v5."""

from source_pinterest.source import SourcePinterest

__all__ = ["SourcePinterest"]
