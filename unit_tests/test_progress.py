"""What a running sync tells the operator: stream statuses, periodic progress lines and the final summary."""

from __future__ import annotations

import re

import pytest
from airbyte_cdk.models import (
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteStreamStatus,
    Level,
    StreamDescriptor,
    SyncMode,
    Type,
)
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message as stream_status_as_airbyte_message

from source_pinterest.sync.progress import PROGRESS_INTERVAL_ENV, SyncProgress
from unit_tests.conftest import make_config, read_streams

AD_ACCOUNTS = [{"id": "1", "updated_time": 10}, {"id": "2", "updated_time": 20}]


def logs(output) -> list[str]:
    return [m.log.message for m in output.logs]


def statuses(output, stream: str) -> list[AirbyteStreamStatus]:
    return [
        m.trace.stream_status.status
        for m in output.trace_messages
        if m.trace.stream_status and m.trace.stream_status.stream_descriptor.name == stream
    ]


def test_given_a_sync_then_each_stream_reports_started_running_and_complete(api):
    api.pages("ad_accounts", [AD_ACCOUNTS])
    api.pages("ad_accounts/1/campaigns", [[{"id": "11", "updated_time": 5}]])
    api.pages("ad_accounts/2/campaigns", [[]])

    output = read_streams(make_config(), ["ad_accounts", "campaigns"])

    assert statuses(output, "campaigns") == [
        AirbyteStreamStatus.STARTED,
        AirbyteStreamStatus.RUNNING,
        AirbyteStreamStatus.COMPLETE,
    ]


def test_given_a_sync_then_the_summary_gives_records_requests_slices_and_waits_per_stream(api):
    api.pages("ad_accounts", [AD_ACCOUNTS])
    api.pages("ad_accounts/1/campaigns", [[{"id": "11", "updated_time": 5}], [{"id": "12", "updated_time": 6}]])
    api.pages("ad_accounts/2/campaigns", [[{"id": "21", "updated_time": 7}]])

    output = read_streams(make_config(num_workers=1), ["campaigns"], SyncMode.incremental)

    (line,) = [m for m in logs(output) if m.startswith("Sync summary: stream=campaigns")]
    # Three pages over two ad-account slices; the ad accounts listing is the slices' source, not campaigns' work.
    assert line == "Sync summary: stream=campaigns records=3 requests=3 slices=2 rate_limit_wait=0.0s"
    assert any(re.fullmatch(r"Sync summary: total records=3 seconds=\d+\.\d", m) for m in logs(output))


def test_given_a_429_then_the_wait_is_counted_for_its_stream(api):
    api.mocker.get(
        "https://api.pinterest.com/v5/boards",
        [
            {"status_code": 429, "json": {"code": 8, "message": "Rate limited"}, "headers": {"Retry-After": "7"}},
            {"json": {"items": [{"id": "1", "created_at": "2024-01-01T00:00:00"}], "bookmark": None}},
        ],
    )

    output = read_streams(make_config(), ["boards"])

    (line,) = [m for m in logs(output) if m.startswith("Sync summary: stream=boards")]
    assert "records=1 requests=1" in line and "rate_limit_wait=7.0s" in line


def test_given_a_zero_interval_then_a_progress_line_follows_every_message(api, monkeypatch):
    monkeypatch.setenv(PROGRESS_INTERVAL_ENV, "0")
    api.pages("boards", [[{"id": "1"}], [{"id": "2"}]])

    output = read_streams(make_config(), ["boards"])

    progress = [m for m in logs(output) if m.startswith("Progress: stream=boards")]
    assert progress, "no progress line"
    assert re.fullmatch(
        r"Progress: stream=boards records=2 slices_started=1 rate_limit_wait_total=0\.0s elapsed=\d+\.\d+s",
        progress[-1],
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_given_a_wait_in_progress_then_the_progress_line_says_how_long_and_why():
    clock = FakeClock()
    progress = SyncProgress(interval=30, clock=clock)
    progress.record_wait("campaigns", 12.0, "GET /v5/ad_accounts/1/campaigns answered HTTP 429")
    clock.now += 2

    line = progress.line("campaigns")

    assert "rate_limit_wait_total=12.0s" in line
    assert "waiting_now=10.0s (GET /v5/ad_accounts/1/campaigns answered HTTP 429)" in line


def test_given_the_interval_has_not_passed_then_no_progress_line_is_due():
    clock = FakeClock()
    progress = SyncProgress(interval=30, clock=clock)
    progress.observe(_status("boards", AirbyteStreamStatus.STARTED))

    clock.now += 29
    assert progress.line("boards") and progress.observe(_log_message()) == []
    clock.now += 2
    (line,) = progress.observe(_log_message())
    assert line.startswith("Progress: stream=boards")


def test_given_streams_read_side_by_side_then_each_one_being_read_gets_its_progress_line():
    clock = FakeClock()
    progress = SyncProgress(interval=30, clock=clock)
    for stream in ("boards", "campaigns", "ad_group_report"):
        progress.observe(_status(stream, AirbyteStreamStatus.STARTED))
    progress.observe(_status("boards", AirbyteStreamStatus.COMPLETE))

    clock.now += 31
    lines = progress.observe(_log_message())

    assert [line.split()[1] for line in lines] == ["stream=campaigns", "stream=ad_group_report"]


def _log_message() -> AirbyteMessage:
    return AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message="x"))


def _status(stream: str, status: AirbyteStreamStatus) -> AirbyteMessage:
    return stream_status_as_airbyte_message(StreamDescriptor(name=stream), status)


BOARDS = [{"id": str(number), "created_at": "2024-01-01T00:00:00"} for number in range(1, 11)]
AD_GROUPS = {"1": [{"id": "g1", "ad_account_id": "1"}, {"id": "g2", "ad_account_id": "1"}], "2": []}


def _sliced_account(api) -> None:
    """Two ad accounts (campaigns: 2 slices), ten boards (board_pins: 10), and keywords, sliced by both ad accounts
    and ad groups (2 + 2)."""
    api.pages("ad_accounts", [AD_ACCOUNTS])
    api.pages("boards", [BOARDS])
    for account in ("1", "2"):
        api.pages(f"ad_accounts/{account}/campaigns", [[{"id": f"c{account}", "updated_time": 5}]])
        api.pages(f"ad_accounts/{account}/ad_groups", [AD_GROUPS[account]])
        api.pages(f"ad_accounts/{account}/keywords", [[{"id": f"k{account}"}]])
    for board in BOARDS:
        api.pages(f"boards/{board['id']}/pins", [[{"id": f"p{board['id']}", "created_at": "2024-01-01T00:00:00"}]])


def _slices_in_summary(output) -> dict[str, int]:
    found = {}
    for line in logs(output):
        match = re.match(r"Sync summary: stream=(\w+) .*slices=(\d+)", line)
        if match:
            found[match.group(1)] = int(match.group(2))
    return found


@pytest.mark.parametrize("num_workers", [1, 3])
def test_given_streams_read_side_by_side_then_each_stream_counts_its_own_slices(api, num_workers):
    _sliced_account(api)
    streams = ["ad_accounts", "campaigns", "boards", "board_pins", "keywords"]

    output = read_streams(make_config(num_workers=num_workers), streams)

    assert not output.errors
    assert _slices_in_summary(output) == {
        "ad_accounts": 1,
        "campaigns": 2,
        "boards": 1,
        "board_pins": 10,
        "keywords": 4,
    }
