"""Live (synchronous) analytics: one generic stream for the AnalyticsSpec table, and user_account_analytics.

Both are incremental on the metric date with a look-back: every sync re-reads `attribution_lookback_days` (default:
the largest attribution window, 30 days) before the saved date, because Pinterest restates conversions for that
long; the primary keys make the re-emitted rows upserts. Live analytics reach back 90 days only; a start_date
further back is clamped with a warning (the async report streams cover older history).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.models import SyncMode

from source_pinterest import limits
from source_pinterest.metrics.organic import is_final
from source_pinterest.metrics.schema import columns_schema, string_fields, typed, user_account_analytics_schema
from source_pinterest.metrics.specs import LIVE_COLUMNS, LIVE_ID_BATCH, LIVE_WINDOWS, AnalyticsSpec
from source_pinterest.metrics.windows import (
    Window,
    batches,
    created_by,
    earliest_allowed,
    parse_day,
    resumed_windows,
    sync_windows,
)
from source_pinterest.streams.base import CHECKPOINT, PinterestStream
from source_pinterest.streams.entity import owner_listed, token_user_id
from source_pinterest.streams.specs import SPECS_BY_NAME
from source_pinterest.sync.context import SyncContext
from source_pinterest.sync.saved_state import StateLayout
from source_pinterest.sync.state import PassCursor, id_order, in_id_order, partition_key

logger = logging.getLogger("airbyte")


def lookback_days(ctx: SyncContext, attribution_days: int) -> int:
    configured = ctx.config.attribution_lookback_days
    return attribution_days if configured is None else configured


def warn_if_clamped(stream: str, configured: dt.date | None, days_back: int, what: str) -> None:
    earliest = earliest_allowed(limits.today(), days_back)
    if configured is not None and configured < earliest:
        logger.warning(
            f"Stream {stream}: start_date {configured.isoformat()} is older than {what} allow ({days_back} days back); "
            f"reading from {earliest.isoformat()} instead."
        )


class DatedMetricsStream(PinterestStream):
    """What the live analytics streams share: a date cursor per partition and the windows of one pass.

    A pass is what one sync reads of a partition: from its look-back start to today. It is saved window by window
    (and id batch by id batch; state.PassCursor), so an attempt started again after a kill or a daily cap continues
    the pass where the last one stopped instead of paying the look-back again, and a partition whose pass is
    complete reads nothing more in that sync (state.read_generation tells an attempt from a new sync)."""

    cursor_key = "DATE"
    partitioned = True
    days_back = limits.LIVE_ANALYTICS_DAYS_BACK
    max_range_days = limits.LIVE_ANALYTICS_MAX_RANGE_DAYS
    attribution_days: int = max(LIVE_WINDOWS.values())
    # Ads metrics: Pinterest says per day when they are final (metrics/readiness.py); organic ones carry a
    # data_status per day instead (day_read).
    waits_for_final_ads_metrics = False
    # Within a long slice (an account's windows and id batches) the CDK emits the state every this many records,
    # so a window completed inside the slice is saved before the slice ends.
    state_checkpoint_interval = 1000

    def __init__(self, ctx: SyncContext) -> None:
        super().__init__(ctx)
        self._cursor = PassCursor(self.cursor_key, partitioned=self.partitioned)
        self._passes: dict[str, list[Window]] = {}  # partition -> the windows of its pass, planned once per process

    @property
    def cursor_field(self) -> str | list[str]:
        return self.cursor_key

    @property
    def state_layout(self) -> StateLayout:
        return StateLayout(("ad_account_id",) if self.partitioned else (), self.cursor_key)

    @property
    def supports_incremental(self) -> bool:
        return True

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._cursor.get_state()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._cursor.set_state(value)
        self._passes = {}

    @property
    def start_date(self) -> dt.date | None:
        return self.ctx.config.start_date

    def sync_windows(self, partition: Mapping[str, Any], sync_mode: SyncMode) -> list[Window]:
        """The windows of the partition's pass in this process, the same on every call (planning and reading)."""
        key = partition_key(partition)
        if key not in self._passes:
            self._passes[key] = self._plan_pass(partition, sync_mode)
        return self._passes[key]

    def _plan_pass(self, partition: Mapping[str, Any], sync_mode: SyncMode) -> list[Window]:
        today = limits.today()
        under_way = self._cursor.pass_under_way(partition)
        if under_way is not None:
            done_through = parse_day(under_way[1]) or today
            window = self._cursor.window_under_way(partition)
            window_end = parse_day(window[0]) if window else None
            planned = resumed_windows(
                today, self.days_back, self.max_range_days, done_through, self.start_date, window_end
            )
        elif sync_mode == SyncMode.incremental and self._cursor.done_in_this_generation(partition):
            # This read resumes a sync generation whose pass over the partition is complete (see
            # state.read_generation): an attempt started again after a kill or a daily cap reads the rest only.
            self._cursor.keep(partition)
            return []
        else:
            cursor = parse_day(self._cursor.start_of(partition)) if sync_mode == SyncMode.incremental else None
            lookback = lookback_days(self.ctx, self.attribution_days)
            planned = sync_windows(today, self.days_back, self.max_range_days, self.start_date, cursor, lookback)
        if not planned:
            self._cursor.keep(partition)
            return []
        first = under_way[0] if under_way else planned[0].start.isoformat()
        self._cursor.begin_pass(partition, first, planned[-1].end.isoformat())
        return planned

    def plan_passes(self, partitions: Iterable[Mapping[str, Any]], sync_mode: SyncMode) -> list[Mapping[str, Any]]:
        """Every partition's pass planned before the first is read, so that the first state message already marks
        them all under way: an attempt killed before a partition starts still knows it is part of this pass."""
        partitions = list(partitions)
        for partition in partitions:
            self.sync_windows(partition, sync_mode)
        return partitions

    def join_generation(self, generation: str, resuming: bool) -> None:
        """The sync generation of this read (state.read_generation), before the CDK sets the stream's state."""
        self._cursor.generation, self._cursor.resuming = generation, resuming

    def window_done(self, partition: Mapping[str, Any], window: Window) -> None:
        # The cursor is the last day requested, not the last day with data: quiet days are not read again; but
        # never past a day whose data was not final (day_read, or for ads metrics metrics/readiness.py).
        if self.waits_for_final_ads_metrics:
            provisional = self.ctx.readiness.first_provisional_day(self.client)
            if provisional is not None and window.end >= provisional:
                self._cursor.not_ready(partition, provisional.isoformat())
        self._cursor.window_done(partition, window.end.isoformat())

    def day_read(self, partition: Mapping[str, Any], day: object, status: object) -> None:
        """An organic day and its data_status: a day whose numbers may still change is read again next sync."""
        if isinstance(day, str) and not is_final(status):
            self._cursor.not_ready(partition, day[:10])

    def remaining_ids(self, partition: Mapping[str, Any], ids: Iterable[str], window: Window) -> list[str]:
        """The ids in id order; in a window an earlier attempt left half done, only those after the last one it
        emitted."""
        ordered = in_id_order(ids)
        under_way = self._cursor.window_under_way(partition)
        if under_way and under_way[0] == window.end.isoformat():
            ordered = [i for i in ordered if id_order(i) > id_order(under_way[1])]
        return ordered


