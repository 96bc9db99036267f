"""EntityStream: one generic stream for every entity list in the StreamSpec table."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.types import StreamSlice

from source_pinterest.config import EntityStatus
from source_pinterest.http.client import PinterestClient
from source_pinterest.metrics.organic import kept_pin
from source_pinterest.records import RecordNormalizer
from source_pinterest.streams.base import PinterestStream, load_schema, stringify_ids
from source_pinterest.streams.specs import ENTITY_STREAMS, SKIP_PARENT, StreamSpec, Variant
from source_pinterest.sync.context import SyncContext
from source_pinterest.sync.saved_state import StateLayout
from source_pinterest.sync.state import ParentsDoneCursor, PerParentCursor, partition_key

logger = logging.getLogger("airbyte")


@dataclass(frozen=True)
class Listing:
    """One listing of a partition: the query params it adds, and the fields it copies into its records."""

    params: Mapping[str, str]
    record: Mapping[str, str]


PLAIN = Variant({})


@dataclass(frozen=True)
class ReaderListing:
    """An entity listing one metrics stream takes its ids from: that stream, the fields it reads, and what it keeps
    of each record (`compact`, over those fields)."""

    reader: str
    fields: frozenset[str]
    compact: Callable[[Mapping[str, Any]], Any]


# pin_analytics reads every pin of the `pins` listing (created_at: a pin has no data before it existed). Its pins are
# kept in their compact form (organic.kept_pin), and only when pin_analytics is selected
# (context.ParentListings.only_for): whole, the pins of a large account are ~90 MB until the sync ends.
METRICS_PARENTS = {"pins": ReaderListing("pin_analytics", frozenset({"id", "created_at"}), kept_pin)}
# Streams whose records define other entity streams' slices, or that other streams look up: their listings are kept
# for the rest of the sync, so a parent stream read after its children replays them instead of listing again. (A
# parent read in every status is the metrics' listing of every status, kept as such: source.build_streams.)
PARENT_STREAMS = (
    frozenset(ref.stream for spec in ENTITY_STREAMS for ref in spec.parents if not ref.all_statuses)
    | {"user_account"}
    | set(METRICS_PARENTS)
)
# What streams read of a parent besides the fields of their slices: board_pins compares a board's pin_count; the
# Business Access listings choose ad accounts by owner and role, leaving out the user's own (its id).
EXTRA_PARENT_FIELDS = {
    "boards": frozenset({"pin_count"}),
    "ad_accounts": frozenset({"owner", "permissions"}),
    "user_account": frozenset({"id"}),
}
# The Business Access roles that let the token user read an ad account owner's catalogs (catalogs/list in the spec).
CATALOG_ROLES = frozenset({"OWNER", "ADMIN", "CATALOGS_MANAGER"})
# The field of a record listed through an ad account's Business Access: which ad account it came through.
BUSINESS_ACCESS_FIELD = "business_access_ad_account_id"
# What the metrics streams read of a listing that only feeds their id batches (every status): a catalog listing's
# records name no ad account, but the account they were listed through (owner_listed).
ID_LISTING_FIELDS = frozenset({"id", "ad_account_id", "created_time", BUSINESS_ACCESS_FIELD})


def parent_fields() -> dict[str, frozenset[str]]:
    """Per parent stream, the fields its children read: those of their slices, and EXTRA_PARENT_FIELDS."""
    fields = dict(EXTRA_PARENT_FIELDS) | {name: listing.fields for name, listing in METRICS_PARENTS.items()}
    for spec in ENTITY_STREAMS:
        for ref in spec.parents:
            if not ref.all_statuses:
                fields[ref.stream] = fields.get(ref.stream, frozenset()) | frozenset(ref.fields.values())
    return fields


def business_access_accounts(ad_accounts: Iterable[Mapping[str, Any]], user_id: str | None) -> list[str]:
    """One ad account per owner other than the token user, among those where the user holds a role that reads the
    owner's catalogs: every account of one owner lists the same catalogs, so one call per owner is enough."""
    chosen: dict[str, str] = {}
    for account in ad_accounts:
        owner = (account.get("owner") or {}).get("id")
        if owner is None or owner == user_id or owner in chosen:
            continue
        if CATALOG_ROLES & set(account.get("permissions") or ()):
            chosen[owner] = str(account["id"])
    return list(chosen.values())


def owner_listed(
    records: Iterable[Mapping[str, Any]], account_id: str, ad_accounts: Iterable[Mapping[str, Any]], user_id: str | None
) -> list[Mapping[str, Any]]:
    """The records of a Business Access stream (catalogs and what they hold) that the owner of `account_id` owns:
    those listed through an ad account of that owner, or for the user's own accounts (and an account whose owner
    is not said) those listed without one."""
    owner_of = {str(account["id"]): (account.get("owner") or {}).get("id") for account in ad_accounts}
    owner = owner_of.get(account_id) or user_id

    def owner_of_record(record: Mapping[str, Any]) -> str | None:
        through = record.get(BUSINESS_ACCESS_FIELD)
        return user_id if through is None else owner_of.get(str(through))

    return [record for record in records if owner_of_record(record) == owner]


