"""What a failed sync tells the user, through the real CLI: the fault matrix (test_e2e_faults.py) checks that
unrecoverable faults fail only their stream; here the message carries everything needed to act on it (stream,
endpoint, HTTP status, Pinterest's code and message), the process ends with an exit code and an error trace whose
failure type is the most severe of the failed streams', and a sync stopped by a daily cap resumes where it stopped
once the cap resets."""

from __future__ import annotations

import pytest

from integration_tests.conftest import Connector, assert_records_match_truth, truth
from pinterest_emulator import Emulator
from pinterest_emulator.sync_runner import state_for_next_run

STREAMS = ("ad_accounts", "campaigns", "boards", "pins")
GENERIC = "Something went wrong in the connector"
FAST_RETRIES = {"PINTEREST_MAX_RETRIES": "2", "PINTEREST_BACKOFF_BASE_SECONDS": "0.1"}

UNRECOVERABLE = [
    # failing endpoint, status, stream, failure type, what the message must also say
    ("/v5/pins", 403, "pins", "config_error", "re-authorize the app with the pins:read scope"),
    ("/v5/ad_accounts/{ad_account_id}/campaigns", 500, "campaigns", "transient_error", "Exhausted"),
]


@pytest.mark.parametrize(
    "path,status,stream,failure_type,advice", UNRECOVERABLE, ids=[f"{c[2]} HTTP {c[1]}" for c in UNRECOVERABLE]
)
def test_given_an_endpoint_that_always_fails_then_its_error_names_stream_endpoint_status_and_pinterest_error(
    path, status, stream, failure_type, advice
):
    with Emulator(seed=5, size="small", faults=f"fail:{path}={status}") as emulator:
        run = Connector(emulator).read(STREAMS, extra_env=FAST_RETRIES)

    assert run.returncode == 1 and run.errors(), "the process ends with an exit code and an error trace"
    (error,) = [e for e in run.errors() if (e.get("stream_descriptor") or {}).get("name") == stream]
    assert error["failure_type"] == failure_type
    endpoint = path.split("{", 1)[0]
    for part in (f"Stream {stream}", f"GET {endpoint}", f"HTTP {status}", f"Pinterest code {status}"):
        assert part in error["message"], part
    assert "Emulated permanent failure" in error["message"], "Pinterest's own message"
    assert advice in error["message"]
    for other in set(STREAMS) - {stream}:
        assert run.stream_statuses(other)[-1] == "COMPLETE", other
        assert other in run.final_states(), f"{other}: its state must be saved"
    closing = closing_error(run)
    assert closing["failure_type"] == failure_type, "one failed stream: the sync fails as that stream did"
    assert closing["message"].startswith(f"1 of {len(STREAMS)} streams did not sync successfully:\n{stream} (")
    assert "http://" not in closing["message"] and "?" not in closing["message"]


def closing_error(run) -> dict:
    """The sync's last error trace, the one that sums up the failed streams."""
    closing = [e for e in run.errors() if not e.get("stream_descriptor")]
    assert closing, "no closing error trace"
    assert all(GENERIC not in e["message"] for e in run.errors())
    return closing[-1]


def test_given_report_downloads_always_cut_then_the_report_stream_fails_transiently_naming_the_download():
    streams = ("boards", "advertiser_report")
    with Emulator(seed=5, size="small", faults="download_cut:1.0xinf") as emulator:
        run = Connector(emulator).read(streams, extra_env=FAST_RETRIES)

    assert run.returncode == 1
    (error,) = [e for e in run.errors() if (e.get("stream_descriptor") or {}).get("name") == "advertiser_report"]
    assert error["failure_type"] == "transient_error"
    assert error["message"].startswith("Stream advertiser_report")
    assert "download" in error["message"]
    assert run.stream_statuses("boards")[-1] == "COMPLETE"
    assert closing_error(run)["failure_type"] == "transient_error"


def test_given_a_daily_cap_when_the_next_sync_runs_after_the_reset_then_it_resumes_where_the_first_stopped():
    streams = ("boards", "ad_accounts", "campaigns", "ad_groups")
    with Emulator(seed=5, size="small", rate_limits="published", daily_caps="ads_read=3") as emulator:
        connector = Connector(emulator)
        capped = connector.read(streams, extra_env=FAST_RETRIES)
        emulator.configure(daily_caps="")  # the next day
        resumed = connector.read(streams, state=state_for_next_run(capped), extra_env=FAST_RETRIES)
        expected = {stream: truth(emulator, stream) for stream in streams}

    assert capped.returncode == 1 and resumed.returncode == 0, resumed.errors()
    # Nothing to fix: the platform may retry on its own once the cap resets.
    assert closing_error(capped)["failure_type"] == "transient_error"
    done_before = [s for s in streams if capped.stream_statuses(s)[-1] == "COMPLETE"]
    assert "boards" in done_before and "ad_groups" not in done_before
    assert len(resumed.records("boards")) == len(expected["boards"])  # a full refresh: no cursor to resume from
    for stream in set(done_before) - {"boards"}:
        # Read again only from the saved cursor: at most the one record at the cursor of each saved parent.
        saved_parents = len(capped.final_states()[stream].get("states", [])) or 1
        assert len(resumed.records(stream)) <= saved_parents, stream
    for stream in streams:
        latest = {r["id"]: r for r in capped.records(stream) + resumed.records(stream)}
        assert_records_match_truth(list(latest.values()), expected[stream], stream)
