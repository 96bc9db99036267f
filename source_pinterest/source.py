"""SourcePinterest: spec, check, and the wiring of every stream to one shared context."""

from __future__ import annotations

import copy
import datetime as dt
import logging
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from queue import Queue
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    FailureType,
    SyncMode,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.concurrent_source.thread_pool_manager import ThreadPoolManager
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.sources.message.concurrent_repository import ConcurrentMessageRepository
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.sources.utils.schema_helpers import split_config
from airbyte_cdk.sources.utils.slice_logger import DebugSliceLogger
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest import limits
from source_pinterest.config import EntityStatus, PinterestConfig, normalized_raw_config, parse_config
from source_pinterest.http.auth import PinterestAuthenticator
from source_pinterest.http.budget import build_api_budget
from source_pinterest.metrics.organic import TOP_PINS_STREAMS
from source_pinterest.metrics.specs import ANALYTICS_STREAMS, configured_report_streams, custom_report_problems
from source_pinterest.streams.analytics import AnalyticsStream, DatedMetricsStream, UserAccountAnalyticsStream
from source_pinterest.streams.base import PinterestStream
from source_pinterest.streams.entity import ID_LISTING_FIELDS, METRICS_PARENTS, EntityStream, parent_fields
from source_pinterest.streams.organic import PinAnalyticsStream, TopPinsStream
from source_pinterest.streams.reports import ReportStream
from source_pinterest.streams.special import AdAccountsStream, BoardPinsStream
from source_pinterest.streams.specs import ENTITY_STREAMS, SPECS_BY_NAME, missing_secret_scopes
from source_pinterest.sync import saved_state
from source_pinterest.sync.concurrency import RECORDS_PER_BATCH, BatchingConcurrentSource, concurrent_stream
from source_pinterest.sync.context import SyncContext
from source_pinterest.sync.failures import stream_failure, sync_failure
from source_pinterest.sync.progress import SyncProgress, activate, summary_lines
from source_pinterest.sync.state import (
    PASS_GENERATION,
    ParentsDoneCursor,
    full_refresh_under_way,
    read_generation,
    resumes_a_pass,
)

# Streams whose behaviour differs from the generic table reading (see each class's docstring).
STREAM_CLASSES = {"ad_accounts": AdAccountsStream, "board_pins": BoardPinsStream}
# The listings of every status the live analytics' id batches come from (AnalyticsSpec.listing), and the parents read
# in every status (keywords' campaigns and ad groups): one listing each serves them all.
ALL_STATUS_LISTINGS = tuple(
    dict.fromkeys(
        [spec.listing for spec in ANALYTICS_STREAMS if spec.listing]
        + [ref.stream for spec in ENTITY_STREAMS for ref in spec.parents if ref.all_statuses]
    )
)
# Items (record batches, state, partitions) waiting for the main thread: at most about 1,000 records, as when each
# record was an item. The CDK's default, 10,000 records, cost 50 MB more peak RSS on the medium account (report rows
# of ~40 fields) for no measurable speed.
QUEUE_SIZE = 1_000 // RECORDS_PER_BATCH
# Partitions handed to the pool and not yet pruned. The CDK's default, 10,000, lets done futures pile up to that many
# before it prunes any: about 5 MB on the large account's 4,000 keyword partitions. A stream generating partitions
# waits while this many are pending, far more than the workers take at once.
MAX_PENDING_PARTITIONS = 200
# Streams listing their partitions at once (each in a thread of the pool): a child's listing waits on its parent's.
MAX_STREAMS_GENERATING = 4


def validated_config(raw_config: Mapping[str, Any]) -> PinterestConfig:
    """The parsed config, or a config error listing every problem; runs before any API call, at check and read."""
    config = parse_config(raw_config)
    # Custom-report rules the config model cannot see alone.
    problems = custom_report_problems(config)
    if problems:
        message = "Invalid configuration. " + "; ".join(problems)
        raise AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)
    return config


def build_context(raw_config: Mapping[str, Any]) -> SyncContext:
    config = validated_config(raw_config)
    try:
        base_url = limits.base_url()
    except ValueError as error:
        raise AirbyteTracedException(message=str(error), failure_type=FailureType.config_error) from None
    # The authenticator writes refreshed tokens into this mapping and emits it as the updated config.
    mutable_config = normalized_raw_config(copy.deepcopy(dict(raw_config)))
    return SyncContext(
        config=config,
        raw_config=mutable_config,
        base_url=base_url,
        authenticator=PinterestAuthenticator(mutable_config, base_url),
        api_budget=build_api_budget(),
    )


