"""Organic pin analytics: pin_analytics (daily metrics of every pin of the user) and the top-pins rankings."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.types import StreamSlice

from source_pinterest import limits
from source_pinterest.metrics.organic import (
    MULTI_PIN_BATCH,
    NUM_OF_PINS,
    PIN_METRIC_TYPES,
    TopPinsSpec,
    daily_rows,
    pin_created_by,
    ranking_rows,
)
from source_pinterest.metrics.windows import Window, batches, earliest_allowed
from source_pinterest.streams.analytics import DatedMetricsStream, warn_if_clamped
from source_pinterest.streams.base import CHECKPOINT, PinterestStream, load_schema, stringify_ids
from source_pinterest.sync.context import SyncContext
from source_pinterest.sync.state import ParentsDoneCursor

logger = logging.getLogger("airbyte")

MULTI_PIN_PATH = "pins/analytics"
PIN_PATH = "pins/{pin_id}/analytics"
# One answer holds up to 100 pins x 90 days (9,000 rows): the state is also saved inside it, at the first pin
# boundary after this many rows, so a killed attempt does not read the whole batch again.
CHECKPOINT_ROWS = 500


class PinAnalyticsStream(DatedMetricsStream):
    """GET /pins/analytics (beta: up to 100 pin ids a call) for every pin the `pins` stream lists, daily, every
    pin metric type; GET /pins/{pin_id}/analytics per pin where the app has no access to the beta endpoint.

    One date cursor for all pins, not one per pin: its state stays a few bytes for tens of thousands of pins. A pin
    created after the last sync cannot have data before that sync's last day, which the look-back re-reads anyway,
    so new pins are complete from their first day. Its own class because the ids come from the organic pins
    listing (reused, not listed again), the answer is keyed by pin id, and the endpoint may be refused."""

    partitioned = False
    # 403: the beta multi-pin endpoint is not open to this app (then per pin), or a pin the token cannot read;
    # 404: a pin deleted since it was listed. Neither fails the stream.
    skip_statuses = frozenset({403, 404})

    def __init__(self, ctx: SyncContext) -> None:
        super().__init__(ctx)
        self._multi_available = True  # until GET /pins/analytics answers 403, once per sync

    @property
    def name(self) -> str:
        return "pin_analytics"

    @property
    def primary_key(self) -> list[str]:
        return ["PIN_ID", "DATE"]

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # the CDK's is an lru_cache wrapper
        return load_schema(self.name)

    def stream_slices(
        self, sync_mode: SyncMode = SyncMode.full_refresh, **kwargs: Any
    ) -> Iterable[Mapping[str, Any] | None]:
        """One slice; the state is emitted after every batch of 100 pins and every window."""
        warn_if_clamped(self.name, self.start_date, self.days_back, "pin analytics")
        yield from self.plan_passes([{}], sync_mode)

    def params(self, window: Window) -> dict[str, Any]:
        # metric_types is explode: false in the spec (one comma-separated value); app_types ALL is the default,
        # sent so the request says what the numbers cover.
        return {**window.params(), "metric_types": ",".join(PIN_METRIC_TYPES), "app_types": "ALL"}

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Any]:
        windows = self.sync_windows({}, sync_mode)
        pins = self.ctx.compact_records_of("pins") if windows else []
        for window in windows:
            ids = self.remaining_ids({}, pin_created_by(pins, window.end), window)
            id_batches = batches(ids, MULTI_PIN_BATCH)
            for number, batch in enumerate(id_batches):
                since_checkpoint, last_pin = 0, None
                for row in self._batch_rows(batch, window):
                    if row["PIN_ID"] != last_pin and last_pin is not None and since_checkpoint >= CHECKPOINT_ROWS:
                        # Every row of the pins up to last_pin is out: an attempt killed later resumes after it.
                        self._cursor.batch_done({}, window.end.isoformat(), last_pin)
                        yield CHECKPOINT
                        since_checkpoint = 0
                    self.day_read({}, row.get("DATE"), row.get("DATA_STATUS"))
                    last_pin, since_checkpoint = row["PIN_ID"], since_checkpoint + 1
                    yield row
                if number + 1 < len(id_batches):
                    self._cursor.batch_done({}, window.end.isoformat(), batch[-1])
                    yield CHECKPOINT
            self.window_done({}, window)
            yield CHECKPOINT

    def _batch_rows(self, batch: tuple[str, ...], window: Window) -> Iterator[dict[str, Any]]:
        if self._multi_available:
            # pin_ids sets no style in the spec: the OpenAPI default, one repeated key per id.
            body, status = self.client.get_with_status(MULTI_PIN_PATH, {**self.params(window), "pin_ids": list(batch)})
            if body is not None:
                answers = body if isinstance(body, Mapping) else {}
                for pin_id in batch:
                    yield from daily_rows(pin_id, answers.get(pin_id))
                return
            if status == 403:
                self._multi_available = False
                logger.warning(
                    f"Stream {self.name}: GET /v5/{MULTI_PIN_PATH} (beta) is not available to this app (HTTP 403); "
                    f"reading GET /v5/{PIN_PATH} once per pin instead for the rest of this sync."
                )
            else:
                logger.warning(
                    f"Stream {self.name}: GET /v5/{MULTI_PIN_PATH} refused a batch of {len(batch)} pins "
                    f"(HTTP {status}); reading those pins one by one."
                )
        for pin_id in batch:
            answer = self.client.get(PIN_PATH.format(pin_id=pin_id), self.params(window))
            if answer is not None:  # None: a pin deleted or hidden since it was listed, logged by the client
                yield from daily_rows(pin_id, answer)


class TopPinsStream(PinterestStream):
    """GET /user_account/analytics/top_pins and .../top_video_pins: the user's 50 best pins over the sync window
    (start_date, at most 90 days back, to today), once per sort_by value, with every metric type; one row per
    (window, sort_by, pin). A full refresh: a ranking of one window is no time series to append to. Resumable per
    sort_by (state.ParentsDoneCursor), so an attempt started again skips the rankings already emitted."""

    days_back = limits.LIVE_ANALYTICS_DAYS_BACK
    cursor: ParentsDoneCursor

    def __init__(self, spec: TopPinsSpec, ctx: SyncContext) -> None:
        self.spec = spec
        super().__init__(ctx)
        self.cursor = ParentsDoneCursor(spec.name)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def primary_key(self) -> list[str]:
        return list(self.spec.primary_key)

    @property
    def is_resumable(self) -> bool:
        return True

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self.cursor.get_stream_state()

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self.cursor.set_initial_state(value)

    def window(self) -> Window:
        today = limits.today()
        start = earliest_allowed(today, self.days_back)
        configured = self.ctx.config.start_date
        return Window(max(start, configured) if configured else start, today)

    def stream_slices(self, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        warn_if_clamped(self.name, self.ctx.config.start_date, self.days_back, "top pins analytics")
        for partition in self.cursor.to_read([{"sort_by": value} for value in self.spec.sort_by]):
            yield StreamSlice(partition=partition, cursor_slice={})

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        sort_by = (stream_slice or {})["sort_by"]
        window = self.window().params()
        params = {
            **window,
            "sort_by": sort_by,
            "num_of_pins": NUM_OF_PINS,
            "metric_types": ",".join(self.spec.metric_types),  # explode: false, one comma-separated value
        }
        answer = self.client.get(self.spec.path, params)
        for row in ranking_rows(answer, window, sort_by):
            yield stringify_ids(row)
        self.cursor.close_slice(StreamSlice(partition={"sort_by": sort_by}, cursor_slice={}))
