"""Ground truth for tests: exactly what a complete full-refresh sync must emit, per stream.

Built from the same collectors the endpoints use, without pagination, faults or auth. Organic content is what a
token with the emulator's granted scopes sees, asked as the connector asks: GET /pins with include_protected_pins
and pin_metrics, GET /boards/{id}/pins with pin_metrics (board_section_pins' endpoint takes no pin_metrics).
"""

from datetime import date

from . import render
from .analytics_rows import entity_rows
from .columns import live_columns, report_columns
from .dates import check_granularity, parse_date
from .endpoints_analytics import ID_ATTRIBUTE_COLUMNS, user_account_analytics_body
from .endpoints_entities import (
    account_children,
    collect_ad_groups,
    collect_ads,
    collect_board_pins,
    collect_campaigns,
    collect_keywords,
    collect_pins,
    collect_product_groups,
    collect_section_pins,
    visible_boards,
)
from .endpoints_organic import (
    PIN_METRIC_TYPES,
    TOP_PINS_METRICS,
    TOP_PINS_SORT_BY,
    TOP_VIDEO_METRICS,
    TOP_VIDEO_SORT_BY,
    pin_body,
    top_pins_body,
)
from .errors import bad_param
from .filters import DEFAULT_STATUSES
from .levels import ID_COLUMN, entities
from .metrics import MODELLED_COLUMNS
from .reports import LEVELS, iter_report_rows, report_rows

STREAMS = (
    "user_account",
    "boards",
    "board_sections",
    "board_section_pins",
    "board_pins",
    "pins",
    "ad_accounts",
    "campaigns",
    "ad_groups",
    "ads",
    "audiences",
    "customer_lists",
    "conversion_tags",
    "keywords",
    "catalogs",
    "catalogs_feeds",
    "catalogs_product_groups",
)
PER_ACCOUNT = {
    "campaigns": collect_campaigns,
    "ad_groups": collect_ad_groups,
    "ads": collect_ads,
    "audiences": account_children("audience"),
    "customer_lists": account_children("customer_list"),
    "conversion_tags": account_children("conversion_tag"),
}


def stream_records(state, stream: str, statuses=None) -> list:
    if stream not in STREAMS:
        raise bad_param(f"Unknown stream '{stream}'; known: {', '.join(STREAMS)}")
    ds = state.ds
    wanted = list(statuses or DEFAULT_STATUSES)
    query = {"entity_statuses": wanted}

    def out(nodes) -> list:
        return [render.render(ds, n) for n in nodes]

    if stream == "user_account":
        return [render.user_account(ds)]
    scopes = frozenset(state.tokens.scopes.split(","))
    boards = visible_boards(state, scopes)
    if stream == "boards":
        return out(boards)
    if stream == "board_sections":
        return [{**render.section(ds, s), "board_id": b.id} for b in boards for s in ds.kids("section", b.id)]
    if stream == "board_section_pins":
        return out(
            [p for b in boards for s in ds.kids("section", b.id) for p in collect_section_pins(state, s, scopes)]
        )
    if stream == "board_pins":
        cap = state.settings.board_pins_cap
        pins = [p for b in boards for p in collect_board_pins(state, b, scopes)[:cap]]
        return [render.pin_with_metrics(ds, p) for p in pins]
    if stream == "pins":
        return [render.pin_with_metrics(ds, p) for p in collect_pins(state, scopes, include_protected=True)]
    if stream == "ad_accounts":
        return out(ds.accounts)
    if stream in PER_ACCOUNT:
        return out([n for a in ds.accounts for n in PER_ACCOUNT[stream](state, a, query)])
    if stream == "keywords":
        nodes = []
        for account in ds.accounts:
            nodes += collect_keywords(state, account, {})
            for group in collect_ad_groups(state, account, query):
                nodes += collect_keywords(state, account, {"ad_group_id": [group.id]})
        return out(nodes)
    if stream == "catalogs":
        return out(ds.catalogs if ds.has_catalog else [])
    if stream == "catalogs_feeds":
        return out(ds.feeds if ds.has_catalog else [])
    return out(collect_product_groups(state, {}) if ds.has_catalog else [])


