"""Async report streams (the ReportSpec table and the user's custom reports): create, poll, download, parse.

Per ad account and date window (914 days back / 186 days per report; PRODUCT_ITEM 92/31; HOUR 8/3) one report is
created (POST /ad_accounts/{id}/reports, JSON body only), polled (GET ?token=) by the state machine in
metrics/jobs.py, and its file downloaded from the pre-signed URL without our Authorization header into a temp file at
network speed (downloads.py: resumed after a cut, re-polled when the URL expires), then parsed from disk
({"<entity id>": [rows]}) and deleted, so a multi-GB report never sits in memory and no slow reader is dropped.
An ad account's windows are read in order (its pass is saved window by window); the accounts and the other streams
run side by side in the read's pool (sync/concurrency.py). When one window fails, the stream's other report jobs stop
polling and downloading at once and their files are deleted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.models import SyncMode

from source_pinterest.config import Granularity
from source_pinterest.http.downloads import DownloadCancelled, ReportDownload, deleted_after, deleted_on_failure
from source_pinterest.metrics.jobs import PollResult, ReportJobCancelled, ReportJobRunner, ReportStatus
from source_pinterest.metrics.schema import columns_schema, string_fields, typed
from source_pinterest.metrics.specs import ReportSpec
from source_pinterest.metrics.windows import Window
from source_pinterest.streams.analytics import DatedMetricsStream, warn_if_clamped
from source_pinterest.streams.base import CHECKPOINT
from source_pinterest.sync.context import SyncContext

logger = logging.getLogger("airbyte")

# How report jobs are waited for; tests replace it with a runner on a fake clock.
job_runner_factory: Callable[[], ReportJobRunner] = ReportJobRunner


def hour_of(date_value: Any) -> int | None:
    """HOUR rows carry the hour in DATE ("2024-01-31 05:00:00"); None if it has none."""
    if isinstance(date_value, str) and len(date_value) >= 13 and date_value[11:13].isdigit():
        return int(date_value[11:13])
    return None


class ReportStream(DatedMetricsStream):
    """POST /ad_accounts/{id}/reports + GET /ad_accounts/{id}/reports?token= + the file download, for one ReportSpec
    per stream. A report that fails, expires, is cancelled or never finishes is re-created up to 3 times; then
    this stream fails with the ad account, window and last status, and the other streams go on."""

    skip_statuses = frozenset({403})  # an ad account the token cannot read; the others go on
    waits_for_final_ads_metrics = True

    def __init__(self, spec: ReportSpec, ctx: SyncContext) -> None:
        self.spec = spec
        self._stopped = threading.Event()  # set when the stream fails: its other report jobs stop
        # The fewest seconds a report of this stream took from its creation to FINISHED in this sync: the next one is
        # first polled after half of that. The fastest, not the last: windows and accounts differ in size, and a
        # guess from a big one would keep a small one waiting.
        self._fastest_job_seconds: float | None = None
        self.days_back = spec.days_back
        self.max_range_days = spec.max_range_days
        self.attribution_days = spec.attribution_days
        super().__init__(ctx)
        hourly = spec.granularity is Granularity.HOUR
        self._schema = columns_schema(spec.request_columns, spec.key_fields, hourly=hourly)
        self._strings = string_fields(self._schema)
        self._hourly, self._id_column = hourly, spec.id_column  # looked up once: _record runs on every row

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def primary_key(self) -> list[str]:
        return self.spec.key_fields

    @property
    def start_date(self):
        return self.spec.start_date or self.ctx.config.start_date

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # the CDK's is an lru_cache wrapper
        return self._schema

    def path(self, stream_slice: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        return f"ad_accounts/{(stream_slice or {})['ad_account_id']}/reports"

    def stream_slices(
        self, sync_mode: SyncMode = SyncMode.full_refresh, **kwargs: Any
    ) -> Iterable[Mapping[str, Any] | None]:
        """One slice per ad account; its windows are read oldest first inside it, with the state after each."""
        warn_if_clamped(self.name, self.start_date, self.days_back, f"{self.spec.level.value} reports")
        accounts = ({"ad_account_id": str(account["id"])} for account in self.ctx.records_of("ad_accounts"))
        yield from self.plan_passes(accounts, sync_mode)

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Any]:
        partition = {"ad_account_id": (stream_slice or {})["ad_account_id"]}
        for window in self.sync_windows(partition, sync_mode):
            with self._stopped_on_failure():
                try:
                    reports = self._reports_of_window(partition, window)
                except (ReportJobCancelled, DownloadCancelled):
                    # Another account's window failed and stopped the stream, which fails with that error; this
                    # account's pass stays where it was, to be continued by the next attempt.
                    return
                if reports is None:
                    self._cursor.skip(partition)  # no access to this account: its cursor stays where it was
                    return
                with deleted_after(reports):
                    for report in reports:
                        for entity_id, row in report.rows():
                            yield self._record(partition, entity_id, row)
            self.window_done(partition, window)
            yield CHECKPOINT

    @contextmanager
    def _stopped_on_failure(self) -> Iterator[None]:
        """A failed window (or a read closed early) ends the stream: its other report jobs, in other workers, stop
        polling and downloading at once, and their files are deleted."""
        try:
            yield
        except BaseException:
            self._stopped.set()
            raise

    def _reports_of_window(self, partition: Mapping[str, Any], window: Window) -> list[ReportDownload] | None:
        """The downloaded report files of one window, complete on disk: one per targeting-type group."""
        groups = self.spec.targeting_groups or ((),)
        reports: list[ReportDownload] = []
        with deleted_on_failure(reports):
            for targeting_types in groups:
                report = self._run_report(partition, window, targeting_types)
                if report is None:
                    delete_all(reports)
                    return None
                reports.append(report)
        return reports

    def _record(self, partition: Mapping[str, Any], entity_id: str, row: dict[str, Any]) -> Mapping[str, Any]:
        row.setdefault(self._id_column, entity_id)
        row.setdefault("AD_ACCOUNT_ID", partition["ad_account_id"])
        if self._hourly:
            row.setdefault("HOUR", hour_of(row.get("DATE")))
        return typed(row, self._strings)

    def _run_report(
        self, partition: Mapping[str, Any], window: Window, targeting_types: tuple[str, ...]
    ) -> ReportDownload | None:
        path = self.path(stream_slice=partition)
        body = self.spec.request_body(window, targeting_types)
        endpoint = urlsplit(self.client.url(path)).path
        describe = (
            f"Stream {self.name}, {self.spec.level.value} report (POST {endpoint}), "
            f"ad account {partition['ad_account_id']}, {window}"
        )
        if targeting_types:
            describe += f", targeting {','.join(targeting_types)}"

        download = ReportDownload(describe, self.client.download, self._stopped)

        def create() -> tuple[str, PollResult] | None:
            download.restart()  # a new job makes a new file: bytes of an earlier job's file are not resumed
            answer = self.client.post(path, body)
            if answer is None:
                return None
            if answer.get("message"):
                logger.info(f"{describe}: Pinterest says: {answer['message']}")
            if not answer.get("token"):
                return "", PollResult(ReportStatus.DOES_NOT_EXIST)  # nothing to poll: re-create
            return str(answer["token"]), PollResult(ReportStatus.of(answer.get("report_status")))

        def poll(token: str) -> PollResult:
            answer = self.client.get(path, {"token": token}) or {}
            return PollResult(ReportStatus.of(answer.get("report_status")), answer.get("url"))

        started = time.monotonic()

        def fetch(url: str) -> ReportDownload | None:
            took = time.monotonic() - started
            if self._fastest_job_seconds is None or took < self._fastest_job_seconds:
                self._fastest_job_seconds = took
            return download.fetch(url)

        logger.info(f"{describe}: requesting the report")
        with deleted_on_failure([download]):
            runner = job_runner_factory()
            fetched = runner.run(
                describe,
                create,
                poll,
                fetch,
                cancelled=self._stopped,
                expected_seconds=self._fastest_job_seconds or 0.0,
            )
        if fetched is None:
            download.delete()
        return fetched


def delete_all(reports: list[ReportDownload] | None) -> None:
    for report in reports or ():
        report.delete()