class AnalyticsStream(DatedMetricsStream):
    """GET /ad_accounts/{id}/analytics and .../{campaigns,ad_groups,ads,product_groups}/analytics: DAY rows with
    every live column, per ad account, for batches of up to 250 ids of every status (archived entities spent money
    too)."""

    skip_statuses = frozenset({403})  # an ad account the token cannot read; the others go on
    waits_for_final_ads_metrics = True

    def __init__(self, spec: AnalyticsSpec, ctx: SyncContext) -> None:
        self.spec = spec
        super().__init__(ctx)
        self._schema = columns_schema(LIVE_COLUMNS, spec.primary_key)
        self._strings = string_fields(self._schema)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def primary_key(self) -> list[str]:
        return self.spec.primary_key

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # the CDK's is an lru_cache wrapper
        return self._schema

    def path(self, stream_slice: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        return self.spec.path.format(**(stream_slice or {}))

    def stream_slices(
        self, sync_mode: SyncMode = SyncMode.full_refresh, **kwargs: Any
    ) -> Iterable[Mapping[str, Any] | None]:
        """One slice per ad account; its windows and id batches are read in order inside it, and the state is
        emitted after every batch (up to 250 ids' rows; with every column and 90 days one answer is ~27 MB)."""
        warn_if_clamped(self.name, self.start_date, self.days_back, "live analytics")
        accounts = ({"ad_account_id": str(account["id"])} for account in self.ctx.records_of("ad_accounts"))
        yield from self.plan_passes(accounts, sync_mode)

    def request_params(self) -> dict[str, Any]:
        return {"granularity": "DAY", "columns": ",".join(LIVE_COLUMNS), **LIVE_WINDOWS}

    def _entities(self, listing: str, account_id: str) -> list[Mapping[str, Any]]:
        """The account's entities of the listing: those naming it, or of a catalog listing (whose records name no
        ad account) those of the account's owner. Catalog entities have no `created_time`, so all are asked for."""
        records = self.ctx.records_of(listing, all_statuses=True)
        if SPECS_BY_NAME[listing].business_access:
            records = owner_listed(records, account_id, self.ctx.records_of("ad_accounts"), token_user_id(self.ctx))
        else:
            records = [r for r in records if str(r.get("ad_account_id")) == account_id]
        return [r for r in records if r.get("id") is not None]

    def _id_batches(
        self, partition: Mapping[str, Any], entities: list[Mapping[str, Any]], window: Window
    ) -> list[tuple[str, ...]]:
        """Ids of the entities that existed by the window's end (later ones cannot have data in it), in id order;
        in a window an earlier attempt left half done, only the ids after the last one it emitted."""
        existed = created_by([e.get("created_time") for e in entities], window.end)
        ids = [str(e["id"]) for e, ok in zip(entities, existed, strict=True) if ok]
        return batches(self.remaining_ids(partition, ids, window), LIVE_ID_BATCH)

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Any]:
        account_id = (stream_slice or {})["ad_account_id"]
        partition = {"ad_account_id": account_id}
        entities = self._entities(self.spec.listing, account_id) if self.spec.listing else []
        for window in self.sync_windows(partition, sync_mode):
            id_batches: list[tuple[str, ...]] = (
                self._id_batches(partition, entities, window) if self.spec.listing else [()]
            )
            for number, ids in enumerate(id_batches):
                params = {**self.request_params(), **window.params()}
                if ids:
                    assert self.spec.ids_param is not None, "a spec with a listing names its id query parameter"
                    params[self.spec.ids_param] = list(ids)  # repeated key, the OpenAPI default for id arrays
                # Read from a temp file, not parsed whole: with every column one answer can be ~27 MB.
                rows = self.client.get_array(self.path(stream_slice=partition), params)
                if rows is None:
                    self._cursor.skip(partition)  # no access to this account: its cursor stays where it was
                    return
                for row in rows:
                    row.setdefault("AD_ACCOUNT_ID", account_id)
                    yield typed(row, self._strings)
                if number + 1 < len(id_batches):
                    self._cursor.batch_done(partition, window.end.isoformat(), ids[-1])
                    yield CHECKPOINT
            self.window_done(partition, window)
            yield CHECKPOINT


