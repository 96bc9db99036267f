"""Deterministic dataset generation: same seed + size + today gives the same data.

One sequential Random drives structure (counts, parents, statuses, times); record
details are derived later per id in render.py. Ids grow with creation time, as on
Pinterest, so newly created entities (see mutate.py) always get higher ids.
"""

import random

from .hashing import stable_int
from .model import Dataset, Node
from .sizes import SIZES

DAY = 86400
HISTORY_DAYS = 3 * 365  # entities are created across the last ~3 years

# Kinds whose `status` is an ads EntityStatus, and the weights of each status.
AD_STATUS_WEIGHTS = (("ACTIVE", 45), ("PAUSED", 27), ("ARCHIVED", 23), ("DRAFT", 5))
ID_BASE = {
    "account": 549_755_000_000,
    "campaign": 626_700_000_000_000_000,
    "ad_group": 268_000_000_000_000_000,
    "ad": 687_100_000_000_000_000,
    "audience": 254_000_000_000_000_000,
    "customer_list": 643_000_000_000_000_000,
    "conversion_tag": 261_700_000_000_000_000,
    "keyword": 383_700_000_000_000_000,
    "board": 549_700_000_000_000_000,
    "section": 550_000_000_000_000_000,
    "pin": 394_200_000_000_000_000,
    "catalog": 864_300_000_000_000_000,
    "feed": 268_100_000_000_000_000,
    "product_group": 443_700_000_000_000_000,
    "lead_form": 776_500_000_000_000_000,
    "received_audience": 254_900_000_000_000_000,
}
# Every third campaign carries campaign-level (negative) keywords.
CAMPAIGN_KEYWORDS_EVERY = 3


def make_id(seed: int, kind: str, n: int) -> str:
    """The n-th id of a kind: increasing in n, with seed-dependent low digits."""
    step = 1000
    return str(ID_BASE[kind] + n * step + stable_int(seed, kind, n) % step)


class _Builder:
    """Holds the sequential Random and the dataset while generating."""

    def __init__(self, seed: int, size: str, today_epoch: int):
        self.r = random.Random(stable_int("dataset", seed, size))
        self.spec = SIZES[size]
        self.ds = Dataset(seed=seed, size=size, today_epoch=today_epoch, flight_share=self.spec.flight_share)

    def time_after(self, lo: int) -> int:
        """A creation time in [lo, yesterday end): nothing is created "today" until mutated."""
        hi = self.ds.today_epoch - 1
        return lo + int(self.r.random() * max(1, hi - lo))

    def ad_status(self) -> str:
        statuses, weights = zip(*AD_STATUS_WEIGHTS, strict=True)
        return self.r.choices(statuses, weights)[0]

    def spawn(self, kind: str, drafts: list) -> list:
        """Turn (created, parent, account, status, extra) drafts into id-ordered nodes."""
        drafts.sort(key=lambda d: d[0])
        nodes = []
        for created, parent, account, status, extra in drafts:
            n = self.ds.counters.get(kind, 0)
            self.ds.counters[kind] = n + 1
            updated = self.time_after(created)
            node = Node(kind, make_id(self.ds.seed, kind, n), n, parent, account, status, created, updated, None, extra)
            nodes.append(self.ds.add(node))
        return nodes


def generate(seed: int, size: str, today_epoch: int, has_catalog: bool = True) -> Dataset:
    """Build the whole dataset; fast enough for the large size (a few seconds at most)."""
    b = _Builder(seed, size, today_epoch)
    ds, spec, r = b.ds, b.spec, b.r
    start = today_epoch - HISTORY_DAYS * DAY
    ds.has_catalog = has_catalog
    ds.user = {"username": f"emulated_user_{seed}", "id": make_id(seed, "pin", 10**12)}

    accounts = b.spawn(
        "account", [(start + r.randint(0, 30 * DAY), "user", None, None, None) for _ in range(spec.accounts)]
    )
    for acc in accounts:
        acc.account = acc.id
    ds.accounts = accounts
    ds.no_catalog_account = accounts[-1].id

    campaigns = b.spawn(
        "campaign",
        [
            (b.time_after(acc.created), acc.id, acc.id, b.ad_status(), None)
            for acc in accounts
            for _ in range(spec.campaigns_per_account)
        ],
    )
    ad_groups = b.spawn(
        "ad_group",
        [
            (b.time_after(c.created), c.id, c.account, b.ad_status(), None)
            for c in campaigns
            for _ in range(spec.ad_groups_per_campaign)
        ],
    )
    b.spawn(
        "ad",
        [
            (b.time_after(g.created), g.id, g.account, b.ad_status(), g.parent)  # extra = campaign id
            for g in ad_groups
            for _ in range(spec.ads_per_ad_group)
        ],
    )
    for kind, per in (
        ("audience", spec.audiences_per_account),
        ("customer_list", spec.customer_lists_per_account),
        ("conversion_tag", spec.conversion_tags_per_account),
    ):
        b.spawn(kind, [(b.time_after(acc.created), acc.id, acc.id, None, None) for acc in accounts for _ in range(per)])
    b.spawn(
        "keyword",
        [
            (b.time_after(acc.created), acc.id, acc.id, None, "advertiser")
            for acc in accounts
            for _ in range(spec.account_keywords_per_account)
        ]
        + [
            (b.time_after(g.created), g.id, g.account, None, "ad_group")
            for g in ad_groups
            for _ in range(spec.keywords_per_ad_group)
        ],
    )
    _generate_boards_and_pins(b, start)
    if has_catalog:
        _generate_catalog(b, start, [a.id for a in accounts if a.id != ds.no_catalog_account])
    # Drawn after everything above, so the entities that existed before these kinds keep their ids and times.
    _generate_ads_depth(b, accounts, campaigns, has_catalog)
    return ds


