"""The entity streams as data: one StreamSpec per stream, read by the generic EntityStream."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Statuses that mean "this parent has nothing for us" rather than "the sync is broken": an ad account the token
# cannot read (403), a board or section deleted between listing it and reading it (404).
SKIP_PARENT = frozenset({403, 404})


@dataclass(frozen=True)
class ParentRef:
    """Slices come from a parent stream's records: slice key -> field of the parent record."""

    stream: str
    fields: Mapping[str, str]
    # From the parent's listing of every status, not the configured ones: the status filter says which campaigns
    # and ad groups to sync, not which of their children exist.
    all_statuses: bool = False


@dataclass(frozen=True)
class Variant:
    """One listing of each partition: these query params, also copied into its records (so they say which)."""

    params: Mapping[str, str]
    # False: an incremental sync emits every record of this listing, whatever the cursor says. Its items can join
    # the listing with an older cursor value (an audience shared today keeps the time its owner last changed it).
    incremental: bool = True
    # Slice keys also copied into this listing's records, under these names (record field -> slice key).
    copy: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamSpec:
    name: str
    path: str  # may hold {slice keys}, e.g. "ad_accounts/{ad_account_id}/campaigns"
    cursor_field: str | None = None
    primary_key: str = "id"
    parents: tuple[ParentRef, ...] = ()
    # Slice keys sent as query parameters instead of path parts (e.g. keywords' ad_group_id).
    query_from_slice: tuple[str, ...] = ()
    # Slice keys copied into each record so rows can be joined to their parent.
    record_fields: tuple[str, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    status_filter: bool = False  # send the configured entity_statuses
    paginated: bool = True
    single_object: bool = False
    skip_statuses: frozenset[int] = frozenset()
    # Scopes without which Pinterest leaves the stream's secret content out, with no error: the token's other
    # content still syncs, and the sync warns once (missing_secret_scopes).
    secret_scopes: tuple[str, ...] = ()
    # Listings of each partition, when one is not enough (default: one, with `params`).
    variants: tuple[Variant, ...] = ()
    # The record field naming the parent a record hangs under: only records whose value is the slice's own (its
    # last key's) are kept, so that a filter that also answers the children's records cannot emit one twice.
    own_parent_field: str | None = None
    # The catalogs an ad account's owner shares through Business Access come with `ad_account_id`: besides the
    # user's own, list once per other owner (streams.entity.business_access_accounts) and keep each id once.
    business_access: bool = False
    # Why a stream without a cursor field is full refresh only: what the OpenAPI gives, or lacks, for its objects.
    # A cursor must be a time the object's every edit moves; a creation time would leave edits out quietly.
    full_refresh_reason: str | None = None


AD_ACCOUNT = ParentRef("ad_accounts", {"ad_account_id": "id"})
BOARD = ParentRef("boards", {"board_id": "id"})
BOARD_SECTION = ParentRef("board_sections", {"board_id": "board_id", "section_id": "id"})
AD_GROUP = ParentRef("ad_groups", {"ad_account_id": "ad_account_id", "ad_group_id": "id"})
EVERY_CAMPAIGN = ParentRef("campaigns", {"ad_account_id": "ad_account_id", "campaign_id": "id"}, all_statuses=True)
EVERY_AD_GROUP = dataclasses.replace(AD_GROUP, all_statuses=True)
# An ad account's own audiences (the API's default) and those other accounts share with it.
# A received audience's own ad_account_id is the account that shares it; shared_with_ad_account_id names the
# account of ours it was listed for.
OWNED_AND_RECEIVED = (
    Variant({"ownership_type": "OWNED"}),
    Variant({"ownership_type": "RECEIVED"}, incremental=False, copy={"shared_with_ad_account_id": "ad_account_id"}),
)

# The 90-day and lifetime metrics of each pin, in its record; only GET /pins and GET /boards/{id}/pins take the flag
# (GET /boards/{id}/sections/{id}/pins does not).
PIN_METRICS = {"pin_metrics": "true"}
# Secret boards need boards:read_secret, the pins on them pins:read_secret (API_FACTS section 1).
SECRET_BOARDS = ("boards:read_secret",)
SECRET_PINS = ("pins:read_secret",)
# Boards and pins can be edited (a board's name, description, privacy and pin count; a pin's title, description,
# link, board and section), but the OpenAPI gives them no time of their last edit: they are full refresh only.
BOARD_TIMES = "Board has created_at and board_pins_modified_at (its pins' last change), no time of its own last edit"
PIN_TIMES = "Pin has created_at only, which an edit does not move"


ENTITY_STREAMS: tuple[StreamSpec, ...] = (
    # Organic (org_read).
    StreamSpec(
        "user_account",
        "user_account",
        single_object=True,
        paginated=False,
        full_refresh_reason="one object; Account has no time field",
    ),
    StreamSpec("boards", "boards", secret_scopes=SECRET_BOARDS, full_refresh_reason=BOARD_TIMES),
    StreamSpec(
        "board_sections",
        "boards/{board_id}/sections",
        parents=(BOARD,),
        record_fields=("board_id",),
        skip_statuses=SKIP_PARENT,
        secret_scopes=SECRET_BOARDS,
        full_refresh_reason="BoardSection has no time field",
    ),
    StreamSpec(
        "board_pins",
        "boards/{board_id}/pins",
        parents=(BOARD,),
        params=PIN_METRICS,
        skip_statuses=SKIP_PARENT,
        secret_scopes=SECRET_BOARDS + SECRET_PINS,
        full_refresh_reason=PIN_TIMES,
    ),
    StreamSpec(
        "board_section_pins",
        "boards/{board_id}/sections/{section_id}/pins",
        parents=(BOARD_SECTION,),
        skip_statuses=SKIP_PARENT | {409},  # 409 "Board section conflict" is documented for this endpoint
        secret_scopes=SECRET_BOARDS + SECRET_PINS,
        full_refresh_reason=PIN_TIMES,
    ),
    # GET /pins leaves protected pins out unless include_protected_pins=true (the spec's default is false).
    StreamSpec(
        "pins",
        "pins",
        params={**PIN_METRICS, "include_protected_pins": "true"},
        secret_scopes=SECRET_PINS,
        full_refresh_reason=PIN_TIMES,
    ),
    # Ads (ads_read).
    StreamSpec("ad_accounts", "ad_accounts", cursor_field="updated_time", params={"include_shared_accounts": "true"}),
    StreamSpec(
        "campaigns",
        "ad_accounts/{ad_account_id}/campaigns",
        "updated_time",
        parents=(AD_ACCOUNT,),
        status_filter=True,
        skip_statuses=SKIP_PARENT,
    ),
    StreamSpec(
        "ad_groups",
        "ad_accounts/{ad_account_id}/ad_groups",
        "updated_time",
        parents=(AD_ACCOUNT,),
        status_filter=True,
        skip_statuses=SKIP_PARENT,
    ),
    StreamSpec(
        "ads",
        "ad_accounts/{ad_account_id}/ads",
        "updated_time",
        parents=(AD_ACCOUNT,),
        status_filter=True,
        skip_statuses=SKIP_PARENT,
    ),
    StreamSpec(
        "audiences",
        "ad_accounts/{ad_account_id}/audiences",
        "updated_timestamp",
        parents=(AD_ACCOUNT,),
        skip_statuses=SKIP_PARENT,
        variants=OWNED_AND_RECEIVED,
    ),
    StreamSpec(
        "customer_lists",
        "ad_accounts/{ad_account_id}/customer_lists",
        "updated_time",
        parents=(AD_ACCOUNT,),
        skip_statuses=SKIP_PARENT,
    ),
    StreamSpec(
        "conversion_tags",
        "ad_accounts/{ad_account_id}/conversion_tags",
        parents=(AD_ACCOUNT,),
        paginated=False,
        skip_statuses=SKIP_PARENT,
        full_refresh_reason="ConversionTag has last_fired_time_ms (its last event), no update time",
    ),
    # A keyword's parent is its ad account, a campaign (negative keywords only) or an ad group (those made in Ads
    # Manager); without a filter the API returns only the account's, so each campaign and ad group is asked too.
    # The ad group last: the resumable full refresh's state is keyed by (ad_account_id, ad_group_id).
    StreamSpec(
        "keywords",
        "ad_accounts/{ad_account_id}/keywords",
        parents=(AD_ACCOUNT, EVERY_CAMPAIGN, EVERY_AD_GROUP),
        query_from_slice=("campaign_id", "ad_group_id"),
        record_fields=("ad_account_id",),
        skip_statuses=SKIP_PARENT,
        own_parent_field="parent_id",
        full_refresh_reason="Keyword has no time field",
    ),
    StreamSpec(
        "lead_forms",
        "ad_accounts/{ad_account_id}/lead_forms",
        "updated_time",
        parents=(AD_ACCOUNT,),
        skip_statuses=SKIP_PARENT,  # a beta endpoint: an app outside the beta is refused per account
    ),
    # Catalogs (catalogs_read). A user without a catalog gets 409 code 4182, handled as "no data".
    StreamSpec("catalogs", "catalogs", cursor_field="updated_at", business_access=True),
    StreamSpec("catalogs_feeds", "catalogs/feeds", cursor_field="updated_at", business_access=True),
    StreamSpec("catalogs_product_groups", "catalogs/product_groups", cursor_field="updated_at", business_access=True),
)

SPECS_BY_NAME = {spec.name: spec for spec in ENTITY_STREAMS}


def missing_secret_scopes(streams: Iterable[str], granted: frozenset[str]) -> dict[str, list[str]]:
    """Per secret scope the token lacks, the streams (of `streams`) whose secret content it leaves out."""
    missing: dict[str, list[str]] = {}
    for name in streams:
        for scope in SPECS_BY_NAME[name].secret_scopes if name in SPECS_BY_NAME else ():
            if scope not in granted:
                missing.setdefault(scope, []).append(name)
    return missing
