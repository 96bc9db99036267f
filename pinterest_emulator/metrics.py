"""Deterministic daily metrics, modelled at the smallest unit and summed upwards.

An ad's metrics for a day come from a hash of (seed, ad, day), so an ad group is
exactly the sum of its ads, a campaign the sum of its ad groups and an account the
sum of its campaigns. Ratios are computed from the summed counts at each level.
Keywords, product groups and product items have their own independent series.

Sizes with a flight_share (large) run ad groups in flights, as big accounts do: an ad or an ad group's keyword
delivers only on the days its ad group is in flight (in_flight), so its rows cover weeks, not the whole span.
"""

from datetime import date, timedelta
from operator import itemgetter

from .hashing import digest
from .model import Node

DAY = 86400

# Additive counts, in the order of the tuples produced by base_metrics().
BASE = (
    "SPEND_IN_MICRO_DOLLAR",
    "IMPRESSION_1",
    "IMPRESSION_2",
    "CLICKTHROUGH_1",
    "CLICKTHROUGH_2",
    "OUTBOUND_CLICK_1",
    "OUTBOUND_CLICK_2",
    "ENGAGEMENT_1",
    "ENGAGEMENT_2",
    "REPIN_1",
    "REPIN_2",
    "TOTAL_WEB_SESSIONS",
    "TOTAL_PAGE_VISIT",
    "TOTAL_SIGNUP",
    "TOTAL_CHECKOUT",
    "TOTAL_LEAD",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_SIGNUP_VALUE_IN_MICRO_DOLLAR",
)
CONVERSION_FIELDS = (
    "TOTAL_PAGE_VISIT",
    "TOTAL_SIGNUP",
    "TOTAL_CHECKOUT",
    "TOTAL_LEAD",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_SIGNUP_VALUE_IN_MICRO_DOLLAR",
)
# Every column the emulator can fill; conversion-derived ones are empty at HOUR granularity.
CONVERSION_COLUMNS = frozenset(
    (*CONVERSION_FIELDS, "TOTAL_CONVERSIONS", "TOTAL_CONVERSIONS_QUANTITY", "TOTAL_CONVERSIONS_VALUE_IN_MICRO_DOLLAR")
)
ZERO = (0,) * len(BASE)
FLIGHT_DAYS = (14, 60)  # shortest and longest flight of an ad group, in days
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_of(epoch: int) -> int:
    """The UTC date ordinal of an epoch timestamp (date.fromtimestamp would use local time)."""
    return EPOCH_ORDINAL + epoch // DAY


def _u16(h: bytes, i: int) -> int:
    return h[i] << 8 | h[i + 1]


def flight_key(node: Node) -> str | None:
    """Whose flights a leaf follows: an ad's or an ad-group keyword's ad group, an account keyword's own; product
    groups and items (catalog promotions, always on) none."""
    if node.kind == "ad" or (node.kind == "keyword" and node.extra == "ad_group"):
        return node.parent
    return node.id if node.kind == "keyword" else None


def in_flight(ds, node: Node, day: int) -> bool:
    """Whether a leaf's flights cover a day ordinal. With a flight_share, each ad group repeats a cycle of
    length / flight_share days, in flight for the first `length` (FLIGHT_DAYS) of it, at a phase of its own."""
    key = flight_key(node)
    if ds.flight_share is None or key is None:
        return True
    flight = ds.flights.get(key)
    if flight is None:
        h = digest(ds.seed, "flight", key)
        low, high = FLIGHT_DAYS
        length = low + _u16(h, 0) % (high - low + 1)
        cycle = round(length / ds.flight_share)
        flight = ds.flights[key] = (length, cycle, _u16(h, 2) % cycle)
    length, cycle, phase = flight
    return (day + phase) % cycle < length


def base_metrics(ds, node: Node, day: int) -> tuple | None:
    """Additive counts of one leaf entity (ad, keyword, product group/item) on a day ordinal."""
    if node.status == "DRAFT" or day < day_of(node.created) or day > day_of(ds.today_epoch):
        return None
    if ds.flight_share is not None and not in_flight(ds, node, day):
        return None
    h = digest(ds.seed, "metrics", node.kind, node.id, day)
    if h[0] < 40:  # about one idle day in six: no delivery, so no row
        return None
    imp1 = 20 + _u16(h, 1) % 3000
    imp2 = imp1 * h[3] // 400
    ct1 = imp1 * (1 + h[4] % 40) // 1000
    ct2 = imp2 * (1 + h[5] % 30) // 1000
    ob1 = ct1 * (h[6] % 80) // 100
    ob2 = ct2 * (h[7] % 60) // 100
    eng1 = ct1 + imp1 * (h[8] % 20) // 1000
    eng2 = ct2 + imp2 * (h[9] % 20) // 1000
    spend = imp1 * (2000 + _u16(h, 10) % 8000)  # a CPM between $2 and $10
    sessions = ob1 + ob2
    # Conversions take the restatement version into account, so mutate() can revise them.
    c = digest(ds.seed, "conversions", node.kind, node.id, day, ds.restated.get(day, 0))
    visits = sessions * (c[0] % 60) // 100
    signup = visits * (c[1] % 15) // 100
    checkout = visits * (c[2] % 25) // 100
    lead = visits * (c[3] % 8) // 100
    checkout_value = checkout * (5_000_000 + _u16(c, 4) * 3000)
    signup_value = signup * 1_000_000
    if ds.conversions_pending_from is not None and day >= ds.conversions_pending_from:
        # Not final yet (metrics_ready_state): half the conversions have come in.
        visits, signup, checkout, lead = visits // 2, signup // 2, checkout // 2, lead // 2
        checkout_value, signup_value = checkout_value // 2, signup_value // 2
    return (
        spend,
        imp1,
        imp2,
        ct1,
        ct2,
        ob1,
        ob2,
        eng1,
        eng2,
        eng1 * (h[12] % 30) // 100,
        eng2 * (h[13] % 30) // 100,
        sessions,
        visits,
        signup,
        checkout,
        lead,
        checkout_value,
        signup_value,
    )


