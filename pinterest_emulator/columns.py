"""The spec's column enums (copied from the official spec into this package) as frozensets."""

from functools import cache
from pathlib import Path

_HERE = Path(__file__).parent


def _load(name: str) -> frozenset:
    lines = (_HERE / name).read_text().splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@cache
def live_columns() -> frozenset:
    """Columns accepted by the synchronous analytics GETs."""
    return _load("columns_live.txt")


@cache
def report_columns() -> frozenset:
    """Columns accepted by POST /ad_accounts/{id}/reports."""
    return _load("columns_report.txt")
