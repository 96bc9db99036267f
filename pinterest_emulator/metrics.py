"""Deterministic daily metrics, modelled at the smallest unit and summed upwards.

An ad's metrics for a day come from a hash of (seed, ad, day), so an ad group is
exactly the sum of its ads, a campaign the sum of its ad groups and an account the
sum of its campaigns. Ratios are computed from the summed counts at each level.
Keywords, product groups and product items have their own independent series.
"""

from datetime import date, timedelta

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
_I = {name: i for i, name in enumerate(BASE)}
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
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_of(epoch: int) -> int:
    """The UTC date ordinal of an epoch timestamp (date.fromtimestamp would use local time)."""
    return EPOCH_ORDINAL + epoch // DAY


def _u16(h: bytes, i: int) -> int:
    return h[i] << 8 | h[i + 1]


def base_metrics(ds, node: Node, day: int) -> tuple | None:
    """Additive counts of one leaf entity (ad, keyword, product group/item) on a day ordinal."""
    if node.status == "DRAFT" or day < day_of(node.created) or day > day_of(ds.today_epoch):
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
    """Split additive counts over weights so the parts add up exactly (targeting breakdowns, hours)."""
    total_w = sum(weights)
    parts = [[v * w // total_w for v in base] for w in weights]
    for i, v in enumerate(base):
        parts[0][i] += v - sum(p[i] for p in parts)
    return [tuple(p) for p in parts]


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 6) if b else None


def columns_of(base: tuple, hourly: bool = False) -> dict:
    """Every modelled column for summed counts; None values are left out by callers."""
    v = {name: base[i] for name, i in _I.items()}
    spend, imp1, ct1 = v["SPEND_IN_MICRO_DOLLAR"], v["IMPRESSION_1"], v["CLICKTHROUGH_1"]
    imp = imp1 + v["IMPRESSION_2"]
    clicks = ct1 + v["CLICKTHROUGH_2"]
    conversions = v["TOTAL_PAGE_VISIT"] + v["TOTAL_SIGNUP"] + v["TOTAL_CHECKOUT"] + v["TOTAL_LEAD"]
    v.update(
        {
            "PAID_IMPRESSION": imp1,
            "TOTAL_IMPRESSION": imp,
            "TOTAL_CLICKTHROUGH": clicks,
            "TOTAL_ENGAGEMENT": v["ENGAGEMENT_1"] + v["ENGAGEMENT_2"],
            "TOTAL_CONVERSIONS": conversions,
            "TOTAL_CONVERSIONS_QUANTITY": conversions,
            "TOTAL_CONVERSIONS_VALUE_IN_MICRO_DOLLAR": v["TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR"]
            + v["TOTAL_SIGNUP_VALUE_IN_MICRO_DOLLAR"],
            "SPEND_IN_DOLLAR": spend / 1_000_000,
            "CTR": _ratio(ct1, imp1),
            "CTR_2": _ratio(v["CLICKTHROUGH_2"], v["IMPRESSION_2"]),
            "ECTR": _ratio(clicks, imp),
            "ENGAGEMENT_RATE": _ratio(v["ENGAGEMENT_1"] + v["ENGAGEMENT_2"], imp),
            "CPC_IN_MICRO_DOLLAR": _ratio(spend, ct1),
            "ECPC_IN_MICRO_DOLLAR": _ratio(spend, clicks),
            "ECPC_IN_DOLLAR": _ratio(spend / 1_000_000, clicks),
            "CPM_IN_MICRO_DOLLAR": _ratio(spend * 1000, imp1),
            "CPM_IN_DOLLAR": _ratio(spend / 1000, imp1),
            "ECPM_IN_MICRO_DOLLAR": _ratio(spend * 1000, imp),
        }
    )
    if hourly:
        for name in CONVERSION_COLUMNS:
            v[name] = None
    return v


MODELLED_COLUMNS = frozenset(columns_of(ZERO))


def select(values: dict, columns) -> dict:
    """The requested columns that have a value (the API leaves empty columns out)."""
    return {c: values[c] for c in columns if values.get(c) is not None}


def day_range(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


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
    for d in day_range(start, end):
        m = sum_leaves(ds, leaves, d.toordinal())
        if m is None or not any(m):
            continue
        if granularity == "HOUR":
            for hour, part in enumerate(split(m, [1] * 24)):
                if any(part):
                    buckets[f"{d.isoformat()} {hour:02d}:00:00"] = part
            continue
        key = period_key(d, granularity)
        buckets[key] = add(buckets[key], m) if key in buckets else m
    return list(buckets.items())
