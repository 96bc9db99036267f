"""Pure date slicing and id batching of the metrics streams."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from source_pinterest.metrics.windows import (
    Window,
    batches,
    created_by,
    earliest_allowed,
    parse_day,
    sync_start,
    sync_windows,
    windows,
)

D = dt.date
TODAY = D(2024, 6, 30)


@pytest.mark.parametrize(
    "start,end,max_days,expected",
    [
        (D(2024, 1, 1), D(2024, 1, 1), 90, [(D(2024, 1, 1), D(2024, 1, 1))]),
        (D(2024, 1, 1), D(2024, 3, 30), 90, [(D(2024, 1, 1), D(2024, 3, 30))]),  # exactly 90 days
        (D(2024, 1, 1), D(2024, 3, 31), 90, [(D(2024, 1, 1), D(2024, 3, 30)), (D(2024, 3, 31), D(2024, 3, 31))]),
        (
            D(2024, 1, 1),
            D(2024, 1, 7),
            3,
            [(D(2024, 1, 1), D(2024, 1, 3)), (D(2024, 1, 4), D(2024, 1, 6)), (D(2024, 1, 7), D(2024, 1, 7))],
        ),
        (D(2024, 1, 2), D(2024, 1, 1), 90, []),  # nothing to read
    ],
)
def test_windows(start, end, max_days, expected):
    assert [(w.start, w.end) for w in windows(start, end, max_days)] == expected


@pytest.mark.parametrize(
    "days_back,max_days,count,first_start",
    [
        (90, 90, 1, D(2024, 4, 2)),  # live analytics: all history in one request
        (914, 186, 5, D(2021, 12, 30)),  # async reports
        (92, 31, 3, D(2024, 3, 31)),  # PRODUCT_ITEM
        (8, 3, 3, D(2024, 6, 23)),  # HOUR
    ],
)
def test_sync_windows_of_a_first_sync_reach_as_far_back_as_allowed(days_back, max_days, count, first_start):
    result = sync_windows(TODAY, days_back, max_days)
    assert len(result) == count
    assert result[0].start == first_start == earliest_allowed(TODAY, days_back)
    assert (TODAY - first_start).days == days_back - 1
    assert result[-1].end == TODAY


@pytest.mark.parametrize(
    "configured,cursor,lookback,expected",
    [
        (None, None, 30, D(2024, 4, 2)),  # first sync, no start_date: the earliest allowed
        (D(2020, 1, 1), None, 30, D(2024, 4, 2)),  # too old: clamped
        (D(2024, 6, 1), None, 30, D(2024, 6, 1)),
        (None, D(2024, 6, 20), 30, D(2024, 5, 21)),  # cursor minus look-back
        (None, D(2024, 6, 20), 0, D(2024, 6, 20)),
        (D(2024, 6, 10), D(2024, 6, 20), 30, D(2024, 6, 10)),  # never before the user's start_date
        (None, D(2024, 4, 5), 30, D(2024, 4, 2)),  # never before the API's earliest day
    ],
)
def test_sync_start(configured, cursor, lookback, expected):
    assert sync_start(earliest_allowed(TODAY, 90), configured, cursor, lookback) == expected


@given(
    start_offset=st.integers(min_value=-2000, max_value=0),
    length=st.integers(min_value=0, max_value=1500),
    max_days=st.integers(min_value=1, max_value=200),
    days_back=st.integers(min_value=1, max_value=1000),
)
def test_property_windows_cover_the_range_exactly_once_within_limits(start_offset, length, max_days, days_back):
    earliest = earliest_allowed(TODAY, days_back)
    start = sync_start(earliest, TODAY + dt.timedelta(days=start_offset))
    end = min(TODAY, start + dt.timedelta(days=length))
    result = windows(start, end, max_days)
    days = [w.start + dt.timedelta(days=i) for w in result for i in range(w.days)]
    expected = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    assert days == expected  # every day once, in order, no gaps
    assert all(1 <= w.days <= max_days for w in result)
    assert all(w.start >= earliest for w in result)


def test_window_params_and_text():
    window = Window(D(2024, 1, 1), D(2024, 1, 31))
    assert window.params() == {"start_date": "2024-01-01", "end_date": "2024-01-31"}
    assert str(window) == "2024-01-01..2024-01-31"
    assert window.days == 31


@pytest.mark.parametrize(
    "items,size,expected",
    [
        ([], 250, []),
        (["1", "2", "3"], 250, [("1", "2", "3")]),
        (["1", "2", "3", "2"], 2, [("1", "2"), ("3",)]),  # duplicates dropped, order kept
        ([str(i) for i in range(501)], 250, "250,250,1"),
    ],
)
def test_batches(items, size, expected):
    result = batches(items, size)
    if isinstance(expected, str):
        assert ",".join(str(len(b)) for b in result) == expected
        assert [i for b in result for i in b] == items
    else:
        assert result == expected


@given(st.lists(st.integers(min_value=0, max_value=10**18)), st.integers(min_value=1, max_value=300))
def test_property_batches_keep_every_id_once_and_respect_the_size(ids, size):
    result = batches(ids, size)
    assert [i for b in result for i in b] == list(dict.fromkeys(ids))
    assert all(1 <= len(b) <= size for b in result)


def test_created_by_and_parse_day():
    midnight = int(dt.datetime(2024, 6, 30, tzinfo=dt.UTC).timestamp())
    assert created_by([midnight - 1, midnight, None, "x"], D(2024, 6, 29)) == [True, False, True, True]
    assert parse_day("2024-01-31 05:00:00") == D(2024, 1, 31)
    assert parse_day("2024-01-31") == D(2024, 1, 31)
    assert parse_day("garbage") is None and parse_day(None) is None
