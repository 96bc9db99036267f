"""Synchronous analytics: GET .../analytics for account, campaigns, ad groups, ads, product groups, and
user_account/analytics."""

from datetime import timedelta

from . import metrics
from .analytics_rows import entity_rows
from .columns import live_columns
from .dates import check_granularity, check_range, check_window, parse_date
from .endpoints_entities import account_of
from .errors import bad_param
from .filters import id_list, multi
from .hashing import digest
from .request import Request, Response

LIVE_MAX_BACK, LIVE_MAX_SPAN = 90, 90
HOUR_MAX_BACK, HOUR_MAX_SPAN = 8, 3
CONVERSION_REPORT_TIMES = ("TIME_OF_AD_ACTION", "TIME_OF_CONVERSION")
ID_ATTRIBUTE_COLUMNS = (
    "AD_ACCOUNT_ID",
    "ADVERTISER_ID",
    "CAMPAIGN_ID",
    "AD_GROUP_ID",
    "AD_ID",
    "PIN_ID",
    "PIN_PROMOTION_ID",
)


def parse_live(state, req: Request):
    """Validate the parameters every live analytics GET shares; return (start, end, granularity, columns)."""
    start = parse_date(req.one("start_date"), "start_date")
    end = parse_date(req.one("end_date"), "end_date")
    granularity = check_granularity(req.one("granularity"))
    columns = multi(req.query, "columns")
    if not columns:
        raise bad_param("Parameter 'columns' is required")
    for column in columns:
        if column not in live_columns():
            raise bad_param(f"Invalid column '{column}' in parameter 'columns'")
    for window in ("click_window_days", "engagement_window_days", "view_window_days"):
        check_window(req.one(window), window)
    crt = req.one("conversion_report_time")
    if crt is not None and crt not in CONVERSION_REPORT_TIMES:
        raise bad_param(f"Parameter 'conversion_report_time' must be one of {', '.join(CONVERSION_REPORT_TIMES)}")
    if granularity == "HOUR":
        check_range(start, end, state.today, HOUR_MAX_BACK, HOUR_MAX_SPAN, "HOUR granularity")
    else:
        check_range(start, end, state.today, LIVE_MAX_BACK, LIVE_MAX_SPAN, "analytics")
    return start, end, granularity, columns


def _rows(state, level, nodes, start, end, granularity, columns) -> list:
    id_attrs = [c for c in columns if c in ID_ATTRIBUTE_COLUMNS]
    return [row for n in nodes for row in entity_rows(state.ds, level, n, start, end, granularity, columns, id_attrs)]


def _owned(state, kind: str, ids: list, account) -> list:
    """Requested entities that exist in this account; unknown ids simply produce no rows."""
    nodes = [state.ds.get(kind, i) for i in ids]
    return [n for n in nodes if n is not None and n.account == account.id]


def account_analytics(state, req: Request) -> Response:
    account = account_of(state, req)
    start, end, granularity, columns = parse_live(state, req)
    return Response(body=_rows(state, "AD_ACCOUNT", [account], start, end, granularity, columns))


def ad_analytics(state, req: Request) -> Response:
    """ad_ids, or campaign_ids (optionally narrowed by pin_ids)."""
    account = account_of(state, req)
    ad_ids = id_list(req.query, "ad_ids")
    campaign_ids = id_list(req.query, "campaign_ids")
    pin_ids = set(id_list(req.query, "pin_ids", limit=100))
    if not ad_ids and not campaign_ids:
        raise bad_param("Parameter 'ad_ids' (or 'campaign_ids' with 'pin_ids') is required")
    start, end, granularity, columns = parse_live(state, req)
    if ad_ids:
        nodes = _owned(state, "ad", ad_ids, account)
    else:
        ds = state.ds
        nodes = [
            a
            for c in _owned(state, "campaign", campaign_ids, account)
            for g in ds.kids("ad_group", c.id)
            for a in ds.kids("ad", g.id)
        ]
        if pin_ids:
            nodes = [a for a in nodes if str(394_000_000_000_000_000 + a.n) in pin_ids]
    return Response(body=_rows(state, "AD", nodes, start, end, granularity, columns))


