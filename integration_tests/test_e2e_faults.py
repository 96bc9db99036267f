"""The fault matrix: the same sync under each injected fault, through the real CLI, compared with the clean sync.

Recoverable faults must give exactly the clean records (and leave a retry in the logs); unrecoverable ones fail
only the affected stream with a message naming stream, endpoint, status and Pinterest's code and message, while
the other streams complete and their state is emitted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integration_tests.conftest import Connector
from pinterest_emulator import Emulator

# A catalog that touches every endpoint family while keeping fault runs short.
STREAMS = ("ad_accounts", "campaigns", "ad_groups", "keywords", "boards", "board_pins", "catalogs")
# Shorter retry schedules (operator settings, see the README) keep the unrecoverable cases quick.
FAST_RETRIES = {
    "PINTEREST_HTTP_READ_TIMEOUT_SECONDS": "2",
    "PINTEREST_MAX_RETRIES": "3",
    "PINTEREST_BACKOFF_BASE_SECONDS": "0.2",
}


@pytest.fixture(scope="module")
def faulty() -> Iterator[Connector]:
    with Emulator(seed=5, size="small") as emulator:
        yield Connector(emulator)


@pytest.fixture(scope="module")
def clean_records(faulty: Connector) -> dict:
    run = faulty.read(STREAMS, incremental=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return {stream: sorted(r["id"] for r in rows) for stream, rows in run.records_by_stream().items()}


RECOVERABLE = [
    # fault spec, a phrase the connector logs when it retries
    ("429:0.15,retry_after=0", "answered HTTP 429"),
    ("429noheaders:0.15", "answered HTTP 429"),
    ("500:0.1,502:0.05,503:0.1", "answered HTTP 50"),
    ("reset:0.1", "ConnectionError"),
    ("truncate:0.1", "ChunkedEncodingError"),  # the body ends before its Content-Length
    ("nonjson:0.1", "not complete JSON"),
    ("timeout:0.05,timeout_seconds=4", "Timeout"),
    ("slow:0.1,slow_seconds=0.3", None),  # slow but within the read timeout: no retry needed
    ("token_revoke:0.05", "Refreshed OAuth token"),
]


@pytest.mark.parametrize("faults,retry_log", RECOVERABLE, ids=[f[0].split(":")[0] for f in RECOVERABLE])
def test_given_recoverable_fault_when_sync_then_records_equal_the_clean_sync(faulty, clean_records, faults, retry_log):
    faulty.emulator.configure(faults=faults)
    faulty.emulator.reset_stats()
    try:
        run = faulty.read(STREAMS, incremental=False, extra_env=FAST_RETRIES)
    finally:
        faulty.emulator.configure(faults="")

    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])
    got = {stream: sorted(r["id"] for r in rows) for stream, rows in run.records_by_stream().items()}
    assert got == clean_records
    injected = sum(faulty.emulator.stats()["faults_injected"].values())
    assert injected > 0, "the fault never fired: this case proved nothing"
    if retry_log:
        assert any(retry_log in line for line in run.logs()), f"no retry logged for {faults}"


def test_given_endpoint_always_failing_then_only_that_stream_fails_with_a_clear_message(faulty, clean_records):
    faulty.emulator.configure(faults="fail:/v5/ad_accounts/{ad_account_id}/ad_groups=500")
    try:
        run = faulty.read(STREAMS, incremental=False, extra_env=FAST_RETRIES)
    finally:
        faulty.emulator.configure(faults="")

    assert run.returncode != 0
    messages = " ".join(error["message"] for error in run.errors())
    assert "ad_groups" in messages and "/v5/ad_accounts/" in messages and "HTTP 500" in messages
    assert run.stream_statuses("ad_groups")[-1] == "INCOMPLETE"
    for stream in ("ad_accounts", "campaigns", "boards", "board_pins", "catalogs"):
        assert run.stream_statuses(stream)[-1] == "COMPLETE", stream
        assert sorted(r["id"] for r in run.records(stream)) == clean_records[stream]
    assert "campaigns" in run.final_states()


def test_given_repeating_bookmark_then_the_stream_stops_clearly_instead_of_looping(faulty):
    faulty.emulator.configure(faults="bookmark_repeat:1.0xinf")
    try:
        run = faulty.read(("boards", "pins", "ad_accounts"), incremental=False, extra_env=FAST_RETRIES)
    finally:
        faulty.emulator.configure(faults="")

    assert run.returncode != 0
    assert any("already returned" in error["message"] for error in run.errors())
    assert run.stream_statuses("ad_accounts")[-1] == "COMPLETE"  # one page: no bookmark to repeat


def test_given_daily_cap_then_the_sync_ends_with_a_transient_error_saying_when_to_retry():
    with Emulator(seed=5, size="small", rate_limits="published", daily_caps="ads_read=3") as emulator:
        run = Connector(emulator).read(("boards", "ad_accounts", "campaigns", "ad_groups"), extra_env=FAST_RETRIES)

    assert run.returncode != 0
    errors = run.errors()
    assert any(
        e["failure_type"] == "transient_error" and "Run the sync again after the reset" in e["message"] for e in errors
    )
    # Streams before the cap completed and their state was emitted.
    assert run.stream_statuses("boards")[-1] == "COMPLETE"
    assert "boards" in run.final_states()


def test_given_rotating_refresh_tokens_then_the_new_token_is_emitted_and_works_next_sync():
    with Emulator(seed=5, size="small", rotate_refresh_tokens=True) as emulator:
        connector = Connector(emulator)
        first = connector.read(("user_account",))
        controls = first.of_type("CONTROL")
        assert first.returncode == 0 and len(controls) == 1
        new_config = controls[0]["control"]["connectorConfig"]["config"]
        assert new_config["credentials"]["refresh_token"] != connector.config["credentials"]["refresh_token"]

        stale = connector.run("check")
        fresh = connector.run("check", config=new_config)

    assert stale.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "FAILED"
    assert fresh.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"
