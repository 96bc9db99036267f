"""The organic analytics as data: the metric types each endpoint takes, the top-pins tables, and data readiness.

Pinterest's organic answers carry a `data_status` per day. READY is final; PROCESSING and ESTIMATE are numbers that
will still change, so such a day is read again by later syncs until it is READY (state.PassCursor.not_ready). The
BEFORE_* statuses and the threshold ones say the day has no data and never will (the pin did not exist yet, the
audience is too small ...): they are final too, or a pin created last week would hold the cursor 90 days back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# GET /pins/analytics and GET /pins/{pin_id}/analytics: the union of the spec's standard and video enums (the two
# endpoints document the same ones). Image pins simply have no video values.
PIN_METRIC_TYPES = (
    "IMPRESSION",
    "OUTBOUND_CLICK",
    "PIN_CLICK",
    "SAVE",
    "SAVE_RATE",
    "TOTAL_COMMENTS",
    "TOTAL_REACTIONS",
    "USER_FOLLOW",
    "PROFILE_VISIT",
    "VIDEO_MRC_VIEW",
    "VIDEO_10S_VIEW",
    "QUARTILE_95_PERCENT_VIEW",
    "VIDEO_V50_WATCH_TIME",
    "VIDEO_START",
    "VIDEO_AVG_WATCH_TIME",
)
MULTI_PIN_BATCH = 100  # the spec's maxItems of pin_ids
PROVISIONAL_STATUSES = frozenset({"PROCESSING", "ESTIMATE"})
READY = "READY"


def is_final(status: object) -> bool:
    """Whether a day's data_status says its numbers will not change: READY, or a status saying there is no data
    for that day and never will be (BEFORE_*, *_SMALLER_THAN_THRESHOLD, IN_BAD_TAG_DATE). An absent or unknown
    status is taken as provisional, so the day is read again rather than kept wrong."""
    if status == READY:
        return True
    if not isinstance(status, str) or status in PROVISIONAL_STATUSES:
        return False
    return status.startswith("BEFORE_") or status.endswith("_THRESHOLD") or status == "IN_BAD_TAG_DATE"


def daily_rows(pin_id: str, answer: object) -> Iterator[dict[str, Any]]:
    """One pin's answer ({split bucket: {daily_metrics: [{date, data_status, metrics}]}}) as flat rows: PIN_ID,
    DATE, DATA_STATUS and one column per metric. NO_SPLIT answers one bucket."""
    buckets = answer.values() if isinstance(answer, Mapping) else ()
    for bucket in buckets:
        days = bucket.get("daily_metrics") if isinstance(bucket, Mapping) else None
        for day in days or ():
            metrics = day.get("metrics") if isinstance(day.get("metrics"), Mapping) else {}
            yield {"PIN_ID": pin_id, "DATE": day.get("date"), "DATA_STATUS": day.get("data_status"), **metrics}


KeptPin = int | tuple[str | None, int | None]
# Day ordinals fit in 22 bits up to the year 11,000 (date.max is 3,652,059).
_DAY_BITS = 22
_DAY_MASK = (1 << _DAY_BITS) - 1


def kept_pin(pin: Mapping[str, Any]) -> KeptPin:
    """What pin_analytics keeps of a listed pin until the sync ends: its id and the day it was created (an ordinal;
    None if unreadable). A pin id that is a plain decimal number (Pinterest's are) is kept as one int, the id
    shifted left by _DAY_BITS with the day in the low bits (0: none): the 60,000 pins of a large account take
    ~2.6 MB so, ~9.6 MB as (id, day) tuples, ~20 MB as dicts of the same two fields. Any other id keeps the tuple."""
    created = pin.get("created_at")
    try:
        created_day = dt.date.fromisoformat(created[:10]).toordinal() if isinstance(created, str) else None
    except ValueError:
        created_day = None
    pin_id = str(pin["id"]) if pin.get("id") is not None else None
    if pin_id and pin_id.isascii() and pin_id.isdigit() and pin_id[0] != "0":
        return int(pin_id) << _DAY_BITS | (created_day or 0)
    return pin_id, created_day


def pin_created_by(pins: Iterable[KeptPin], day: dt.date) -> list[str]:
    """Ids of the pins that existed by the end of `day` (a pin created later has no data up to it; an unreadable
    created_at counts as existing)."""
    last = day.toordinal()
    ids = []
    for pin in pins:
        pin_id: str | None
        if isinstance(pin, int):
            pin_id, created = str(pin >> _DAY_BITS), (pin & _DAY_MASK) or None
        else:  # the tuple of an id that is not a plain number
            pin_id, created = pin
        if pin_id is not None and (created is None or created <= last):
            ids.append(pin_id)
    return ids


@dataclass(frozen=True)
class TopPinsSpec:
    """One ranking endpoint: GET <path> once per sort_by value over the sync window, with every metric type."""

    name: str
    path: str
    sort_by: tuple[str, ...]
    metric_types: tuple[str, ...]

    primary_key = ("start_date", "end_date", "sort_by", "pin_id")


NUM_OF_PINS = 50  # the spec's maximum

TOP_PINS_STREAMS: tuple[TopPinsSpec, ...] = (
    TopPinsSpec(
        "user_account_top_pins",
        "user_account/analytics/top_pins",
        sort_by=("ENGAGEMENT", "IMPRESSION", "OUTBOUND_CLICK", "PIN_CLICK", "SAVE"),
        metric_types=(
            "ENGAGEMENT",
            "ENGAGEMENT_RATE",
            "IMPRESSION",
            "OUTBOUND_CLICK",
            "OUTBOUND_CLICK_RATE",
            "PIN_CLICK",
            "PIN_CLICK_RATE",
            "SAVE",
            "SAVE_RATE",
        ),
    ),
    TopPinsSpec(
        "user_account_top_video_pins",
        "user_account/analytics/top_video_pins",
        sort_by=(
            "IMPRESSION",
            "SAVE",
            "OUTBOUND_CLICK",
            "VIDEO_MRC_VIEW",
            "VIDEO_AVG_WATCH_TIME",
            "VIDEO_V50_WATCH_TIME",
            "QUARTILE_95_PERCENT_VIEW",
            "VIDEO_10S_VIEW",
            "VIDEO_START",
        ),
        metric_types=(
            "IMPRESSION",
            "SAVE",
            "VIDEO_MRC_VIEW",
            "VIDEO_AVG_WATCH_TIME",
            "VIDEO_V50_WATCH_TIME",
            "QUARTILE_95_PERCENT_VIEW",
            "VIDEO_10S_VIEW",
            "VIDEO_START",
            "OUTBOUND_CLICK",
        ),
    ),
)


def ranking_rows(answer: object, window: Mapping[str, str], sort_by: str) -> Iterator[dict[str, Any]]:
    """A top-pins answer ({pins: [{pin_id, metrics, data_status}]}) as one row per pin: the window's dates, the
    sort_by, the 1-based rank, the pin id, its data_status per day, and one column per metric."""
    pins = answer.get("pins") if isinstance(answer, Mapping) else None
    for rank, pin in enumerate(pins or (), start=1):
        metrics = pin.get("metrics") if isinstance(pin.get("metrics"), Mapping) else {}
        yield {
            "start_date": window["start_date"],
            "end_date": window["end_date"],
            "sort_by": sort_by,
            "rank": rank,
            "pin_id": None if pin.get("pin_id") is None else str(pin["pin_id"]),
            "data_status": pin.get("data_status"),
            **metrics,
        }
