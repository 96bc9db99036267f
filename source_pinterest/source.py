"""SourcePinterest: spec, check, and the wiring of every stream to one shared context."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import logging
from collections.abc import Iterator, Mapping, MutableMapping
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
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.utils.schema_helpers import InternalConfig, split_config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest import limits, saved_state
from source_pinterest.auth import PinterestAuthenticator
from source_pinterest.concurrency import merge_in_threads
from source_pinterest.config import EntityStatus, PinterestConfig, normalized_raw_config, parse_config
from source_pinterest.failures import stream_failure, sync_failure
from source_pinterest.progress import CountingSliceLogger, SyncProgress, activate, summary_lines
from source_pinterest.rate_limits import build_api_budget, category_of_template
from source_pinterest.state import read_generation
from source_pinterest.streams.analytics import AnalyticsStream, DatedMetricsStream, UserAccountAnalyticsStream
from source_pinterest.streams.base import PinterestStream
from source_pinterest.streams.context import SyncContext
from source_pinterest.streams.entity import ID_LISTING_FIELDS, EntityStream, parent_fields
from source_pinterest.streams.metrics_specs import ANALYTICS_STREAMS, REPORT_STREAMS, ReportSpec, custom_report_problems
from source_pinterest.streams.reports import ReportStream
from source_pinterest.streams.special import AdAccountsStream, BoardPinsStream
from source_pinterest.streams.specs import ENTITY_STREAMS, SPECS_BY_NAME

# Streams whose behaviour differs from the generic table reading (see each class's docstring).
STREAM_CLASSES = {"ad_accounts": AdAccountsStream, "board_pins": BoardPinsStream}
ALL_STATUS_LISTINGS = ("campaigns", "ad_groups", "ads")


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
    # Metrics streams: live analytics, async reports, the user's custom reports.
    ctx.streams["user_account_analytics"] = UserAccountAnalyticsStream(ctx)
    for analytics_spec in ANALYTICS_STREAMS:
        ctx.streams[analytics_spec.name] = AnalyticsStream(analytics_spec, ctx)
    for report_spec in REPORT_STREAMS + tuple(ReportSpec.from_custom(r) for r in ctx.config.custom_reports):
        ctx.streams[report_spec.name] = ReportStream(report_spec, ctx)
    return list(ctx.streams.values())


def lane_of(stream: Stream | None) -> str:
    """Streams are read in lanes, side by side: entity streams one lane per rate-limit category (a child stream
    then replays its parents' listings instead of racing them), each async report in its own (a report job is
    mostly a wait for Pinterest to build the file), and the live analytics together."""
    if isinstance(stream, EntityStream):
        return category_of_template(stream.spec.path) or "other"
    if isinstance(stream, ReportStream):
        return stream.name
    return "analytics"


def join_generation(
    catalog: ConfiguredAirbyteCatalog, instances: Mapping[str, Stream], state: list[AirbyteStateMessage]
) -> None:
    """Tell every metrics stream read incrementally which sync generation this read belongs to, and whether it
    resumes it (state.read_generation): the answer depends on all of those streams' states together."""
    incremental = (instances.get(c.stream.name) for c in catalog.streams if c.sync_mode == SyncMode.incremental)
    metrics = [stream for stream in incremental if isinstance(stream, DatedMetricsStream)]
    saved = ConnectorStateManager(state)
    states = [saved.get_stream_state(stream.name, None) for stream in metrics]
    generation, resuming = read_generation(states, limits.now())
    for stream in metrics:
        stream.join_generation(generation, resuming)


