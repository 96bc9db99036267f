"""Date-range rules shared by live analytics and async reports."""

import re
from datetime import date

from .errors import bad_param

WINDOW_DAYS = (0, 1, 7, 14, 30, 60)
GRANULARITIES = ("TOTAL", "DAY", "HOUR", "WEEK", "MONTH")


def parse_date(value, name: str) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise bad_param(f"Parameter '{name}' is required and must match YYYY-MM-DD (got {value!r})")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise bad_param(f"Parameter '{name}' is not a valid date: {value}") from None


def check_range(start: date, end: date, today: date, max_back: int, max_span: int, what: str) -> None:
    """Pinterest's limits: how far back the start may be and how many days one request may cover."""
    if end < start:
        raise bad_param(f"end_date ({end}) must be on or after start_date ({start})")
    if (today - start).days > max_back:
        raise bad_param(f"start_date ({start}) cannot be more than {max_back} days prior to today for {what}")
    if (end - start).days + 1 > max_span:
        raise bad_param(f"Date range {start}..{end} exceeds the maximum of {max_span} days for {what}")


def check_window(value, name: str) -> None:
    if value is None:
        return
    try:
        ok = int(value) in WINDOW_DAYS
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise bad_param(f"Parameter '{name}' must be one of {list(WINDOW_DAYS)} (got {value})")


def check_granularity(value) -> str:
    if value not in GRANULARITIES:
        raise bad_param(f"Parameter 'granularity' must be one of {', '.join(GRANULARITIES)} (got {value})")
    return value