def build_streams(ctx: SyncContext) -> list[PinterestStream]:
    for spec in ENTITY_STREAMS:
        ctx.streams[spec.name] = STREAM_CLASSES.get(spec.name, EntityStream)(spec, ctx)
    # Listings of every status, for the metrics streams' id batches; never offered as streams themselves.
    for name in ALL_STATUS_LISTINGS:
        ctx.listings[name] = EntityStream(SPECS_BY_NAME[name], ctx, statuses=tuple(EntityStatus))
    fields = parent_fields()
    for listing in ctx.listings.values():
        fields[listing.listing_name] = fields.get(listing.listing_name, frozenset()) | ID_LISTING_FIELDS
    ctx.parents.fields = fields
    ctx.parents.only_for = {name: listing.reader for name, listing in METRICS_PARENTS.items()}
    ctx.parents.compact = {name: listing.compact for name, listing in METRICS_PARENTS.items()}
    # Metrics streams: live analytics, async reports, the user's custom reports.
    ctx.streams["user_account_analytics"] = UserAccountAnalyticsStream(ctx)
    ctx.streams["pin_analytics"] = PinAnalyticsStream(ctx)
    for top_pins_spec in TOP_PINS_STREAMS:
        ctx.streams[top_pins_spec.name] = TopPinsStream(top_pins_spec, ctx)
    for analytics_spec in ANALYTICS_STREAMS:
        ctx.streams[analytics_spec.name] = AnalyticsStream(analytics_spec, ctx)
    for report_spec in configured_report_streams(ctx.config):
        ctx.streams[report_spec.name] = ReportStream(report_spec, ctx)
    return list(ctx.streams.values())


def join_generation(
    catalog: ConfiguredAirbyteCatalog, instances: Mapping[str, Stream], state: list[AirbyteStateMessage]
) -> None:
    """Tell every metrics stream read incrementally and every resumable full refresh which sync generation this read
    belongs to, and whether it resumes it (state.read_generation): the answer depends on their states together.
    A full refresh's state counts once it names a generation and its pass is under way: one the platform cleared
    for a new sync, or a complete one, says nothing. A full refresh skips a pass completed in the generation only
    when some pass of it is under way (state.resumes_a_pass), never because the last sync began less than an hour
    ago."""
    incremental = (instances.get(c.stream.name) for c in catalog.streams if c.sync_mode == SyncMode.incremental)
    metrics = [stream for stream in incremental if isinstance(stream, DatedMetricsStream)]
    selected = (instances.get(c.stream.name) for c in catalog.streams)
    full_refresh: dict[str, ParentsDoneCursor] = {
        stream.name: cursor
        for stream in selected
        if stream is not None and isinstance(cursor := getattr(stream, "cursor", None), ParentsDoneCursor)
    }
    saved = ConnectorStateManager(state)
    metrics_states = [saved.get_stream_state(stream.name, None) for stream in metrics]
    full_refresh_states = [
        s for s in (saved.get_stream_state(name, None) for name in full_refresh) if s.get(PASS_GENERATION)
    ]
    # A full refresh's complete pass is no sign of an unfinished sync, whatever its generation: one of an older
    # sync (a stream selected again) would otherwise make a new sync resume the last one and read no new metrics.
    under_way = [s for s in full_refresh_states if full_refresh_under_way(s)]
    generation, resuming = read_generation(metrics_states + under_way, limits.now())
    for stream in metrics:
        stream.join_generation(generation, resuming)
    resumes = resuming and resumes_a_pass(metrics_states, full_refresh_states, generation)
    for cursor in full_refresh.values():
        cursor.join_generation(generation, resumes)


def sync_mode_to_read(configured: ConfiguredAirbyteStream, stream: Stream, logger: logging.Logger) -> SyncMode:
    """The catalog's sync mode, or full refresh for a stream without a cursor that the catalog asks to read
    incrementally (a connection set up while boards and pins were incremental on created_at): one warning says so,
    and the sync goes on."""
    if configured.sync_mode != SyncMode.incremental or stream.supports_incremental:
        return configured.sync_mode
    logger.warning(
        f"Stream {stream.name}: the catalog asks for an incremental sync, but the stream is full refresh only; it is "
        f"read as a full refresh. Refresh the source schema in the connection's settings."
    )
    return SyncMode.full_refresh


