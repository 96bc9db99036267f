"""Build analytics rows (live responses, report files, truth) from entities and a date range."""

from datetime import date

from . import metrics
from .hashing import stable_int
from .levels import ID_COLUMN, attributes, leaves

TARGETING_VALUES = {
    "APPTYPE": ("iphone", "android", "web", "ipad"),
    "GENDER": ("female", "male", "unknown"),
    "AGE_BUCKET": ("18-24", "25-34", "35-44", "45-49", "50-54", "55-64", "65+"),
    "COUNTRY": ("US", "GB", "DE", "FR"),
    "PLACEMENT": ("BROWSE", "SEARCH"),
    "LOCATION": ("US-CA", "US-NY", "US-TX"),
    "KEYWORD": ("garden ideas", "summer dress", "kitchen decor"),
    "TARGETED_INTEREST": ("home decor", "fashion", "food and drinks"),
    "PINNER_INTEREST": ("diy and crafts", "travel", "beauty", "gardening"),
    "AUDIENCE_INCLUDE": ("2542620905473", "2542620905474"),
    "GEO": ("US", "CA", "GB"),
    "REGION": ("US-CA", "US-NY", "GB-ENG", "DE-BY"),
    "AGE_BUCKET_AND_GENDER": ("female_25-34", "male_25-34", "female_35-44", "unknown_unknown"),
    "CREATIVE_ENHANCEMENTS": ("AUTO_CROP", "NONE"),
    "LOCAL_ADS_STORE_CODE": ("store-001", "store-002"),
    "AUDIENCE_MULTIPLIER": ("1.0", "1.5", "2.0"),
    "MEDIA_TYPE": ("IMAGE", "VIDEO", "CAROUSEL"),
}
DEFAULT_TARGETING = ("APPTYPE",)


def entity_rows(ds, level: str, node, start: date, end: date, granularity: str, columns, id_attrs=()) -> list:
    """Rows of one entity: id column, DATE (unless TOTAL), the requested modelled columns."""
    rows = []
    hourly = granularity == "HOUR"
    attrs = attributes(ds, node)
    head = {ID_COLUMN[level]: node.id}
    head.update({c: attrs[c] for c in id_attrs if attrs.get(c) is not None})
    pick = metrics.selector(columns, hourly)
    for key, base in metrics.series(ds, leaves(ds, node), start, end, granularity):
        row = dict(head)
        if key is not None:
            row["DATE"] = key
        row.update(pick(base))
        rows.append(row)
    return rows


def targeting_values(ttype: str, scale: int = 1) -> tuple:
    """A type's values: the base ones, then with report_scale > 1 each again with suffixes _2 .. _scale."""
    base = TARGETING_VALUES.get(ttype, ("UNKNOWN",))
    return base + tuple(f"{v}_{i}" for i in range(2, scale + 1) for v in base)


def targeting_rows(ds, level: str, node, start, end, granularity, columns, types, id_attrs=(), scale=1) -> list:
    """The entity's rows split over targeting values; each targeting type's parts add up to the whole."""
    return list(iter_targeting_rows(ds, level, node, start, end, granularity, columns, types, id_attrs, scale))


def iter_targeting_rows(ds, level: str, node, start, end, granularity, columns, types, id_attrs=(), scale=1):
    """targeting_rows one at a time, so a report file can be written without holding an entity's rows."""
    hourly = granularity == "HOUR"
    attrs = attributes(ds, node)
    head = {ID_COLUMN[level.removesuffix("_TARGETING")]: node.id}
    head.update({c: attrs[c] for c in id_attrs if attrs.get(c) is not None})
    pick = metrics.selector(columns, hourly)  # columns not modelled never have a value
    splits = []
    for ttype in types:
        values = targeting_values(ttype, scale)
        splits.append((ttype, values, [1 + stable_int(ds.seed, node.id, ttype, v) % 10 for v in values]))
    for key, base in metrics.series(ds, leaves(ds, node), start, end, granularity):
        lead = head if key is None else {**head, "DATE": key}
        for ttype, values, weights in splits:
            for value, part in zip(values, metrics.split(base, weights), strict=True):
                if any(part):
                    yield {**lead, "TARGETING_TYPE": ttype, "TARGETING_VALUE": value, **pick(part)}
