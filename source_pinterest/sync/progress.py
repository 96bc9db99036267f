"""What a running sync tells the operator: a periodic progress line per stream, and the summary at the end."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airbyte_cdk.models import AirbyteMessage, AirbyteStreamStatus, TraceType, Type

from source_pinterest.limits import operator_number

PROGRESS_INTERVAL_ENV = "PINTEREST_PROGRESS_LOG_SECONDS"
DEFAULT_PROGRESS_INTERVAL_SECONDS = 30.0


def progress_interval() -> float:
    return operator_number(PROGRESS_INTERVAL_ENV, DEFAULT_PROGRESS_INTERVAL_SECONDS, allow_zero=True)


@dataclass
class _Wait:
    seconds: float
    reason: str
    until: float  # monotonic time the wait ends


@dataclass
class SyncProgress:
    """Counters of one sync. Slices are counted as a stream's partitions are made; waits are reported by the backoff
    strategy, from whichever worker thread slept. A progress line is due for every stream being read (STARTED and
    not yet COMPLETE or INCOMPLETE): the pool reads several at once."""

    interval: float = field(default_factory=progress_interval)
    clock: Callable[[], float] = time.monotonic
    records: Counter = field(default_factory=Counter)
    slices: Counter = field(default_factory=Counter)
    waited: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # seconds, per stream
    running: dict = field(default_factory=dict)  # stream -> None, in the order they started
    _last_wait: dict = field(default_factory=dict)
    _next_log: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.started = self.clock()
        self._next_log = self.started + self.interval

    def record_wait(self, stream: str, seconds: float, reason: str) -> None:
        with self._lock:
            self.waited[stream] += seconds
            self._last_wait[stream] = _Wait(seconds, reason, self.clock() + seconds)

    def slice_started(self, stream: str) -> None:
        with self._lock:
            self.slices[stream] += 1

    def observe(self, message: AirbyteMessage) -> list[str]:
        """Counts the message; returns the progress lines of the streams being read when they are due."""
        record = message.record  # set on RECORD messages only; checked first, as this runs for every record
        if record is not None:
            self.records[record.stream] += 1
        elif message.type == Type.TRACE and message.trace is not None and message.trace.type == TraceType.STREAM_STATUS:
            status = message.trace.stream_status
            assert status is not None, "a STREAM_STATUS trace carries its stream status"
            if status.status == AirbyteStreamStatus.STARTED:
                self.running[status.stream_descriptor.name] = None
            elif status.status in (AirbyteStreamStatus.COMPLETE, AirbyteStreamStatus.INCOMPLETE):
                self.running.pop(status.stream_descriptor.name, None)
        now = self.clock()
        if not self.running or now < self._next_log:
            return []
        self._next_log = now + self.interval
        return [self.line(stream) for stream in self.running]

    def line(self, stream: str) -> str:
        text = (
            f"Progress: stream={stream} records={self.records[stream]} slices_started={self.slices[stream]} "
            f"rate_limit_wait_total={self.waited[stream]:.1f}s"
        )
        wait = self._last_wait.get(stream)
        remaining = wait.until - self.clock() if wait else 0.0
        if wait and remaining > 0:
            text += f" waiting_now={remaining:.1f}s ({wait.reason})"
        return text + f" elapsed={self.clock() - self.started:.1f}s"


# The sync in progress, for the backoff strategy's wait reports; None outside a read (check, discover, tests).
_active: SyncProgress | None = None


def activate(progress: SyncProgress | None) -> None:
    global _active
    _active = progress


def record_wait(stream: str, seconds: float, reason: str) -> None:
    if _active is not None:
        _active.record_wait(stream, seconds, reason)


def summary_lines(progress: SyncProgress, streams: list[Any], selected: set[str]) -> list[str]:
    lines = [
        f"Sync summary: stream={stream.name} records={progress.records[stream.name]} "
        f"requests={stream.requests_made} slices={progress.slices[stream.name]} "
        f"rate_limit_wait={progress.waited[stream.name]:.1f}s"
        for stream in streams
        if stream.name in selected
    ]
    total = sum(progress.records.values())
    lines.append(f"Sync summary: total records={total} seconds={progress.clock() - progress.started:.1f}")
    return lines
