"""The async report state machine: the pure decision table and the driver with a fake clock."""

from __future__ import annotations

import pytest

from source_pinterest.metrics.jobs import (
    Download,
    Fail,
    PollAfter,
    PollPolicy,
    PollResult,
    ReportJobFailed,
    ReportJobRunner,
    ReportStatus,
    next_step,
)

S = ReportStatus
POLICY = PollPolicy(
    first_wait=5, factor=2, max_wait=60, job_deadline=600, total_deadline=1800, max_attempts=3, max_stale_urls=2
)


@pytest.mark.parametrize(
    "status,url,job_elapsed,total_elapsed,polls,expected",
    [
        (S.IN_PROGRESS, None, 0, 0, 0, PollAfter(5)),
        (S.IN_PROGRESS, None, 10, 10, 1, PollAfter(10)),
        (S.IN_PROGRESS, None, 30, 30, 3, PollAfter(40)),
        (S.IN_PROGRESS, None, 100, 100, 4, PollAfter(60)),  # capped
        (S.IN_PROGRESS, None, 100, 100, 30, PollAfter(60)),
        (S.IN_PROGRESS, None, 590, 590, 30, PollAfter(10)),  # never sleeps past the job deadline
        (S.FINISHED, "https://files/r.json", 10, 10, 2, Download("https://files/r.json")),
        (S.FINISHED, "https://files/r.json", 5000, 5000, 99, Download("https://files/r.json")),  # done is done
        (S.FINISHED, None, 10, 10, 1, PollAfter(10)),  # finished without a URL: ask again
        (S.FAILED, None, 10, 10, 1, Fail("report status FAILED", True)),
        (S.EXPIRED, None, 10, 10, 1, Fail("report status EXPIRED", True)),
        (S.CANCELLED, None, 10, 10, 1, Fail("report status CANCELLED", True)),
        (S.DOES_NOT_EXIST, None, 10, 10, 1, Fail("report status DOES_NOT_EXIST", True)),
        (
            S.IN_PROGRESS,
            None,
            600,
            600,
            9,
            Fail("still IN_PROGRESS after 600 s (limit 600 s)", True),
        ),  # job deadline: re-create
        (
            S.IN_PROGRESS,
            None,
            100,
            1800,
            9,
            Fail("not finished after 1800 s in total (limit 1800 s)", False),
        ),  # total: give up
    ],
)
def test_next_step(status, url, job_elapsed, total_elapsed, polls, expected):
    assert next_step(status, url, job_elapsed, total_elapsed, polls, POLICY) == expected


@pytest.mark.parametrize(
    "job_elapsed,polls,expected_seconds,wait",
    [
        (0, 0, 50, 25),  # the first poll at half what the stream's last report took
        (0, 0, 8, 5),  # never sooner than the policy's first wait
        (0, 0, 500, 30),  # at most half the longest wait
        (25, 1, 50, 25),  # then geometric in time: the next poll when the job has taken twice as long
        (0, 0, 0, 5),  # no report of the stream finished yet: the policy's schedule
    ],
)
def test_given_how_long_the_last_report_took_then_the_first_poll_waits_for_half_of_it(
    job_elapsed, polls, expected_seconds, wait
):
    step = next_step(S.IN_PROGRESS, None, job_elapsed, job_elapsed, polls, POLICY, expected_seconds)
    assert step == PollAfter(wait)


def test_given_a_report_of_a_minute_like_the_last_one_then_it_is_polled_twice_not_five_times():
    def polls_until_done(expected_seconds: float) -> int:
        api = FakeApi([["IN_PROGRESS"]])
        finishes_at = 55.0

        def poll(token: str) -> PollResult:
            api.polls += 1
            done = api.now >= finishes_at
            return PollResult(S.FINISHED if done else S.IN_PROGRESS, "https://files/r" if done else None)

        runner = ReportJobRunner(POLICY, clock=api.clock, sleep=api.sleep)
        assert runner.run("Stream x", api.create, poll, api.fetch, expected_seconds=expected_seconds) == "file"
        return api.polls

    assert polls_until_done(0) == 4  # at 5, 15, 35, 75 s
    assert polls_until_done(60) == 2  # at 30, 60 s


def test_unknown_status_is_a_job_that_is_gone():
    assert ReportStatus.of("SOMETHING_NEW") is S.DOES_NOT_EXIST
    assert ReportStatus.of("FINISHED") is S.FINISHED


class FakeApi:
    """Scripted job fates: each created job answers the next list of statuses, one per poll."""

    def __init__(self, jobs: list[list[str]], files: list = ()) -> None:
        self.jobs = [list(statuses) for statuses in jobs]
        self.files = list(files) or ["file"]
        self.now = 0.0
        self.created = 0
        self.polls = 0
        self.fetched: list[str] = []
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def create(self):
        self.created += 1
        return f"t{self.created}", PollResult(S.IN_PROGRESS)

    def poll(self, token: str) -> PollResult:
        self.polls += 1
        statuses = self.jobs[int(token[1:]) - 1]
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return PollResult(S(status), f"https://files/{token}/{self.polls}" if status == "FINISHED" else None)

    def fetch(self, url: str):
        self.fetched.append(url)
        return self.files.pop(0) if len(self.files) > 1 else self.files[0]

    def run(self):
        runner = ReportJobRunner(POLICY, clock=self.clock, sleep=self.sleep)
        return runner.run("Stream x, ad account 1, 2024-01-01..2024-01-31", self.create, self.poll, self.fetch)