def _range(state, query: dict) -> tuple[date, date, str]:
    start = parse_date(query.get("start_date") or (state.today.replace(day=1)).isoformat(), "start_date")
    end = parse_date(query.get("end_date") or state.today.isoformat(), "end_date")
    return start, end, check_granularity(query.get("granularity") or "DAY")


def analytics_rows(state, query: dict) -> list:
    """Live-analytics rows of every entity of a level, all statuses, all modelled live columns."""
    level = query.get("level") or "AD_ACCOUNT"
    if level not in ID_COLUMN:
        raise bad_param(f"Unknown level '{level}'; known: {', '.join(ID_COLUMN)}")
    start, end, granularity = _range(state, query)
    columns = sorted(MODELLED_COLUMNS & live_columns())
    id_attrs = [c for c in query.get("id_columns", "").split(",") if c in ID_ATTRIBUTE_COLUMNS]
    ds = state.ds
    return [
        row
        for a in ds.accounts
        for n in entities(ds, level, a.id)
        for row in entity_rows(ds, level, n, start, end, granularity, columns, id_attrs)
    ]


def report_truth_rows(state, query: dict) -> list:
    """Flattened rows of the async report of a level across all ad accounts (all modelled report columns)."""
    spec = _report_spec(state, query)
    return [row for a in state.ds.accounts for rows in report_rows(state, a.id, spec).values() for row in rows]


def report_truth_summary(state, query: dict) -> dict:
    """What report_truth_rows would return, counted without holding it: rows per account and the sum of every
    integer column, for checking syncs of reports too big to compare row by row."""
    spec = _report_spec(state, query)
    by_account: dict = {}
    sums: dict = {}
    for account in state.ds.accounts:
        count = 0
        for _, rows in iter_report_rows(state, account.id, spec):
            for row in rows:
                count += 1
                for name, value in row.items():
                    if type(value) is int:
                        sums[name] = sums.get(name, 0) + value
        by_account[account.id] = count
    return {"row_count": sum(by_account.values()), "row_count_by_account": by_account, "sums": sums}


def _report_spec(state, query: dict) -> dict:
    level = query.get("level") or "CAMPAIGN"
    if level not in LEVELS:
        raise bad_param(f"Unknown level '{level}'; known: {', '.join(LEVELS)}")
    start, end, granularity = _range(state, query)
    spec = {
        "level": level,
        "granularity": granularity,
        "start": start,
        "end": end,
        "columns": query.get("columns", "").split(",")
        if query.get("columns")
        else sorted(MODELLED_COLUMNS & report_columns()),
        "targeting_types": query.get("targeting_types", "APPTYPE").split(","),
    }
    if query.get("report_scale"):
        spec["report_scale"] = int(query["report_scale"])
    return spec


def user_account_analytics(state, query: dict) -> dict:
    start, end, _ = _range(state, query)
    return user_account_analytics_body(state, start, end)


def pin_analytics(state, query: dict) -> dict:
    """{"rows": [{pin_id, date, data_status, metrics}]}: every day of every pin the token sees (as GET /pins lists
    them), every pin metric type, for start_date..end_date."""
    start, end, _ = _range(state, query)
    scopes = frozenset(state.tokens.scopes.split(","))
    rows = []
    for pin in collect_pins(state, scopes, include_protected=True):
        for bucket in pin_body(state, pin, start, end, PIN_METRIC_TYPES).values():
            rows += [{"pin_id": pin.id, **day} for day in bucket["daily_metrics"]]
    return {"rows": rows}


def top_pins(state, query: dict) -> dict:
    """{sort_by: answer} of top_pins (video=true: top_video_pins) for start_date..end_date, every metric type,
    `num_of_pins` (default 50) pins per ranking."""
    start, end, _ = _range(state, query)
    video = str(query.get("video", "")).lower() in ("1", "true")
    count = int(query.get("num_of_pins") or 50)
    scopes = frozenset(state.tokens.scopes.split(","))
    sorts, metrics = (TOP_VIDEO_SORT_BY, TOP_VIDEO_METRICS) if video else (TOP_PINS_SORT_BY, TOP_PINS_METRICS)
    return {s: top_pins_body(state, scopes, start, end, s, metrics, count, video) for s in sorts}
