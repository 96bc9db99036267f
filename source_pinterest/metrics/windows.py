"""Pure date arithmetic for the metrics streams: where a sync starts, how its range is cut into windows, id batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """An inclusive range of UTC days, as Pinterest's start_date / end_date take it."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def params(self) -> dict[str, str]:
        return {"start_date": self.start.isoformat(), "end_date": self.end.isoformat()}

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def window_of(stream_slice: Mapping[str, Any]) -> Window:
    """The window a metrics slice carries as start_date / end_date."""
    return Window(dt.date.fromisoformat(stream_slice["start_date"]), dt.date.fromisoformat(stream_slice["end_date"]))


def earliest_allowed(today: dt.date, days_back: int) -> dt.date:
    """The oldest start_date we send. Pinterest rejects a start "more than N days prior to today"; we stay one day
    inside that (N days including today), so an off-by-one in how the API counts can never fail a sync, and the
    whole live history is exactly one 90-day request."""
    return today - dt.timedelta(days=days_back - 1)


def sync_start(
    earliest: dt.date,
    configured_start: dt.date | None = None,
    cursor: dt.date | None = None,
    lookback_days: int = 0,
) -> dt.date:
    """First day to request: the saved cursor minus the look-back (restated conversions come back as upserts),
    else the configured start, else as far back as the API allows; never before `earliest` or the configured start."""
    start = cursor - dt.timedelta(days=lookback_days) if cursor is not None else configured_start or earliest
    if configured_start is not None:
        start = max(start, configured_start)
    return max(start, earliest)


def sync_windows(
    today: dt.date,
    days_back: int,
    max_days: int,
    configured_start: dt.date | None = None,
    cursor: dt.date | None = None,
    lookback_days: int = 0,
) -> list[Window]:
    """The windows one partition reads this sync: from `sync_start` to today, each within the API's range limit."""
    earliest = earliest_allowed(today, days_back)
    return windows(sync_start(earliest, configured_start, cursor, lookback_days), today, max_days)


def resumed_windows(
    today: dt.date,
    days_back: int,
    max_days: int,
    done_through: dt.date,
    configured_start: dt.date | None = None,
    window_end: dt.date | None = None,
) -> list[Window]:
    """The rest of a pass a killed attempt left unfinished: the day after `done_through` to today, with no new
    look-back (the pass already began with one); never before what the API allows or the configured start. A
    window whose id batches were partly done (ending on `window_end`) comes first as it was, so the batches already
    emitted are the same ones."""
    start = max(done_through + dt.timedelta(days=1), earliest_allowed(today, days_back))
    if configured_start is not None:
        start = max(start, configured_start)
    if window_end is not None and start <= window_end <= today:
        return [Window(start, window_end), *windows(window_end + dt.timedelta(days=1), today, max_days)]
    return windows(start, today, max_days)


def windows(start: dt.date, end: dt.date, max_days: int) -> list[Window]:
    """[start, end] cut into consecutive windows of at most `max_days` days, oldest first; empty if start > end."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    out: list[Window] = []
    cursor = start
    while cursor <= end:
        last = min(end, cursor + dt.timedelta(days=max_days - 1))
        out.append(Window(cursor, last))
        cursor = last + dt.timedelta(days=1)
    return out


def batches(items: Iterable[T], size: int) -> list[tuple[T, ...]]:
    """Items in order, without duplicates, cut into tuples of at most `size`."""
    if size < 1:
        raise ValueError("size must be at least 1")
    unique: list[T] = list(dict.fromkeys(items))
    return [tuple(unique[i : i + size]) for i in range(0, len(unique), size)]


def parse_day(value: object) -> dt.date | None:
    """A state or record date ("2024-01-31", "2024-01-31 05:00:00" or a date) as a date; None if unreadable."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def created_by(created_times: Sequence[int | None], day: dt.date) -> list[bool]:
    """For each epoch-seconds creation time, whether the entity existed by the end of `day` (unknown: True)."""
    limit = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC).timestamp()
    return [not isinstance(t, (int, float)) or isinstance(t, bool) or t < limit for t in created_times]