def warn_of_missing_secret_scopes(ctx: SyncContext, selected: set[str], logger: logging.Logger) -> None:
    """One warning for the sync when the token lacks a *:read_secret scope a selected stream could use: Pinterest
    then leaves secret boards and pins out without an error, and the rest syncs."""
    granted = ctx.authenticator.granted_scopes
    missing = missing_secret_scopes(sorted(selected), granted) if granted is not None else {}
    if missing:
        streams = sorted({name for names in missing.values() for name in names})
        logger.warning(
            f"The token lacks the scope(s) {', '.join(sorted(missing))}: the secret boards and pins they guard are "
            f"left out of {', '.join(streams)}; public and protected content synced. Re-authorize the app with "
            f"these scopes to sync secret content too."
        )


class SourcePinterest(AbstractSource):
    """Pinterest API v5: organic (boards, pins), ads (accounts, campaigns, ad groups, ads ...), catalogs and metrics."""

    # Config is validated by config.parse_config, which names every bad field and never echoes a value; the CDK's
    # JSON-schema check would run first and print offending values (a mistyped secret included).
    check_config_against_spec = False

    def __init__(self) -> None:
        super().__init__()
        self._streams: list[PinterestStream] = []
        self._ctx: SyncContext | None = None
        self._failures: dict[str, AirbyteTracedException] = {}  # stream -> what stopped it, in this read

    @staticmethod
    def read_config(config_path: str) -> MutableMapping[str, Any]:
        """The CDK's reader, with its ValueError (not JSON, or not an object) turned into a config error: the
        platform then tells the user to fix the config instead of "Something went wrong in the connector"."""
        try:
            return AbstractSource.read_config(config_path)
        except ValueError as error:
            message = f"Invalid configuration file: {error}"
            raise AirbyteTracedException(
                message=message, internal_message=message, failure_type=FailureType.config_error
            ) from None

    @classmethod
    def read_state(cls, state_path: str) -> list[AirbyteStateMessage]:
        """Per-stream state, the legacy object form converted; a bad file is a config error naming it."""
        return saved_state.read_state_file(state_path) if state_path else []

    @classmethod
    def read_catalog(cls, catalog_path: str) -> ConfiguredAirbyteCatalog:
        """The configured catalog; a bad file is a config error naming it and what is wrong."""
        return saved_state.read_catalog_file(catalog_path)

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, Any | None]:
        """Valid config, a token refresh and one cheap call (GET /user_account)."""
        try:
            ctx = build_context(config)
            build_streams(ctx)
            account = ctx.streams["user_account"].client.get("user_account", {})
        except AirbyteTracedException as error:
            return False, error.message
        ctx.authenticator.warn_if_refresh_token_ends_soon()  # from the refresh just made, or the saved expiry
        if account is None:
            return False, "Pinterest did not return the user account for these credentials."
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return list(self._sync_streams(config))

    def _sync_streams(self, config: Mapping[str, Any]) -> list[PinterestStream]:
        """The streams of one read and, in `_ctx`, the context they share."""
        self._ctx = build_context(config)
        self._streams = build_streams(self._ctx)
        return self._streams

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        """Every selected stream through the CDK's concurrent framework (sync/concurrency.py), one pool for all."""
        progress = SyncProgress()
        self._failures = {}
        activate(progress)
        instances = {stream.name: stream for stream in self._sync_streams(split_config(config)[0])}
        ctx = self._ctx
        assert ctx is not None, "_sync_streams built the context"
        ctx.authenticator.warn_if_refresh_token_ends_soon()  # the saved expiry; a refresh during the read says it too
        unknown = [c.stream.name for c in catalog.streams if c.stream.name not in instances]
        if unknown:
            message = (
                f"The catalog names streams this connector does not have: {', '.join(unknown)}. Refresh the source "
                f"schema in the connection's settings and remove them."
            )
            raise AirbyteTracedException(
                message=message, internal_message=message, failure_type=FailureType.config_error
            )
        modes = {c.stream.name: sync_mode_to_read(c, instances[c.stream.name], logger) for c in catalog.streams}
        # Before any stream reads it: older shapes (Airbyte's connector's) become ours, future cursors become now.
        layouts = {name: stream.state_layout for name, stream in instances.items()}
        state = saved_state.in_our_shape(state or [], layouts, dt.datetime.now(dt.UTC))
        join_generation(catalog, instances, state)
        # Which kept listings stay whole until their selected stream replays them, which are not kept at all.
        ctx.parents.select(c.stream.name for c in catalog.streams)
        workers = ctx.config.num_workers
        # Fewer streams listing partitions than threads, so that partitions always find a thread to read them.
        generating = max(1, min(workers - 1, MAX_STREAMS_GENERATING))
        reading_slots = threading.BoundedSemaphore(workers)  # partitions read at once, whatever the pool's size
        queue: Queue = Queue(maxsize=QUEUE_SIZE)
        repository = ConcurrentMessageRepository(queue, InMemoryMessageRepository())
        state_manager = ConnectorStateManager(state)
        api_host = urlsplit(ctx.base_url).hostname

        def failed(name: str, error: Exception) -> AirbyteTracedException | None:
            """A stream's first failure is its error; a later one, of another of its partitions, is only logged."""
            failure = stream_failure(name, error, api_host)
            if self._failures.setdefault(name, failure) is not failure:
                logger.warning(f"{failure.message} (the stream had failed already)")
                return None
            return failure

        def read_phase(configured: list[ConfiguredAirbyteStream]) -> Iterator[AirbyteMessage]:
            """These streams through one ConcurrentSource and pool of num_workers threads."""
            streams = [
                concurrent_stream(
                    instances[c.stream.name],
                    modes[c.stream.name],
                    state_manager,
                    repository,
                    progress,
                    failed,
                    ctx.parents.stream_done,
                    reading_slots,
                    logger,
                )
                for c in configured
            ]
            # The pool is ours, so that a read that ends with a failure still lets its (idle) threads go at once.
            # A stream listing its partitions waits while MAX_PENDING_PARTITIONS of them are unread: with one
            # thread in all (num_workers 1), none was left to read them and the sync hung. So one worker has a
            # second thread, and reads one partition at a time all the same (reading_slots).
            pool = ThreadPoolExecutor(max_workers=max(workers, generating + 1), thread_name_prefix="workerpool")
            source = BatchingConcurrentSource(
                threadpool=ThreadPoolManager(pool, logger, max_concurrent_tasks=MAX_PENDING_PARTITIONS),
                logger=logger,
                slice_logger=DebugSliceLogger(),
                queue=queue,
                message_repository=repository,
                initial_number_partitions_to_generate=generating,
            )
            try:
                for output in source.read(list[AbstractStream](streams)):
                    yield output
                    for line in progress.observe(output):
                        logger.info(line)
            finally:
                pool.shutdown(wait=False, cancel_futures=True)

        # A full refresh pass that completed is read again whole by an attempt started again (Airbyte's resumable
        # full refresh: a new read cannot tell an attempt from a new sync, and a full refresh must not come back
        # empty from a new sync). So those streams are read after all the others, in a second pool: an attempt
        # killed before them loses none of their passes, and one that reaches them has little else left to read.
        # Started alongside the others, a completed ranking pass (700 rows on the small account) was read again by
        # every later attempt, and the resume chains stopped making progress. A stream whose listing another
        # stream reads starts first in the first phase, even a full refresh (pins, for pin_analytics), so that its
        # own read lists it for both.
        def phase(c: ConfiguredAirbyteStream) -> int:
            lists_for_another = ctx.parents.start_order(c.stream.name) == 0
            return 1 if isinstance(instances[c.stream.name].cursor, ParentsDoneCursor) and not lists_for_another else 0

        configured = sorted(catalog.streams, key=lambda c: ctx.parents.start_order(c.stream.name))
        phases = [[c for c in configured if phase(c) == number] for number in (0, 1)]
        try:
            for streams in (group for group in phases if group):
                try:
                    yield from read_phase(streams)
                except AirbyteTracedException:
                    if not self._failures:
                        raise  # not a stream's failure: the CDK's own words stand
        finally:
            activate(None)
            selected = {configured.stream.name for configured in catalog.streams}
            warn_of_missing_secret_scopes(ctx, selected, logger)
            for line in summary_lines(progress, self._streams, selected):
                logger.info(line)
        if self._failures:
            # Each failed stream has had its own error trace; the sync ends with one that names them all.
            failed_streams = {
                c.stream.name: self._failures[c.stream.name] for c in catalog.streams if c.stream.name in self._failures
            }
            raise sync_failure(failed_streams, len(catalog.streams))