class UserAccountAnalyticsStream(DatedMetricsStream):
    """GET /user_account/analytics: organic daily metrics of the token's user, one record per day. Its own class
    because the endpoint has no ad account, no granularity and answers {split: {daily_metrics: [...]}}. A day not
    final yet (data_status PROCESSING, ESTIMATE) keeps the cursor before it (metrics.organic)."""

    cursor_key = "date"
    partitioned = False
    primary_key = "date"

    @property
    def name(self) -> str:
        return "user_account_analytics"

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # the CDK's is an lru_cache wrapper
        return user_account_analytics_schema()

    def path(self, **kwargs: Any) -> str:
        return "user_account/analytics"

    def stream_slices(
        self, sync_mode: SyncMode = SyncMode.full_refresh, **kwargs: Any
    ) -> Iterable[Mapping[str, Any] | None]:
        """One slice; the state is emitted after each of its windows."""
        warn_if_clamped(self.name, self.start_date, self.days_back, "user account analytics")
        yield from self.plan_passes([{}], sync_mode)

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Any]:
        for window in self.sync_windows({}, sync_mode):
            body = self.client.get(self.path(), window.params())
            # NO_SPLIT (the default) answers one bucket, "all"; every bucket's days are emitted.
            for bucket in (body or {}).values():
                for day in (bucket or {}).get("daily_metrics") or []:
                    self.day_read({}, day.get("date"), day.get("data_status"))
                    yield {key: day.get(key) for key in ("date", "data_status", "metrics")}
            self.window_done({}, window)
            yield CHECKPOINT
