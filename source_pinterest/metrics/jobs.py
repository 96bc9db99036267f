"""Async report jobs as an explicit state machine: a pure decision function and a small driver with an injected clock.

Pinterest's report lifecycle (POST creates, GET ?token= polls): IN_PROGRESS until FINISHED with a download `url`
(valid 5 minutes), or FAILED / EXPIRED / CANCELLED / DOES_NOT_EXIST. `next_step` decides what to do after each
status; `ReportJobRunner` performs it: sleep, download, re-create the job (bounded), or give up. A runner given a
cancellation Event (its stream failed or ended) stops at the next poll, and its waits end as soon as it is set.

PINTEREST_REPORT_JOB_DEADLINE_SECONDS (an operator setting, like PINTEREST_MAX_RETRIES in errors.py) changes how
long one job may stay unfinished before it is abandoned and re-created (default 1800 s); all attempts of one report
together get four times that. Raise it for very large reports; end-to-end tests lower it to prove hung jobs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.limits import operator_number

T = TypeVar("T")


class ReportStatus(str, Enum):
    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    DOES_NOT_EXIST = "DOES_NOT_EXIST"

    @classmethod
    def of(cls, value: object) -> ReportStatus:
        # An unknown or missing status is treated as a job that is gone, which leads to a re-creation.
        return cls(value) if value in cls._value2member_map_ else cls.DOES_NOT_EXIST


@dataclass(frozen=True)
class PollAfter:
    seconds: float


@dataclass(frozen=True)
class Download:
    url: str


@dataclass(frozen=True)
class Fail:
    reason: str
    retryable: bool  # True: re-creating the job may help; False: the total deadline is spent


Step = PollAfter | Download | Fail

JOB_DEADLINE_ENV = "PINTEREST_REPORT_JOB_DEADLINE_SECONDS"
DEFAULT_JOB_DEADLINE_SECONDS = 30 * 60.0


def job_deadline_seconds() -> float:
    """The operator's job deadline from the environment, or the default when unset or not a positive number."""
    return operator_number(JOB_DEADLINE_ENV, DEFAULT_JOB_DEADLINE_SECONDS)


@dataclass(frozen=True)
class PollPolicy:
    first_wait: float = 0.5
    factor: float = 2.0
    max_wait: float = 60.0
    job_deadline: float = DEFAULT_JOB_DEADLINE_SECONDS  # a job still IN_PROGRESS after this is abandoned and re-created
    total_deadline: float = 4 * DEFAULT_JOB_DEADLINE_SECONDS  # all attempts of one report together
    max_attempts: int = 3  # jobs created per report before the stream fails
    max_stale_urls: int = 3  # download URLs that expired before we fetched them, per job

    @classmethod
    def from_env(cls) -> PollPolicy:
        deadline = job_deadline_seconds()
        return cls(job_deadline=deadline, total_deadline=4 * deadline)


DEFAULT_POLICY = PollPolicy()


def _s(seconds: float) -> str:
    # Whole seconds for real deadlines; a decimal for the short ones operators set in tests.
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def next_step(
    status: ReportStatus,
    url: str | None,
    job_elapsed: float,
    total_elapsed: float,
    polls: int,
    policy: PollPolicy = DEFAULT_POLICY,
    expected_seconds: float = 0.0,
) -> Step:
    """What to do after seeing `status` on the `polls`-th look at a job (0 = the creation answer).

    Polls are spaced geometrically in time: each wait is at least the one before times `factor`, and at least
    (factor - 1) times the time the job has taken, so the polls of a job of T seconds are about log2(T) whatever
    the first wait was. `expected_seconds` (how long the stream's fastest report took) moves the first poll to half
    of it: reports of a minute are then polled about twice, not five to eight times, and the ads_analytics budget the
    polls share with every metrics call goes to the calls that bring rows."""
    if status is ReportStatus.FINISHED and url:
        return Download(url)
    if total_elapsed >= policy.total_deadline:
        return Fail(f"not finished after {_s(total_elapsed)} in total (limit {_s(policy.total_deadline)})", False)
    if status in (ReportStatus.IN_PROGRESS, ReportStatus.FINISHED):  # FINISHED without url: ask again
        if job_elapsed >= policy.job_deadline:
            return Fail(f"still {status.value} after {_s(job_elapsed)} (limit {_s(policy.job_deadline)})", True)
        wait = max(policy.first_wait * policy.factor ** max(0, polls), (policy.factor - 1) * job_elapsed)
        if polls == 0:
            wait = max(wait, min(policy.max_wait / 2, expected_seconds / 2))
        wait = min(policy.max_wait, wait)
        remaining = min(policy.job_deadline - job_elapsed, policy.total_deadline - total_elapsed)
        return PollAfter(max(0.0, min(wait, remaining)))
    return Fail(f"report status {status.value}", True)