class SourcePinterest(AbstractSource):
    """Pinterest API v5: organic (boards, pins), ads (accounts, campaigns, ad groups, ads ...), catalogs and metrics."""

    # Config is validated by config.parse_config, which names every bad field and never echoes a value; the CDK's
    # JSON-schema check would run first and print offending values (a mistyped secret included).
    check_config_against_spec = False

    def __init__(self) -> None:
        super().__init__()
        self._streams: list[PinterestStream] = []
        self._ctx: SyncContext | None = None
        self._reading = False
        self._slice_logger: CountingSliceLogger = CountingSliceLogger(SyncProgress())
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
            account = ctx.streams["user_account"].get("user_account", {})
        except AirbyteTracedException as error:
            return False, error.message
        if account is None:
            return False, "Pinterest did not return the user account for these credentials."
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return list(self._sync_streams(config))

    def _sync_streams(self, config: Mapping[str, Any]) -> list[PinterestStream]:
        """The streams of this read and, in `_ctx`, their context: built anew unless a read is under way."""
        if self._reading:  # the lanes of one read share the streams, their context and its request budgets
            return self._streams
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
        progress = SyncProgress()
        self._slice_logger = CountingSliceLogger(progress)
        self._failures = {}
        activate(progress)
        # Lanes (see lane_of) read side by side through concurrency.merge_in_threads: the CDK reads streams one after
        # another, which leaves every other category's budget idle while one stream waits for its own.
        instances = {stream.name: stream for stream in self._sync_streams(split_config(config)[0])}
        assert self._ctx is not None, "_sync_streams built the context"
        # Before any stream reads it: older shapes (Airbyte's connector's) become ours, future cursors become now.
        layouts = {name: stream.state_layout for name, stream in instances.items()}
        state = saved_state.in_our_shape(state or [], layouts, dt.datetime.now(dt.UTC))
        join_generation(catalog, instances, state)
        # A kept listing stays whole until its own stream, if selected, has replayed it (context.ParentListings).
        self._ctx.parents.replayed = {
            name for name in (c.stream.name for c in catalog.streams) if name in self._ctx.parents.fields
        }
        lanes: dict[str, list] = {}
        for configured in catalog.streams:
            lane = lane_of(instances.get(configured.stream.name)) if self._ctx.config.num_workers > 1 else "all"
            lanes.setdefault(lane, []).append(configured)
        lane_reads = [functools.partial(self._read_lane, logger, config, group, state) for group in lanes.values()]
        self._reading = True
        try:
            for message in merge_in_threads(lane_reads):
                yield message
                for line in progress.observe(message):
                    logger.info(line)
        finally:
            self._reading = False
            activate(None)
            selected = {configured.stream.name for configured in catalog.streams}
            for line in summary_lines(progress, self._streams, selected):
                logger.info(line)
        if self._failures:
            # Each failed stream has had its own error trace; the sync ends with one that names them all.
            failed = {
                c.stream.name: self._failures[c.stream.name] for c in catalog.streams if c.stream.name in self._failures
            }
            raise sync_failure(failed, len(catalog.streams))

    def _read_lane(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        streams: list,
        state: list[AirbyteStateMessage] | None,
    ) -> Iterator[AirbyteMessage]:
        """The CDK's read of some of the streams. Its closing error only sums up the failures `_read_stream` has
        kept, always as a config error; the sync's own closing error is raised once every lane is done."""
        try:
            yield from AbstractSource.read(self, logger, config, ConfiguredAirbyteCatalog(streams=streams), state)
        except AirbyteTracedException:
            if not any(configured.stream.name in self._failures for configured in streams):
                raise

    def _read_stream(
        self,
        logger: logging.Logger,
        stream_instance: Stream,
        configured_stream: ConfiguredAirbyteStream,
        state_manager: ConnectorStateManager,
        internal_config: InternalConfig,
    ) -> Iterator[AirbyteMessage]:
        """The CDK's read of one stream (AbstractSource.read calls it per stream, with no other per-stream hook),
        with its slices counted for it. What stops the stream is kept with its own failure type for the closing
        error, and is raised as a traced exception naming the stream, so the error trace the CDK emits for the
        stream carries that message instead of "Something went wrong in the connector"."""
        name = configured_stream.stream.name
        try:
            with self._slice_logger.reading(name):
                yield from super()._read_stream(
                    logger, stream_instance, configured_stream, state_manager, internal_config
                )
            if self._ctx:
                self._ctx.parents.stream_done(name)
        except Exception as error:
            api_host = urlsplit(self._ctx.base_url).hostname if self._ctx else None
            if self._ctx:
                self._ctx.parents.stream_done(name)
            failure = stream_failure(name, error, api_host)
            self._failures[name] = failure
            if failure is error:
                raise
            raise failure from error
