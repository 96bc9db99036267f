"""The fewest API calls a sync of the emulator's data needs, and the wall time no sync can beat.

Pinterest's published limits applied to the ground truth: list pages of 250, analytics calls of 250 ids and 90 days,
async reports of 186 days (PRODUCT_ITEM 31) as one create, the polls the emulator answers before FINISHED, and one
download. Every stream is assumed selected, so one listing of every status serves both the campaigns / ad groups / ads
streams, the analytics streams that need their ids and the keywords read per campaign and ad group. Keywords are read
per campaign (`campaign_id`) and per ad group (`ad_group_id`), the one way the spec documents for keywords whose
parent is not the account; the beta `ad_group_ids` batch is not counted as available. Audiences take two listings
per account (owned, received); the catalog streams one for the user's own and one per other owner of the ad
accounts (Business Access). Product group analytics ask each ad account about the product groups of its owner's
catalogs (that listing is the only source of their ids), 250 a call.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .endpoints_analytics import LIVE_MAX_BACK, LIVE_MAX_SPAN
from .pagination import MAX_PAGE_SIZE
from .reports import LIMITS_DEFAULT, LIMITS_PRODUCT_ITEM

IDS_PER_ANALYTICS_CALL = 250
PINS_PER_ANALYTICS_CALL = 100  # GET /pins/analytics (beta) takes at most 100 pin_ids
# The rankings: one call per sort_by value over the sync window (full refresh, whatever the state).
TOP_PINS_CALLS = {"user_account_top_pins": 5, "user_account_top_video_pins": 9}
ALL_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT")
DOWNLOAD = "download"  # report files come from storage, outside every rate-limit category
TOKEN = "(token refresh)"
# GET /resources/metrics_ready_state: counted by whichever ads metrics stream asks first (metrics/readiness.py).
READINESS = "(metrics readiness)"

# Records of one ground-truth stream: (stream, statuses or None for the configured default) -> records.
Truth = Callable[[str, Sequence[str] | None], list]


def pages(count: int) -> int:
    """Calls to list `count` items at the largest page size; an empty list still costs one call."""
    return max(1, math.ceil(count / MAX_PAGE_SIZE))


def window_ends(start: dt.date, end: dt.date, max_days: int) -> list[dt.date]:
    """The last day of each request when [start, end] is cut into requests of at most `max_days` days."""
    ends, cursor = [], start
    while cursor <= end:
        last = min(end, cursor + dt.timedelta(days=max_days - 1))
        ends.append(last)
        cursor = last + dt.timedelta(days=1)
    return ends


@dataclass(frozen=True)
class Metrics:
    """What the metrics streams read, as plain data: analytics stream -> the entity listing its ids come from
    (None: the ad account itself), report stream -> (level, report jobs per window)."""

    analytics: Mapping[str, str | None]
    reports: Mapping[str, tuple[str, int]]
    user_account_analytics: bool = True
    pin_analytics: bool = True  # every pin of the pins listing, 100 a call (the multi-pin endpoint available)
    top_pins: Mapping[str, int] = field(default_factory=lambda: dict(TOP_PINS_CALLS))  # stream -> calls


@dataclass(frozen=True)
class SyncRange:
    """The days a sync asks for: from `start` (or, incremental, `lookback_days` before the saved end) to `today`."""

    today: dt.date
    start: dt.date
    incremental: bool = False
    lookback_days: int = 30
    # The sync before this one finished less than an hour ago (state.RESUME_WINDOW): the connector takes this one for
    # an attempt of it started again, and a metrics partition whose pass is complete reads nothing.
    just_after: bool = False

    def first_day(self, days_back: int) -> dt.date:
        # "At most N days back" counts today as one of them, as the connector reads it (source_pinterest.metrics.windows.earliest_allowed).
        first = max(self.start, self.today - dt.timedelta(days=days_back - 1))
        if self.incremental and self.just_after:
            return self.today + dt.timedelta(days=1)  # nothing left to read
        if self.incremental:  # a finished sync before this one read up to today: a new pass re-reads the look-back
            first = max(first, self.today - dt.timedelta(days=self.lookback_days))
        return first


@dataclass
class Plan:
    """Calls per stream and rate-limit category, and the longest run of calls that must follow one another."""

    calls: dict[str, Counter] = field(default_factory=dict)
    chain: int = 0

    def add(self, stream: str, category: str, count: int) -> None:
        self.calls.setdefault(stream, Counter())[category] += count

    def per_stream(self) -> dict[str, int]:
        return {stream: sum(counter.values()) for stream, counter in self.calls.items()}

    def per_category(self) -> Counter:
        total: Counter = Counter()
        for counter in self.calls.values():
            total.update(counter)
        return total

    def total(self, include_downloads: bool = True) -> int:
        counts = self.per_category()
        return sum(n for category, n in counts.items() if include_downloads or category != DOWNLOAD)


def minimum_calls(
    truth: Truth, metrics: Metrics, dates: SyncRange, report_polls: int, one_page_per_listing: bool = False
) -> Plan:
    """The plan of the fewest calls. `one_page_per_listing` prices every listing at one page instead (the issue's
    goal for an incremental sync with no changes); the metrics calls are the same either way."""
    page_cost = (lambda count: 1) if one_page_per_listing else pages
    plan = Plan()
    plan.add(TOKEN, "org_read", 1)
    org_chain = _organic(plan, truth, page_cost)
    ads_chain = _ads(plan, truth, metrics, dates, report_polls, page_cost)
    shared_through = _business_access_accounts(truth)
    for name in ("catalogs", "catalogs_feeds", "catalogs_product_groups"):
        # The user's own, then one listing per other owner of the ad accounts (their records name the account).
        via = Counter(record.get("business_access_ad_account_id") for record in truth(name, None))
        plan.add(name, "catalogs_read", page_cost(via[None]) + sum(page_cost(via[a]) for a in shared_through))
    live = window_ends(dates.first_day(LIVE_MAX_BACK), dates.today, LIVE_MAX_SPAN)
    if metrics.user_account_analytics:
        plan.add("user_account_analytics", "org_analytics", len(live))
    if metrics.pin_analytics:
        pins = truth("pins", None)
        plan.add("pin_analytics", "org_analytics", sum(_pin_batches(pins, end) for end in live))
        org_chain = max(org_chain, page_cost(len(pins)) + 1)  # the listing, then the pins' analytics
    for name, calls in metrics.top_pins.items():
        plan.add(name, "org_analytics", calls)
    plan.chain = 1 + max(1, org_chain, ads_chain)
    return plan


def _organic(plan: Plan, truth: Truth, page_cost: Callable[[int], int]) -> int:
    """Boards, sections and pins; returns the longest chain of dependent calls among them."""
    boards = truth("boards", None)
    sections = truth("board_sections", None)
    sections_of = _group(sections, "board_id")
    pins_of_board = Counter(pin["board_id"] for pin in truth("board_pins", None))
    pins_of_section = Counter(pin["board_section_id"] for pin in truth("board_section_pins", None))
    plan.add("user_account", "org_read", 1)
    plan.add("boards", "org_read", page_cost(len(boards)))
    plan.add("board_sections", "org_read", sum(page_cost(len(sections_of[b["id"]])) for b in boards))
    plan.add("board_pins", "org_read", sum(page_cost(pins_of_board[b["id"]]) for b in boards))
    plan.add("board_section_pins", "org_read", sum(page_cost(pins_of_section[s["id"]]) for s in sections))
    pins = page_cost(len(truth("pins", None)))
    plan.add("pins", "org_read", pins)
    per_board = [
        max(
            page_cost(pins_of_board[b["id"]]),
            page_cost(len(sections_of[b["id"]]))
            + max((page_cost(pins_of_section[s["id"]]) for s in sections_of[b["id"]]), default=0),
        )
        for b in boards
    ]
    return max(pins, page_cost(len(boards)) + max(per_board, default=0))


def _ads(
    plan: Plan, truth: Truth, metrics: Metrics, dates: SyncRange, report_polls: int, page_cost: Callable[[int], int]
) -> int:
    """Ad accounts, their entities, analytics and reports; returns the longest chain of dependent calls."""
    accounts = [a["id"] for a in truth("ad_accounts", None)]
    plan.add("ad_accounts", "ads_read", page_cost(len(accounts)))
    chains = [0]
    # Every status: the entity streams filter the configured statuses out of the listing the analytics need.
    listed = {name: _group(truth(name, ALL_STATUSES), "ad_account_id") for name in ("campaigns", "ad_groups", "ads")}
    for name, by_account in listed.items():
        listing_pages = [page_cost(len(by_account[a])) for a in accounts]
        plan.add(name, "ads_read", sum(listing_pages))
        chains += [p + 1 for p in listing_pages]  # + the analytics call that needs the ids
    for name in ("customer_lists", "lead_forms"):
        by_account = _group(truth(name, None), "ad_account_id")
        plan.add(name, "ads_read", sum(page_cost(len(by_account[a])) for a in accounts))
    # Two listings per account: its own audiences, and those shared with it (ownership_type=RECEIVED).
    audiences = truth("audiences", None)
    owned = Counter(r.get("ad_account_id") for r in audiences if r.get("ownership_type") != "RECEIVED")
    received = Counter(r.get("shared_with_ad_account_id") for r in audiences if r.get("ownership_type") == "RECEIVED")
    plan.add("audiences", "ads_read", sum(page_cost(owned[a]) + page_cost(received[a]) for a in accounts))
    plan.add("conversion_tags", "ads_read", len(accounts))  # not paginated
    # Keywords: the account's own, then per campaign and per ad group of every status (the listings above).
    keywords_of = Counter(k["parent_id"] for k in truth("keywords", None))
    parents = {name: listed[name] for name in ("campaigns", "ad_groups")}
    plan.add(
        "keywords",
        "ads_read",
        sum(page_cost(keywords_of[a]) for a in accounts)
        + sum(
            page_cost(keywords_of[p["id"]]) for by_account in parents.values() for a in accounts for p in by_account[a]
        ),
    )
    chains += [
        page_cost(len(by_account[a])) + max((page_cost(keywords_of[p["id"]]) for p in by_account[a]), default=0)
        for by_account in parents.values()
        for a in accounts
    ]
    live = window_ends(dates.first_day(LIVE_MAX_BACK), dates.today, LIVE_MAX_SPAN)
    for name, listing in metrics.analytics.items():
        if listing is None:
            plan.add(name, "ads_analytics", len(accounts) * len(live))
            continue
        if listing not in listed:  # a catalog listing: its records name no ad account, the owner's are asked
            listed[listing] = _owners_records(truth, listing)
            owners = _group(truth(listing, None), "business_access_ad_account_id").values()
            chains.append(max((page_cost(len(records)) for records in owners), default=1) + 1)
        for account in accounts:
            created = [e.get("created_time") for e in listed[listing][account]]
            plan.add(name, "ads_analytics", sum(_id_batches(created, end) for end in live))
    ads_metrics_read = any(sum(plan.calls.get(name, Counter()).values()) for name in metrics.analytics)
    per_report = 1 + (report_polls + 1)  # create, then polls until the one that answers FINISHED
    for name, (level, jobs_per_window) in metrics.reports.items():
        days_back, max_days = LIMITS_PRODUCT_ITEM if level.startswith("PRODUCT_ITEM") else LIMITS_DEFAULT
        jobs = len(window_ends(dates.first_day(days_back), dates.today, max_days)) * jobs_per_window * len(accounts)
        plan.add(name, "ads_analytics", jobs * per_report)
        plan.add(name, DOWNLOAD, jobs)
        chains.append(per_report + 1)
        ads_metrics_read = ads_metrics_read or jobs > 0
    if ads_metrics_read:  # once per sync, shared by the streams: today is final here (metrics/readiness.py)
        plan.add(READINESS, "ads_analytics", 1)
    return page_cost(len(accounts)) + max(chains)


# The Business Access roles on an ad account that let the token user read its owner's catalogs (catalogs/list).
CATALOG_ROLES = frozenset({"OWNER", "ADMIN", "CATALOGS_MANAGER"})


def _business_access_accounts(truth: Truth) -> list[str]:
    """One ad account per owner other than the token user, where the user holds a role that reads catalogs: the
    fewest listings that reach every catalog shared through Business Access."""
    users = truth("user_account", None)
    user_id = users[0].get("id") if users else None
    chosen: dict[str, str] = {}
    for account in truth("ad_accounts", None):
        owner = (account.get("owner") or {}).get("id")
        if (
            owner is not None
            and owner != user_id
            and owner not in chosen
            and CATALOG_ROLES & set(account.get("permissions") or ())
        ):
            chosen[owner] = account["id"]
    return list(chosen.values())


def _owners_records(truth: Truth, listing: str) -> defaultdict[str, list]:
    """Per ad account, the records of a catalog listing that its owner owns: the user's own (listed without an ad
    account) for the user's accounts, those listed through an account of the same owner for the others."""
    users = truth("user_account", None)
    user_id = users[0].get("id") if users else None
    owner_of = {a["id"]: (a.get("owner") or {}).get("id") or user_id for a in truth("ad_accounts", None)}
    by_owner = _group(truth(listing, None), "business_access_ad_account_id")
    by_account: defaultdict[str, list] = defaultdict(list)
    for account, owner in owner_of.items():
        by_account[account] = [
            r for via, records in by_owner.items() for r in records if owner_of.get(via, user_id) == owner
        ]
    return by_account


