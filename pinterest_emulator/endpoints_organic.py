"""Organic pin analytics: GET /pins/analytics (beta, up to 100 pins), GET /pins/{pin_id}/analytics, and the user's
top pins and top video pins over a date range (GET /user_account/analytics/top_pins, .../top_video_pins).

Every number is a pure function of (seed, pin, day), so the truth is the same whatever the request shape. The most
recent `organic_processing_days` days (setting, default 0) are PROCESSING with partial numbers (half the final
counts); the others are READY, and a day before the pin's creation is BEFORE_PIN_CREATED with no metrics. The
emulator's pins all render as image pins; one in four counts as a video pin here and alone has video metrics.
"""

import threading
from datetime import UTC, date, datetime, timedelta

from .dates import check_range, parse_date
from .endpoints_entities import collect_pins, pin_visible
from .errors import ApiError, bad_param
from .filters import id_list, multi
from .hashing import digest, stable_int
from .request import Request, Response

MAX_BACK, MAX_SPAN = 90, 90
MAX_PINS_PER_CALL = 100
STANDARD_METRICS = (
    "IMPRESSION",
    "OUTBOUND_CLICK",
    "PIN_CLICK",
    "SAVE",
    "SAVE_RATE",
    "TOTAL_COMMENTS",
    "TOTAL_REACTIONS",
    "USER_FOLLOW",
    "PROFILE_VISIT",
)
VIDEO_METRICS = (
    "VIDEO_MRC_VIEW",
    "VIDEO_10S_VIEW",
    "QUARTILE_95_PERCENT_VIEW",
    "VIDEO_V50_WATCH_TIME",
    "VIDEO_START",
    "VIDEO_AVG_WATCH_TIME",
)
PIN_METRIC_TYPES = STANDARD_METRICS + VIDEO_METRICS  # the union of the spec's two enums
TOP_PINS_METRICS = (
    "ENGAGEMENT",
    "ENGAGEMENT_RATE",
    "IMPRESSION",
    "OUTBOUND_CLICK",
    "OUTBOUND_CLICK_RATE",
    "PIN_CLICK",
    "PIN_CLICK_RATE",
    "SAVE",
    "SAVE_RATE",
)
TOP_PINS_SORT_BY = ("ENGAGEMENT", "IMPRESSION", "OUTBOUND_CLICK", "PIN_CLICK", "SAVE")
TOP_VIDEO_METRICS = (
    "IMPRESSION",
    "SAVE",
    "VIDEO_MRC_VIEW",
    "VIDEO_AVG_WATCH_TIME",
    "VIDEO_V50_WATCH_TIME",
    "QUARTILE_95_PERCENT_VIEW",
    "VIDEO_10S_VIEW",
    "VIDEO_START",
    "OUTBOUND_CLICK",
)
TOP_VIDEO_SORT_BY = (
    "IMPRESSION",
    "SAVE",
    "OUTBOUND_CLICK",
    "VIDEO_MRC_VIEW",
    "VIDEO_AVG_WATCH_TIME",
    "VIDEO_V50_WATCH_TIME",
    "QUARTILE_95_PERCENT_VIEW",
    "VIDEO_10S_VIEW",
    "VIDEO_START",
)
APP_TYPES = ("ALL", "MOBILE", "TABLET", "WEB")
TOP_PINS_OPTIONS = {
    "from_claimed_content": ("OTHER", "CLAIMED", "BOTH"),
    "pin_format": (
        "ALL",
        "ORGANIC_IMAGE",
        "ORGANIC_PRODUCT",
        "ORGANIC_VIDEO",
        "ADS_STANDARD",
        "ADS_PRODUCT",
        "ADS_VIDEO",
        "ADS_IDEA",
    ),
    "app_types": APP_TYPES,
    "content_type": ("ALL", "PAID", "ORGANIC"),
    "source": ("ALL", "YOUR_PINS", "OTHER_PINS"),
}
RATES = {"SAVE_RATE": "SAVE", "PIN_CLICK_RATE": "PIN_CLICK", "OUTBOUND_CLICK_RATE": "OUTBOUND_CLICK"}
RATES["ENGAGEMENT_RATE"] = "ENGAGEMENT"
BUCKET = "all"  # the one key of a NO_SPLIT answer


# -- the data ----------------------------------------------------------------------------------------------------


def is_video(ds, pin) -> bool:
    return stable_int(ds.seed, "video_pin", pin.id) % 4 == 0


def created_day(pin) -> date:
    return datetime.fromtimestamp(pin.created, UTC).date()


def day_status(state, pin, day: date) -> str:
    if day < created_day(pin):
        return "BEFORE_PIN_CREATED"
    return "PROCESSING" if (state.today - day).days < state.settings.organic_processing_days else "READY"


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0