def test_given_in_progress_then_finished_when_run_then_waits_grow_and_the_file_is_downloaded():
    api = FakeApi([["IN_PROGRESS", "IN_PROGRESS", "FINISHED"]])
    assert api.run() == "file"
    assert api.slept == [5, 10, 20]
    assert api.fetched == ["https://files/t1/3"]
    assert api.created == 1


def test_given_failed_then_expired_then_finished_when_run_then_the_job_is_recreated():
    api = FakeApi([["FAILED"], ["EXPIRED"], ["FINISHED"]])
    assert api.run() == "file"
    assert api.created == 3


def test_given_a_job_that_fails_every_time_when_run_then_bounded_attempts_and_a_clear_error():
    api = FakeApi([["FAILED"], ["CANCELLED"], ["FAILED"], ["FINISHED"]])
    with pytest.raises(ReportJobFailed) as error:
        api.run()
    assert api.created == 3
    assert error.value.message == (
        "Stream x, ad account 1, 2024-01-01..2024-01-31: the report could not be produced after 3 attempt(s); "
        "last: report status FAILED."
    )


def test_given_a_job_that_never_finishes_when_run_then_it_is_abandoned_at_each_deadline():
    api = FakeApi([["IN_PROGRESS"]] * 5)
    with pytest.raises(ReportJobFailed) as error:
        api.run()
    # 600 s per job, 1800 s in total: three jobs, then the total deadline.
    assert api.created == 3
    assert api.now == pytest.approx(1800)
    assert "IN_PROGRESS" in error.value.message or "in total" in error.value.message
    assert max(api.slept) == 60


def test_given_expired_download_urls_when_run_then_a_fresh_url_is_polled_for():
    api = FakeApi([["FINISHED"]], files=[None, None, "file"])
    assert api.run() == "file"
    assert api.fetched == ["https://files/t1/1", "https://files/t1/2", "https://files/t1/3"]
    assert api.created == 1


def test_given_download_urls_that_always_expire_then_the_job_is_recreated_then_fails():
    api = FakeApi([["FINISHED"]] * 3, files=[None])
    with pytest.raises(ReportJobFailed, match="download URLs expired"):
        api.run()
    assert api.created == 3
    assert len(api.fetched) == 9  # 3 per job: the first URL and two fresh ones


def test_given_creation_skipped_then_run_returns_none_without_polling():
    api = FakeApi([["FINISHED"]])
    runner = ReportJobRunner(POLICY, clock=api.clock, sleep=api.sleep)
    assert runner.run("x", lambda: None, api.poll, api.fetch) is None
    assert api.polls == 0


@pytest.mark.parametrize(
    "env_value,job_deadline,total_deadline",
    [
        (None, 1800, 7200),  # unset: 30 minutes per job, 2 hours per report
        ("90", 90, 360),
        ("1.5", 1.5, 6),
        ("0", 1800, 7200),  # not a usable deadline: the default
        ("-5", 1800, 7200),
        ("soon", 1800, 7200),
    ],
)
def test_given_job_deadline_env_when_runner_built_then_both_deadlines_follow_it(
    monkeypatch, env_value, job_deadline, total_deadline
):
    if env_value is None:
        monkeypatch.delenv("PINTEREST_REPORT_JOB_DEADLINE_SECONDS", raising=False)
    else:
        monkeypatch.setenv("PINTEREST_REPORT_JOB_DEADLINE_SECONDS", env_value)

    policy = ReportJobRunner().policy

    assert (policy.job_deadline, policy.total_deadline) == (job_deadline, total_deadline)
    assert policy.max_attempts == 3


def test_given_the_stream_stopped_while_a_job_waits_then_the_wait_ends_at_once_and_no_more_polls():
    import threading
    import time

    from source_pinterest.metrics.jobs import ReportJobCancelled

    api = FakeApi([["IN_PROGRESS"]])
    cancelled = threading.Event()
    runner = ReportJobRunner(PollPolicy(first_wait=30, max_wait=30))  # no injected sleep: waits on the event
    outcome: list = []

    def run():
        try:
            runner.run("Stream x", api.create, api.poll, api.fetch, cancelled=cancelled)
        except ReportJobCancelled as error:
            outcome.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.2)  # created, now in its 30 s wait
    started = time.monotonic()
    cancelled.set()
    worker.join(5)

    assert time.monotonic() - started < 1
    assert len(outcome) == 1
    assert (api.created, api.polls) == (1, 0)