def _id_batches(created_times: Iterable[int | None], window_end: dt.date) -> int:
    """Analytics calls for the entities that existed by the window's last day (later ones have no data in it)."""
    limit = dt.datetime.combine(window_end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC).timestamp()
    existing = sum(1 for t in created_times if not isinstance(t, (int, float)) or t < limit)
    return math.ceil(existing / IDS_PER_ANALYTICS_CALL)


def _pin_batches(pins: Iterable[Mapping], window_end: dt.date) -> int:
    """Multi-pin analytics calls for the pins created by the window's last day (an unknown creation counts)."""
    existing = sum(1 for pin in pins if not str(pin.get("created_at") or "")[:10] > window_end.isoformat())
    return math.ceil(existing / PINS_PER_ANALYTICS_CALL)


def _group(records: Iterable[Mapping], key: str) -> defaultdict[str, list]:
    """Records by one field; an absent value is an empty group."""
    grouped: defaultdict[str, list] = defaultdict(list)
    for record in records:
        grouped[record.get(key)].append(record)
    return grouped


def lower_bound_seconds(
    per_category: Mapping[str, int], limits_per_minute: Mapping[str, int], chain: int, latency_seconds: float
) -> tuple[float, str]:
    """The least wall time any sync of these calls can take, and which limit sets it.

    The emulator's windows are fixed minutes from a category's first call, so its N-th call cannot start before
    60 s x floor((N - 1) / limit). Calls that depend on each other (token, listing, page after page) cannot overlap,
    so the longest such chain costs its length x latency."""
    bounds = {"chain": (chain * latency_seconds, f"{chain} dependent calls x {latency_seconds * 1000:.0f} ms")}
    for category, count in per_category.items():
        limit = limits_per_minute.get(category)
        if not limit or count <= 0:
            continue
        seconds = 60.0 * ((count - 1) // limit) + latency_seconds
        bounds[category] = (seconds, f"{category}: {count} calls at {limit}/min")
    seconds, reason = max(bounds.values())
    return seconds, reason