def add(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def sum_leaves(ds, leaves: list, day: int) -> tuple | None:
    total = None
    for leaf in leaves:
        m = base_metrics(ds, leaf, day)
        if m is not None:
            total = m if total is None else add(total, m)
    return total


def split(base: tuple, weights: list) -> list:
    """Split additive counts over weights so the parts add up exactly (targeting breakdowns, hours): each part
    gets its floored share, and the first part also what the flooring left over."""
    total_w = sum(weights)
    parts = [tuple([v * w // total_w for v in base]) for w in weights]
    parts[0] = tuple([p + v - s for p, v, s in zip(parts[0], base, map(sum, zip(*parts, strict=True)), strict=True)])
    return parts


# Every modelled column, in the order of the tuples produced by _values().
COLUMNS = (
    *BASE,
    "PAID_IMPRESSION",
    "TOTAL_IMPRESSION",
    "TOTAL_CLICKTHROUGH",
    "TOTAL_ENGAGEMENT",
    "TOTAL_CONVERSIONS",
    "TOTAL_CONVERSIONS_QUANTITY",
    "TOTAL_CONVERSIONS_VALUE_IN_MICRO_DOLLAR",
    "SPEND_IN_DOLLAR",
    "CTR",
    "CTR_2",
    "ECTR",
    "ENGAGEMENT_RATE",
    "CPC_IN_MICRO_DOLLAR",
    "ECPC_IN_MICRO_DOLLAR",
    "ECPC_IN_DOLLAR",
    "CPM_IN_MICRO_DOLLAR",
    "CPM_IN_DOLLAR",
    "ECPM_IN_MICRO_DOLLAR",
)
_POSITION = {name: i for i, name in enumerate(COLUMNS)}
_HOURLY_EMPTY = frozenset(_POSITION[name] for name in CONVERSION_COLUMNS)


def _values(base: tuple) -> tuple:
    """Every modelled column's value for summed counts, in COLUMNS order; a ratio over zero is None."""
    spend, imp1, imp2, ct1, ct2 = base[:5]
    eng1, eng2 = base[7], base[8]
    imp = imp1 + imp2
    clicks = ct1 + ct2
    eng = eng1 + eng2
    conversions = base[12] + base[13] + base[14] + base[15]
    return (
        *base,
        imp1,
        imp,
        clicks,
        eng,
        conversions,
        conversions,
        base[16] + base[17],
        spend / 1_000_000,
        round(ct1 / imp1, 6) if imp1 else None,
        round(ct2 / imp2, 6) if imp2 else None,
        round(clicks / imp, 6) if imp else None,
        round(eng / imp, 6) if imp else None,
        round(spend / ct1, 6) if ct1 else None,
        round(spend / clicks, 6) if clicks else None,
        round(spend / 1_000_000 / clicks, 6) if clicks else None,
        round(spend * 1000 / imp1, 6) if imp1 else None,
        round(spend / 1000 / imp1, 6) if imp1 else None,
        round(spend * 1000 / imp, 6) if imp else None,
    )


def columns_of(base: tuple, hourly: bool = False) -> dict:
    """Every modelled column for summed counts; None values are left out by callers."""
    values = dict(zip(COLUMNS, _values(base), strict=True))
    if hourly:
        for name in CONVERSION_COLUMNS:
            values[name] = None
    return values


MODELLED_COLUMNS = frozenset(COLUMNS)


def select(values: dict, columns) -> dict:
    """The requested columns that have a value (the API leaves empty columns out)."""
    return {c: values[c] for c in columns if values.get(c) is not None}


def selector(columns, hourly: bool = False):
    """A function from summed counts to select(columns_of(base, hourly), columns), for rendering many rows."""
    names = tuple(c for c in columns if c in _POSITION and not (hourly and _POSITION[c] in _HOURLY_EMPTY))
    positions = [_POSITION[c] for c in names]
    if len(positions) < 2:  # itemgetter of one position answers the value, not a tuple

        def get(values: tuple) -> tuple:
            return tuple(values[i] for i in positions)
    else:
        get = itemgetter(*positions)

    def pick(base: tuple) -> dict:
        values = get(_values(base))
        if None in values:
            return {name: v for name, v in zip(names, values, strict=True) if v is not None}
        return dict(zip(names, values, strict=True))

    return pick


def period_key(d: date, granularity: str) -> str | None:
    """The DATE a day contributes to: the day, its week's Monday, its month's first day, or none for TOTAL."""
    if granularity == "TOTAL":
        return None
    if granularity == "WEEK":
        return (d - timedelta(days=d.weekday())).isoformat()
    if granularity == "MONTH":
        return d.replace(day=1).isoformat()
    return d.isoformat()


def series(ds, leaves: list, start: date, end: date, granularity: str) -> list:
    """[(DATE or None, summed base)] for a set of leaves, skipping periods with no delivery."""
    buckets: dict = {}
    for day in range(start.toordinal(), end.toordinal() + 1):
        m = sum_leaves(ds, leaves, day)
        if m is None or not any(m):
            continue
        d = date.fromordinal(day)
        if granularity == "HOUR":
            for hour, part in enumerate(split(m, [1] * 24)):
                if any(part):
                    buckets[f"{d.isoformat()} {hour:02d}:00:00"] = part
            continue
        key = period_key(d, granularity)
        buckets[key] = add(buckets[key], m) if key in buckets else m
    return list(buckets.items())