def token_user_id(ctx: SyncContext) -> str | None:
    """The id of the token's user (GET /user_account, listed once per sync)."""
    users = ctx.records_of("user_account")
    return str(users[0].get("id")) if users and users[0].get("id") is not None else None


class EntityStream(PinterestStream):
    """GET <spec.path> for every parent slice; state and parent reuse as described in state.py and context.py.

    A stream with a cursor field (an update time) is incremental per parent (PerParentCursor). One without (boards,
    pins and their board and section listings, board_sections, keywords, conversion_tags, user_account: see each
    spec's full_refresh_reason) is a resumable full refresh: the CDK's cursor-based checkpoint reader with
    state.ParentsDoneCursor, so an attempt started again skips the parents an earlier attempt of the pass finished."""

    cursor: ParentsDoneCursor | None  # exactly one of `cursor` and `_cursor` is set, by whether there is a cursor field

    def __init__(self, spec: StreamSpec, ctx: SyncContext, statuses: tuple[EntityStatus, ...] | None = None) -> None:
        self.spec = spec
        # Metrics streams need the ids of every status (archived spend is real spend), whatever the user's filter.
        self.statuses = statuses or ctx.config.status
        # A listing the status filter does not apply to (catalogs) is the stream's own, whatever statuses it is given.
        same_as_stream = not spec.status_filter or set(self.statuses) == set(ctx.config.status)
        self.listing_name = spec.name if same_as_stream else f"{spec.name}[{','.join(s.value for s in self.statuses)}]"
        self.skip_statuses = spec.skip_statuses
        super().__init__(ctx)
        self._cursor = PerParentCursor(spec.cursor_field, partitioned=bool(spec.parents)) if spec.cursor_field else None
        # The CDK reads a stream whose get_cursor() answers a cursor, and no cursor field, as resumable full refresh.
        self.cursor = None if spec.cursor_field else ParentsDoneCursor(spec.name)
        self._normalizer = RecordNormalizer(spec.name, load_schema(spec.name))
        if spec.business_access:
            self._business_access_client = PinterestClient(spec.name, ctx, SKIP_PARENT)

    @property
    def requests_made(self) -> int:
        shared = self._business_access_client.requests_made if self.spec.business_access else 0
        return self.client.requests_made + shared

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def primary_key(self) -> str:
        return self.spec.primary_key

    @property
    def cursor_field(self) -> str | list[str]:
        return self.spec.cursor_field or []

    @property
    def state_layout(self) -> StateLayout:
        # A partition is the slice of the innermost parent, e.g. board_id + section_id for section pins.
        keys = tuple(self.spec.parents[-1].fields) if self.spec.parents else ()
        return StateLayout(keys, self.spec.cursor_field)

    @property
    def supports_incremental(self) -> bool:
        return self.spec.cursor_field is not None

    @property
    def is_resumable(self) -> bool:
        return True  # incremental per parent, or resumable full refresh per parent

    @property
    def _parents_done(self) -> ParentsDoneCursor:
        """The resumable full refresh cursor, for a stream without a cursor field."""
        assert self.cursor is not None, "a stream with a cursor field has a PerParentCursor instead"
        return self.cursor

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._cursor.get_state() if self._cursor else self._parents_done.get_stream_state()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        if self._cursor:
            self._cursor.set_state(value)
        else:
            self._parents_done.set_initial_state(value)

    def path(self, stream_slice: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        keys = {k: v for k, v in (stream_slice or {}).items() if k not in self.spec.query_from_slice}
        return self.spec.path.format(**keys)

    # -- slices ----------------------------------------------------------------------------------------------
    def stream_slices(self, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        """The slices this read emits: every parent, or for a full refresh the parents its pass has not done yet
        (as the CDK's StreamSlice, which its resumable full refresh reader requires)."""
        if self._cursor is not None:
            yield from self.partitions()
            return
        for partition in self._parents_done.to_read(list(self.partitions())):
            yield StreamSlice(partition=partition, cursor_slice={})

    def partitions(self) -> Iterable[Mapping[str, Any]]:
        """Every parent of the stream, once each, as listed in this sync."""
        if not self.spec.parents:
            yield {}
            return
        for parent_ref in self.spec.parents:
            parents = self.ctx.listings if parent_ref.all_statuses else self.ctx.streams
            parent = parents[parent_ref.stream]
            seen: set[str] = set()
            for record in self.ctx.parents.all_records(parent.listing_name, parent.list_everything):
                partition = {key: record.get(field) for key, field in parent_ref.fields.items()}
                if any(value is None for value in partition.values()) or partition_key(partition) in seen:
                    continue
                seen.add(partition_key(partition))
                yield partition

    # -- records ---------------------------------------------------------------------------------------------
    def request_params(self, partition: Mapping[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = dict(self.spec.params)
        params.update({key: partition[key] for key in self.spec.query_from_slice if key in partition})
        if self.spec.status_filter:
            # Repeated key, the OpenAPI default for this array; ARCHIVED is only returned when asked for.
            params["entity_statuses"] = [status.value for status in self.statuses]
        return params

    def _kept(self) -> bool:
        """Whether this listing is kept for the rest of the sync (ParentListings says how much of each record)."""
        if self.listing_name in self.ctx.parents.unused:
            return False
        return self.name in PARENT_STREAMS or any(
            listing.listing_name == self.listing_name for listing in self.ctx.listings.values()
        )

    def fetch(self, partition: Mapping[str, Any], own_records: bool = False) -> Iterable[Mapping[str, Any]]:
        """All records of one partition as the API lists them (or as an earlier listing in this sync kept them);
        `own_records`: for this stream's own records, which it emits now, not for another stream's look-up."""
        if not self._kept():
            yield from self._fetch_from_api(partition)
            return
        key = partition_key(partition)
        with self.ctx.parents.lock_for(self.listing_name, key):
            cached = self.ctx.parents.cached(self.listing_name, key)
            if cached is None:
                # Emitted now, this stream's own records need no whole copy for later (ParentListings.keeper).
                keep = self.ctx.parents.keeper(self.listing_name, for_replay=not own_records)
                kept: list[Mapping[str, Any]] = []
                for record in self._fetch_from_api(partition):
                    kept.append(keep(record))
                    yield record
                self.ctx.parents.store(self.listing_name, key, kept)
                return
        if own_records and self.listing_name in self.ctx.parents.only_for:
            # Kept with only the fields its reader uses, by that reader's look-up: this stream lists its records.
            yield from self._fetch_from_api(partition)
            return
        yield from cached
        if own_records:
            self.ctx.parents.replayed_partition(self.listing_name, key)

    def _fetch_from_api(self, partition: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        path = self.path(stream_slice=partition)
        params = self.request_params(partition)
        extra = {field: partition[field] for field in self.spec.record_fields}
        if self.spec.single_object:
            body = self.client.get(path, params)
            if body is not None:
                yield self.as_record(body)
            return
        own_parent = list(partition.values())[-1] if self.spec.own_parent_field and partition else None
        seen: set[Any] = set()  # ids, where listings can overlap (Business Access)
        for client, variant in self._listings(partition):
            listed = {**extra, **variant.record}
            for items in client.get_pages(path, {**params, **variant.params}, paginated=self.spec.paginated):
                for item in items:
                    if not self.keeps(item) or (own_parent is not None and self._other_parent(item, own_parent)):
                        continue
                    if self.spec.business_access:
                        if item.get("id") in seen:
                            continue
                        seen.add(item.get("id"))
                    item.update(listed)
                    yield self.as_record(item)

    def _listings(self, partition: Mapping[str, Any]) -> Iterable[tuple[PinterestClient, Listing]]:
        """The listings of one partition: the spec's variants, or one; then, for a Business Access stream, one per
        ad account owner other than the user (a 403 or 404 there skips that owner, not the stream)."""
        for variant in self.spec.variants or (PLAIN,):
            copied = {name: partition[key] for name, key in variant.copy.items()}
            yield self.client, Listing(variant.params, {**variant.params, **copied})
        if not self.spec.business_access:
            return
        for account_id in business_access_accounts(self.ctx.records_of("ad_accounts"), token_user_id(self.ctx)):
            yield (
                self._business_access_client,
                Listing({"ad_account_id": account_id}, {BUSINESS_ACCESS_FIELD: account_id}),
            )

    def _other_parent(self, item: Mapping[str, Any], own_parent: Any) -> bool:
        """Whether the item hangs under another parent than the slice's (own_parent_field)."""
        value = item.get(self.spec.own_parent_field or "")
        return value is not None and str(value) != str(own_parent)

    def cursor_applies(self, record: Mapping[str, Any]) -> bool:
        """Whether an incremental sync may leave this record out for its cursor value: not for a record of a
        listing whose items can join it with an older value (Variant.incremental, Business Access)."""
        if record.get(BUSINESS_ACCESS_FIELD) is not None:
            return False
        return not any(
            all(record.get(key) == value for key, value in variant.params.items())
            for variant in self.spec.variants
            if not variant.incremental
        )

    def as_record(self, item: MutableMapping[str, Any]) -> Mapping[str, Any]:
        """An API item as this stream emits it: ids as strings, scalars of the schema's types (see records.py)."""
        return self._normalizer.normalize(stringify_ids(item))

    def keeps(self, record: Mapping[str, Any]) -> bool:
        """Whether an API record belongs to this sync at all (before any cursor filtering)."""
        return True

    def list_everything(self) -> Iterable[Mapping[str, Any]]:
        for partition in self.partitions():  # children need every parent, whatever this stream's own state says
            yield from self.fetch(partition or {})

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        partition = stream_slice or {}
        new_only = self._cursor if sync_mode == SyncMode.incremental else None  # the cursor that filters records
        for record in self.fetch(partition, own_records=True):
            if self._cursor:
                self._cursor.observe(partition, record)
            if new_only is None or new_only.is_new(partition, record) or not self.cursor_applies(record):
                yield record
        if self._cursor:
            self._cursor.close(partition)
        else:
            self._parents_done.close_slice(StreamSlice(partition=dict(partition), cursor_slice={}))