class ReportJobFailed(AirbyteTracedException):
    """A report that could not be produced within the bounded attempts; fails its stream only."""


class ReportJobCancelled(Exception):
    """The stream that wanted this report has stopped (it failed or ended): the job is left, nobody waits for it."""


@dataclass(frozen=True)
class PollResult:
    status: ReportStatus
    url: str | None = None


class ReportJobRunner(Generic[T]):
    """Runs one report to its downloaded file. `create` returns a token and the first PollResult (or None when the
    API chose to skip this ad account, and then so does `run`), `poll(token)` the current one, `fetch(url)` the
    file or None when the URL has expired (then a fresh URL is polled for)."""

    def __init__(
        self,
        policy: PollPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.policy = policy or PollPolicy.from_env()
        self.clock = clock
        self.sleep = sleep  # None: wait on the cancellation event, so a stopped stream stops waiting at once

    def run(
        self,
        describe: str,
        create: Callable[[], tuple[str, PollResult] | None],
        poll: Callable[[str], PollResult],
        fetch: Callable[[str], T | None],
        cancelled: threading.Event | None = None,
        expected_seconds: float = 0.0,
    ) -> T | None:
        """The fetched file; raises ReportJobCancelled at the next poll or wait once `cancelled` is set.
        `expected_seconds`: how long a similar report took to finish (next_step), 0 when unknown."""
        started = self.clock()
        cancelled = cancelled or threading.Event()
        last, attempts = Fail("never created", True), 0
        while attempts < self.policy.max_attempts:
            attempts += 1
            outcome = self._one_job(started, create, poll, fetch, cancelled, expected_seconds)
            if not isinstance(outcome, Fail):
                return outcome
            last = outcome
            if not outcome.retryable:
                break
        message = f"{describe}: the report could not be produced after {attempts} attempt(s); last: {last.reason}."
        raise ReportJobFailed(message=message, internal_message=message, failure_type=FailureType.transient_error)

    def _one_job(
        self, started: float, create, poll, fetch, cancelled: threading.Event, expected_seconds: float
    ) -> T | Fail | None:
        _stop_if(cancelled)
        created = create()
        if created is None:
            return None
        token, result = created
        job_started, polls, stale_urls = self.clock(), 0, 0
        while True:
            now = self.clock()
            step = next_step(
                result.status, result.url, now - job_started, now - started, polls, self.policy, expected_seconds
            )
            if isinstance(step, Fail):
                return step
            if isinstance(step, PollAfter):
                self._wait(step.seconds, cancelled)
            else:
                content = fetch(step.url)
                if content is not None:
                    return content
                stale_urls += 1
                if stale_urls > self.policy.max_stale_urls:
                    return Fail(f"{stale_urls} download URLs expired before the file was fetched", True)
            _stop_if(cancelled)
            result = poll(token)
            polls += 1

    def _wait(self, seconds: float, cancelled: threading.Event) -> None:
        if self.sleep is not None:
            self.sleep(seconds)
        else:
            cancelled.wait(seconds)


def _stop_if(cancelled: threading.Event) -> None:
    if cancelled.is_set():
        raise ReportJobCancelled()