def _analytics_of(kind: str, level: str, ids_param: str):
    """GET .../<kind>s/analytics: `ids_param` (1-250, required), rows of those ids the account owns or promotes."""

    def analytics(state, req: Request) -> Response:
        account = account_of(state, req)
        ids = id_list(req.query, ids_param, required=True)
        start, end, granularity, columns = parse_live(state, req)
        nodes = _owned(state, kind, ids, account)
        return Response(body=_rows(state, level, nodes, start, end, granularity, columns))

    return analytics


campaign_analytics = _analytics_of("campaign", "CAMPAIGN", "campaign_ids")
ad_group_analytics = _analytics_of("ad_group", "AD_GROUP", "ad_group_ids")
# The catalogs' product groups; rows for those the account promotes.
product_group_analytics = _analytics_of("product_group", "PRODUCT_GROUP", "product_group_ids")


# --- organic: user_account/analytics ----------------------------------------------------------------------------

USER_METRICS = ("IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK", "ENGAGEMENT")


def user_day_metrics(ds, day) -> dict:
    h = digest(ds.seed, "user_analytics", day.toordinal())
    impressions = 500 + (h[0] << 8 | h[1]) % 20000
    counts = {
        "IMPRESSION": impressions,
        "SAVE": impressions * h[2] // 25600,
        "PIN_CLICK": impressions * h[3] // 12800,
        "OUTBOUND_CLICK": impressions * h[4] // 25600,
    }
    counts["ENGAGEMENT"] = counts["SAVE"] + counts["PIN_CLICK"] + counts["OUTBOUND_CLICK"]
    return counts


def _with_rates(counts: dict) -> dict:
    out = dict(counts)
    imp = counts["IMPRESSION"]
    for name in ("SAVE", "PIN_CLICK", "OUTBOUND_CLICK", "ENGAGEMENT"):
        out[f"{name}_RATE"] = round(counts[name] / imp, 6) if imp else 0
    return out


def user_account_analytics_body(state, start, end) -> dict:
    daily, total = [], dict.fromkeys(USER_METRICS, 0)
    day = start
    while day <= end:
        if day <= state.today:
            counts = user_day_metrics(state.ds, day)
            for k, v in counts.items():
                total[k] += v
            daily.append({"date": day.isoformat(), "data_status": "READY", "metrics": _with_rates(counts)})
        day += timedelta(days=1)
    return {"all": {"daily_metrics": daily, "summary_metrics": _with_rates(total)}}


def user_account_analytics(state, req: Request) -> Response:
    start = parse_date(req.one("start_date"), "start_date")
    end = parse_date(req.one("end_date"), "end_date")
    check_range(start, end, state.today, LIVE_MAX_BACK, LIVE_MAX_SPAN, "user account analytics")
    return Response(body=user_account_analytics_body(state, start, end))


# --- GET /resources/metrics_ready_state -------------------------------------------------------------------------


def metrics_ready_state(state, req: Request) -> Response:
    """Whether a day's conversion and non-conversion metrics are final (the spec's BookClosedResponse)."""
    day = parse_date(req.one("date"), "date")
    conversion, non_conversion = state.metrics_ready(day)
    return Response(body={"conversion_metrics_ready": conversion, "non_conversion_metrics_ready": non_conversion})


ROUTES = [
    ("GET", "/ad_accounts/{ad_account_id}/analytics", "ads_analytics", account_analytics),
    ("GET", "/ad_accounts/{ad_account_id}/campaigns/analytics", "ads_analytics", campaign_analytics),
    ("GET", "/ad_accounts/{ad_account_id}/ad_groups/analytics", "ads_analytics", ad_group_analytics),
    ("GET", "/ad_accounts/{ad_account_id}/ads/analytics", "ads_analytics", ad_analytics),
    ("GET", "/ad_accounts/{ad_account_id}/product_groups/analytics", "ads_analytics", product_group_analytics),
    ("GET", "/user_account/analytics", "org_analytics", user_account_analytics),
    ("GET", "/resources/metrics_ready_state", "ads_analytics", metrics_ready_state),
]

MODELLED_LIVE_COLUMNS = tuple(sorted(metrics.MODELLED_COLUMNS & live_columns()))
