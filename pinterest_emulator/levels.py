"""Reporting levels: which entities a level has in an ad account, and which leaves feed their metrics."""

from .model import Node

# Level -> the row's id column. Live analytics say AD_ACCOUNT/AD; async reports say ADVERTISER/PIN_PROMOTION.
ID_COLUMN = {
    "AD_ACCOUNT": "AD_ACCOUNT_ID",
    "ADVERTISER": "AD_ACCOUNT_ID",
    "CAMPAIGN": "CAMPAIGN_ID",
    "AD_GROUP": "AD_GROUP_ID",
    "AD": "AD_ID",
    "PIN_PROMOTION": "PIN_PROMOTION_ID",
    "KEYWORD": "KEYWORD_ID",
    "PRODUCT_GROUP": "PRODUCT_GROUP_ID",
    "PRODUCT_ITEM": "PRODUCT_ITEM_ID",
}
# Every id column `attributes` can fill; report rows carry the requested ones.
ID_COLUMNS = frozenset(ID_COLUMN.values()) | {"ADVERTISER_ID", "PIN_ID"}
PRODUCT_ITEMS_PER_GROUP = 3

# The async report's targeting types (OpenAPI TargetingTypeFilter, at most 5 a report): AUDIENCE_MULTIPLIER only at
# CAMPAIGN_TARGETING and MEDIA_TYPE only at PRODUCT_ITEM_TARGETING, as its description says; the rest at every level.
_SHARED_TARGETING = (
    "KEYWORD",
    "APPTYPE",
    "GENDER",
    "LOCATION",
    "PLACEMENT",
    "COUNTRY",
    "TARGETED_INTEREST",
    "PINNER_INTEREST",
    "AUDIENCE_INCLUDE",
    "GEO",
    "AGE_BUCKET",
    "REGION",
    "AGE_BUCKET_AND_GENDER",
    "CREATIVE_ENHANCEMENTS",
    "LOCAL_ADS_STORE_CODE",
)
TARGETING_TYPES = {
    "ADVERTISER_TARGETING": _SHARED_TARGETING,
    "CAMPAIGN_TARGETING": (*_SHARED_TARGETING, "AUDIENCE_MULTIPLIER"),
    "AD_GROUP_TARGETING": _SHARED_TARGETING,
    "PIN_PROMOTION_TARGETING": _SHARED_TARGETING,
    "PRODUCT_GROUP_TARGETING": _SHARED_TARGETING,
    "PRODUCT_ITEM_TARGETING": (*_SHARED_TARGETING, "MEDIA_TYPE"),
}
MAX_TARGETING_TYPES = 5


def ad_groups_of_account(ds, account_id: str) -> list:
    return [g for c in ds.kids("campaign", account_id) for g in ds.kids("ad_group", c.id)]


def ads_of_account(ds, account_id: str) -> list:
    return [a for g in ad_groups_of_account(ds, account_id) for a in ds.kids("ad", g.id)]


def product_items(ds, group: Node) -> list:
    """Pseudo-nodes for the items of a product group (only PRODUCT_ITEM reports see them)."""
    return [
        Node("product_item", str(int(group.id) * 10 + k), k, group.id, group.extra, None, group.created, group.updated)
        for k in range(PRODUCT_ITEMS_PER_GROUP)
    ]


def entities(ds, level: str, account_id: str) -> list:
    """The entities of a level in one ad account, all statuses, ordered by id."""
    base = level.removesuffix("_TARGETING")
    if base in ("AD_ACCOUNT", "ADVERTISER"):
        node = ds.get("account", account_id)
        return [node] if node else []
    if base == "CAMPAIGN":
        return list(ds.kids("campaign", account_id))
    if base == "AD_GROUP":
        return ad_groups_of_account(ds, account_id)
    if base in ("AD", "PIN_PROMOTION"):
        return ads_of_account(ds, account_id)
    if base == "KEYWORD":
        kws = list(ds.kids("keyword", account_id))
        kws += [k for g in ad_groups_of_account(ds, account_id) for k in ds.kids("keyword", g.id)]
        return sorted(kws, key=lambda n: int(n.id))
    groups = [g for g in ds.product_groups if g.extra == account_id]
    if base == "PRODUCT_GROUP":
        return groups
    if base == "PRODUCT_ITEM":
        return [item for g in groups for item in product_items(ds, g)]
    raise ValueError(level)


def leaves(ds, node: Node) -> list:
    """The leaf nodes whose metrics sum to this entity's metrics."""
    if node.kind == "account":
        return ads_of_account(ds, node.id)
    if node.kind == "campaign":
        return [a for g in ds.kids("ad_group", node.id) for a in ds.kids("ad", g.id)]
    if node.kind == "ad_group":
        return list(ds.kids("ad", node.id))
    return [node]  # ad, keyword, product group, product item


def attributes(ds, node: Node) -> dict:
    """Id columns a row of this entity can carry (callers keep the ones requested)."""
    attrs = {"AD_ACCOUNT_ID": node.account, "ADVERTISER_ID": node.account}
    if node.kind == "campaign":
        attrs["CAMPAIGN_ID"] = node.id
    elif node.kind == "ad_group":
        attrs.update(CAMPAIGN_ID=node.parent, AD_GROUP_ID=node.id)
    elif node.kind == "ad":
        attrs.update(
            CAMPAIGN_ID=node.extra,
            AD_GROUP_ID=node.parent,
            AD_ID=node.id,
            PIN_PROMOTION_ID=node.id,
            PIN_ID=str(394_000_000_000_000_000 + node.n),
        )
    elif node.kind == "keyword":
        attrs["KEYWORD_ID"] = node.id
        group = ds.get("ad_group", node.parent) if node.extra == "ad_group" else None
        if group is not None:  # an ad group's keyword; the account's own keywords have no campaign
            attrs.update(CAMPAIGN_ID=group.parent, AD_GROUP_ID=group.id)
    elif node.kind == "product_group":
        attrs["PRODUCT_GROUP_ID"] = node.id
    elif node.kind == "product_item":
        attrs.update(PRODUCT_GROUP_ID=node.parent, PRODUCT_ITEM_ID=node.id)
    return attrs