def _generate_boards_and_pins(b: _Builder, start: int) -> None:
    ds, spec, r = b.ds, b.spec, b.r
    boards = b.spawn("board", [(b.time_after(start), "user", None, None, None) for _ in range(spec.boards)])
    # Board #0 gets the big share, so make it old enough to hold many pins.
    boards[0].created = start
    ds.boards = boards
    sections = {}
    for board in boards:
        count = r.randint(0, spec.max_sections_per_board)
        sections[board.id] = b.spawn(
            "section", [(b.time_after(board.created), board.id, None, None, None) for _ in range(count)]
        )
    owners = [boards[0]] * spec.big_board_pins
    owners += [boards[r.randrange(len(boards))] for _ in range(spec.pins - spec.big_board_pins)]
    drafts = []
    for board in owners:
        secs = sections[board.id]
        section = secs[r.randrange(len(secs))].id if secs and r.random() < 0.4 else None
        drafts.append((b.time_after(board.created), board.id, None, None, section))
    ds.pins = b.spawn("pin", drafts)
    for pin in ds.pins:
        if pin.extra:
            ds.children.setdefault(("section_pin", pin.extra), []).append(pin)


def _generate_catalog(b: _Builder, start: int, promoting_accounts: list) -> None:
    ds, spec, r = b.ds, b.spec, b.r
    ds.catalogs = b.spawn("catalog", [(b.time_after(start), "user", None, None, None)])
    cat = ds.catalogs[0]
    ds.feeds = b.spawn("feed", [(b.time_after(cat.created), cat.id, None, None, None) for _ in range(spec.feeds)])
    # extra = the ad account that promotes this product group (for PRODUCT_GROUP reports)
    ds.product_groups = b.spawn(
        "product_group",
        [
            (b.time_after(f.created), f.id, acc, None, acc)
            for f in ds.feeds
            for acc in _pick(r, promoting_accounts, max(1, spec.product_groups // spec.feeds))
        ],
    )


def _pick(r, accounts: list, count: int) -> list:
    return [accounts[r.randrange(len(accounts))] for _ in range(count)]


def _generate_ads_depth(b: _Builder, accounts: list, campaigns: list, has_catalog: bool) -> None:
    """Lead forms, campaign-level keywords, audiences shared with the accounts, and a partner's catalog.

    The partner is another Pinterest user: it owns ad account #0 (the token user is an admin on it through
    Business Access), shares its catalog through that account, and shares audiences from an ad account of its own
    that the token user cannot see."""
    ds, spec = b.ds, b.spec
    ds.partner = {"username": f"emulated_partner_{ds.seed}", "id": make_id(ds.seed, "pin", 10**12 + 1)}
    ds.partner_accounts = {accounts[0].id}
    ds.partner_source_account = make_id(ds.seed, "account", 10**6)
    b.spawn(
        "lead_form",
        [
            (b.time_after(acc.created), acc.id, acc.id, "ACTIVE" if b.r.random() < 0.7 else "DRAFT", None)
            for acc in accounts
            for _ in range(spec.lead_forms_per_account)
        ],
    )
    b.spawn(
        "keyword",
        [
            (b.time_after(c.created), c.id, c.account, None, "campaign")
            for c in campaigns
            if c.n % CAMPAIGN_KEYWORDS_EVERY == 0
        ],
    )
    # The last account receives none: a RECEIVED listing may be empty.
    b.spawn(
        "received_audience",
        [
            (b.time_after(acc.created), acc.id, acc.id, None, None)
            for acc in accounts[:-1]
            for _ in range(spec.received_audiences_per_account)
        ],
    )
    if has_catalog:
        catalog = b.spawn("catalog", [(b.time_after(accounts[0].created), "partner", None, None, None)])[0]
        ds.catalogs.append(catalog)
        feed = b.spawn("feed", [(b.time_after(catalog.created), catalog.id, None, None, None)])[0]
        ds.feeds.append(feed)
        ds.product_groups += b.spawn(
            "product_group", [(b.time_after(feed.created), feed.id, accounts[0].id, None, accounts[0].id)] * 2
        )
