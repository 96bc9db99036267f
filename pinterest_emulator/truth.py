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
    collect_audiences,
    collect_board_pins,
    collect_campaigns,
    collect_catalogs,
    collect_feeds,
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
from .errors import ApiError, bad_param
from .filters import DEFAULT_STATUSES, ENTITY_STATUSES
from .levels import ID_COLUMN, entities
from .metrics import MODELLED_COLUMNS
from .reports import LEVELS, check_targeting_types, iter_report_rows, report_rows

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
    "lead_forms",
    "catalogs",
    "catalogs_feeds",
    "catalogs_product_groups",
)
PER_ACCOUNT = {
    "campaigns": collect_campaigns,
    "ad_groups": collect_ad_groups,
    "ads": collect_ads,
    "customer_lists": account_children("customer_list"),
    "conversion_tags": account_children("conversion_tag"),
    "lead_forms": account_children("lead_form"),
}
ALL_STATUSES = {"entity_statuses": list(ENTITY_STATUSES)}


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
    if stream == "audiences":
        # Owned and received, each marked as the connector marks it.
        return [
            {**render.render(ds, n), "ownership_type": ownership, "shared_with_ad_account_id": shared_with}
            for a in ds.accounts
            for ownership, shared_with in (("OWNED", None), ("RECEIVED", a.id))
            for n in collect_audiences(state, a, {"ownership_type": [ownership]})
        ]
    if stream == "keywords":
        # The account's own, every campaign's and every ad group's of every status: the status filter says which
        # campaigns and ad groups to sync, not which keywords exist.
        nodes = []
        for account in ds.accounts:
            nodes += collect_keywords(state, account, {})
            for campaign in collect_campaigns(state, account, ALL_STATUSES):
                nodes += collect_keywords(state, account, {"campaign_id": [campaign.id]})
            for group in collect_ad_groups(state, account, ALL_STATUSES):
                nodes += collect_keywords(state, account, {"ad_group_id": [group.id]})
        return [{**render.render(ds, n), "ad_account_id": n.account} for n in nodes]
    # Catalogs: the user's own and those every ad account's owner shares through Business Access, once each.
    # Those listed through an ad account name it in business_access_ad_account_id, as the connector adds it.
    collect = {"catalogs": collect_catalogs, "catalogs_feeds": collect_feeds}.get(stream, _product_groups_or_none)
    unique: dict = {n.id: (n, None) for n in collect(state, {})}
    for account in ds.accounts:
        for n in collect(state, {"ad_account_id": [account.id]}):
            unique.setdefault(n.id, (n, account.id))
    return [
        {**render.render(ds, n), "business_access_ad_account_id": via}
        for n, via in sorted(unique.values(), key=lambda pair: int(pair[0].id))
    ]


def _product_groups_or_none(state, query) -> list:
    """The product groups a catalogs call lists; none where the API answers 409 (no catalog)."""
    try:
        return collect_product_groups(state, query)
    except ApiError:
        return []


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
        for n in _listable(state, level, a.id, entities(ds, level, a.id))
        for row in entity_rows(ds, level, n, start, end, granularity, columns, id_attrs)
    ]


def _listable(state, level: str, account_id: str, nodes: list) -> list:
    """The entities a client can ask a live endpoint about: for product groups, those of the catalogs the account's
    owner lists (GET /catalogs/product_groups?ad_account_id=...), the only place their ids come from. The data
    has the user's product groups promoted by the partner's account too, which no listing can reach."""
    if level != "PRODUCT_GROUP":
        return nodes
    listed = {n.id for n in _product_groups_or_none(state, {"ad_account_id": [account_id]})}
    return [n for n in nodes if n.id in listed]


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
    if level.endswith("_TARGETING"):
        # Any number of types: the truth of a stream that splits them over several reports is the union of those.
        check_targeting_types(level, spec["targeting_types"])
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