def day_counts(state, pin, day: date) -> dict:
    """Every metric of the pin on the day, as its status has it (no metrics before the pin existed)."""
    status = day_status(state, pin, day)
    if status == "BEFORE_PIN_CREATED":
        return {}
    h = digest(state.ds.seed, "pin_analytics", pin.id, day.toordinal())
    impressions = (h[0] << 8 | h[1]) % 2000
    counts = {
        "IMPRESSION": impressions,
        "PIN_CLICK": impressions * h[2] // 2560,
        "OUTBOUND_CLICK": impressions * h[3] // 5120,
        "SAVE": impressions * h[4] // 5120,
        "TOTAL_COMMENTS": h[5] % 4,
        "TOTAL_REACTIONS": h[6] % 10,
        "USER_FOLLOW": h[7] % 3,
        "PROFILE_VISIT": h[8] % 20,
    }
    if is_video(state.ds, pin):
        starts = impressions * h[9] // 512
        mrc = starts * h[10] // 256
        ten = mrc * h[11] // 256
        counts |= {
            "VIDEO_START": starts,
            "VIDEO_MRC_VIEW": mrc,
            "VIDEO_10S_VIEW": ten,
            "QUARTILE_95_PERCENT_VIEW": ten * h[12] // 256,
            "VIDEO_V50_WATCH_TIME": mrc * (h[13] + 1) * 10,
        }
    if status == "PROCESSING":  # partial: the day's numbers are still coming in
        counts = {name: value // 2 for name, value in counts.items()}
    return counts


def with_derived(counts: dict) -> dict:
    """Counts plus the rates and averages computed from them (for sums over days too)."""
    out = dict(counts)
    if "IMPRESSION" in counts:
        out["ENGAGEMENT"] = counts["SAVE"] + counts["PIN_CLICK"] + counts["OUTBOUND_CLICK"]
        for rate, count in RATES.items():
            out[rate] = _rate(out[count], counts["IMPRESSION"])
    if "VIDEO_START" in counts:
        out["VIDEO_AVG_WATCH_TIME"] = (
            round(counts["VIDEO_V50_WATCH_TIME"] / counts["VIDEO_START"], 2) if (counts["VIDEO_START"]) else 0
        )
    return out


def _days(state, start: date, end: date) -> list:
    return [start + timedelta(days=i) for i in range((min(end, state.today) - start).days + 1)]


def pin_body(state, pin, start: date, end: date, metric_types) -> dict:
    """One pin's {bucket: {daily_metrics, summary_metrics, lifetime_metrics}} for the requested metric types."""
    daily, total = [], {}
    for day in _days(state, start, end):
        counts = day_counts(state, pin, day)
        for name, value in counts.items():
            total[name] = total.get(name, 0) + value
        metrics = with_derived(counts)
        daily.append(
            {
                "date": day.isoformat(),
                "data_status": day_status(state, pin, day),
                "metrics": {m: metrics[m] for m in metric_types if m in metrics},
            }
        )
    summary = with_derived(total)
    lifetime = {m: summary[m] for m in ("TOTAL_COMMENTS", "TOTAL_REACTIONS") if m in summary}
    return {
        BUCKET: {
            "daily_metrics": daily,
            "summary_metrics": {m: summary[m] for m in metric_types if m in summary},
            "lifetime_metrics": lifetime,
        }
    }


def _window_totals(state, start: date, end: date, scopes: frozenset) -> dict:
    """pin id -> (pin, metrics summed over the window with rates), cached per window, scopes and data version."""
    key = (start, end, scopes, state.settings.organic_processing_days, len(state.ds.pins), id(state.ds.pins))
    cache = state.__dict__.setdefault("_top_pins_cache", {})
    # One computation per window: the rankings' requests come side by side (one per sort_by), and on the large
    # account each computation sums 60,000 pins x 90 days; computed by every request at once, they outlasted the
    # connector's read timeout and its retries started more of them.
    with state.__dict__.setdefault("_top_pins_lock", threading.Lock()):
        if key not in cache:
            totals = {}
            for pin in collect_pins(state, scopes, include_protected=True):
                total: dict = {}
                for day in _days(state, start, end):
                    for name, value in day_counts(state, pin, day).items():
                        total[name] = total.get(name, 0) + value
                totals[pin.id] = (pin, with_derived(total))
            cache.clear()
            cache[key] = totals
        return cache[key]


def top_pins_body(state, scopes, start, end, sort_by, metric_types, count, video: bool, created_since=None) -> dict:
    """The `count` pins with the highest `sort_by` over the window (ties: lower id first)."""
    ranked = []
    for pin, totals in _window_totals(state, start, end, scopes).values():
        if video and not is_video(state.ds, pin):
            continue
        if created_since is not None and created_day(pin) < created_since:
            continue
        ranked.append((-totals.get(sort_by, 0), int(pin.id), pin, totals))
    ranked.sort(key=lambda item: item[:2])
    days = _days(state, start, end)
    pins = [
        {
            "pin_id": pin.id,
            "metrics": {m: totals[m] for m in metric_types if m in totals},
            "data_status": {day.isoformat(): day_status(state, pin, day) for day in days},
        }
        for _, _, pin, totals in ranked[:count]
    ]
    last_ready = state.today - timedelta(days=state.settings.organic_processing_days)
    latest = int(datetime(last_ready.year, last_ready.month, last_ready.day, tzinfo=UTC).timestamp()) * 1000 - 1
    return {
        "date_availability": {"is_realtime": False, "latest_available_timestamp": latest},
        "pins": pins,
        "sort_by": sort_by,
    }


# -- the endpoints -----------------------------------------------------------------------------------------------


def _window(state, req: Request) -> tuple[date, date]:
    start = parse_date(req.one("start_date"), "start_date")
    end = parse_date(req.one("end_date"), "end_date")
    check_range(start, end, state.today, MAX_BACK, MAX_SPAN, "organic analytics")
    return start, end


def _choice(req: Request, name: str, allowed, required: bool = False):
    value = req.one(name)
    if value is None:
        if required:
            raise bad_param(f"Parameter '{name}' is required; one of {', '.join(allowed)}")
        return None
    if value not in allowed:
        raise bad_param(f"Parameter '{name}' must be one of {', '.join(allowed)} (got {value})")
    return value


def _metric_types(req: Request, allowed, required: bool) -> list:
    values = multi(req.query, "metric_types")
    if not values:
        if required:
            raise bad_param("Parameter 'metric_types' is required")
        return list(allowed)
    for value in values:
        if value not in allowed:
            raise bad_param(f"Invalid metric_types value '{value}'; allowed: {', '.join(allowed)}")
    return values


def token_scopes(state, req: Request) -> frozenset:
    return state.tokens.scopes_of(req.access_token)


def _visible_pin(state, req: Request, pin_id: str):
    pin = state.ds.get("pin", pin_id)
    scopes = token_scopes(state, req)
    if pin is None or not pin_visible(state, pin, scopes, True):
        raise ApiError(404, 50, "Pin not found.")
    return pin


def pin_analytics(state, req: Request) -> Response:
    start, end = _window(state, req)
    _choice(req, "app_types", APP_TYPES)
    split = _choice(req, "split_field", ("NO_SPLIT", "APP_TYPE")) or "NO_SPLIT"
    if split != "NO_SPLIT":
        raise bad_param("split_field APP_TYPE is not emulated; send NO_SPLIT or leave it out")
    metric_types = _metric_types(req, PIN_METRIC_TYPES, required=True)
    pin = _visible_pin(state, req, req.params["pin_id"])
    return Response(body=pin_body(state, pin, start, end, metric_types))


def multi_pin_analytics(state, req: Request) -> Response:
    """Beta: an app without access gets 403 (setting multi_pin_analytics=False). Unknown or hidden pins are left
    out of the answer; the others are keyed by pin id."""
    if not state.settings.multi_pin_analytics:
        raise ApiError(403, 29, "This endpoint is in beta and not available to this app.")
    ids = id_list(req.query, "pin_ids", limit=MAX_PINS_PER_CALL, required=True)
    start, end = _window(state, req)
    _choice(req, "app_types", APP_TYPES)
    metric_types = _metric_types(req, PIN_METRIC_TYPES, required=True)
    scopes = token_scopes(state, req)
    body = {}
    for pin_id in dict.fromkeys(ids):
        pin = state.ds.get("pin", pin_id)
        if pin is not None and pin_visible(state, pin, scopes, True):
            body[pin.id] = pin_body(state, pin, start, end, metric_types)
    return Response(body=body)


def _top(video: bool):
    sort_values = TOP_VIDEO_SORT_BY if video else TOP_PINS_SORT_BY
    metric_values = TOP_VIDEO_METRICS if video else TOP_PINS_METRICS

    def handler(state, req: Request) -> Response:
        start, end = _window(state, req)
        sort_by = _choice(req, "sort_by", sort_values, required=True)
        for name, allowed in TOP_PINS_OPTIONS.items():
            _choice(req, name, allowed)
        metric_types = _metric_types(req, metric_values, required=False)
        raw = req.one("num_of_pins", "10")
        if not raw.isdigit() or not 1 <= int(raw) <= 50:
            raise bad_param(f"Parameter 'num_of_pins' must be an integer from 1 to 50 (got {raw})")
        last_n = req.one("created_in_last_n_days")
        if last_n is not None and last_n != "30":
            raise bad_param(f"Parameter 'created_in_last_n_days' must be 30 (got {last_n})")
        since = state.today - timedelta(days=30) if last_n else None
        return Response(
            body=top_pins_body(
                state, token_scopes(state, req), start, end, sort_by, metric_types, int(raw), video, since
            )
        )

    return handler


ROUTES = [
    ("GET", "/pins/analytics", "org_analytics", multi_pin_analytics),
    ("GET", "/pins/{pin_id}/analytics", "org_analytics", pin_analytics),
    ("GET", "/user_account/analytics/top_pins", "org_analytics", _top(video=False)),
    ("GET", "/user_account/analytics/top_video_pins", "org_analytics", _top(video=True)),
]
