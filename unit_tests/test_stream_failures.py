"""What a failed stream and a failed sync say, through the real entrypoint: each stream's error names the stream,
the request and what to do, never the CDK's "Something went wrong"; the sync's closing error lists every failed
stream, without request URLs, and carries the most severe failure type among them."""

from __future__ import annotations

from http.client import IncompleteRead

import pytest
import requests
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from urllib3.exceptions import ProtocolError

from source_pinterest.http.budget import PinterestAPIBudget
from source_pinterest.sync.failures import most_severe, stream_failure, sync_failure, without_urls
from unit_tests.conftest import API, make_config, read_streams, records_of
from unit_tests.test_auth import stream_error

GENERIC = "Something went wrong in the connector"
BOARDS = [{"id": "1", "created_at": "2024-01-01T00:00:00"}, {"id": "2", "created_at": "2024-01-02T00:00:00"}]
PIN = {"id": "p1", "created_at": "2024-03-01T00:00:00"}
DAILY_CAP = {"code": 8, "message": "Rate limit exceeded."}
# A live analytics URL with its id lists runs to about 11 kB.
LONG_URL = API + "ad_accounts/1/campaigns/analytics?campaign_ids=" + ",".join(str(10**17 + n) for n in range(600))


@pytest.fixture(autouse=True)
def budget_without_policies(monkeypatch):
    """After a 429 the shared budget would hold requests until its window resets; these tests are about messages."""
    import source_pinterest.source as source_module

    monkeypatch.setattr(source_module, "build_api_budget", lambda: PinterestAPIBudget(policies=[]))


def closing_error(output):
    """The sync's last error trace, the one that sums up the failed streams."""
    closing = [m.trace.error for m in output.errors if m.trace.error.stream_descriptor is None]
    assert closing, "no closing error trace"
    return closing[-1]


def boards_with_failing_second_board(api, error: BaseException) -> None:
    api.pages("boards", [BOARDS])
    api.pages("boards/1/pins", [[PIN]])
    api.mocker.get(API + "boards/2/pins", exc=error)


# -- the closing error's failure type ------------------------------------------------------------------------------


def test_given_a_daily_cap_hours_away_when_read_then_the_sync_ends_with_a_transient_error(api, no_sleep):
    api.json("boards", DAILY_CAP, 429, headers={"X-RateLimit-Reset": "14400"})  # four hours away
    api.pages("pins", [[PIN]])

    output = read_streams(make_config(), ["boards", "pins"], expect_failure=True)

    assert [r["id"] for r in records_of(output, "pins")] == ["p1"]
    assert stream_error(output, "boards").failure_type == FailureType.transient_error
    closing = closing_error(output)
    assert closing.failure_type == FailureType.transient_error
    assert closing.message.startswith("1 of 2 streams did not sync successfully:\nboards (transient_error): ")
    assert "Run the sync again after the reset" in closing.message


def test_given_a_daily_cap_and_a_missing_scope_then_the_sync_ends_with_the_config_error(api, no_sleep):
    api.json("boards", DAILY_CAP, 429, headers={"X-RateLimit-Reset": "14400"})
    api.json("pins", {"code": 3, "message": "Missing scope."}, 403)

    output = read_streams(make_config(num_workers=1), ["boards", "pins"], expect_failure=True)

    closing = closing_error(output)
    assert closing.failure_type == FailureType.config_error
    assert "boards (transient_error): " in closing.message
    assert "pins (config_error): " in closing.message and "pins:read" in closing.message


def test_given_a_connector_bug_beside_a_config_error_then_the_sync_ends_with_a_system_error(api, no_sleep):
    boards_with_failing_second_board(api, KeyError("created_at"))
    api.json("pins", {"code": 3, "message": "Missing scope."}, 403)

    output = read_streams(make_config(), ["boards", "board_pins", "pins"], expect_failure=True)

    assert closing_error(output).failure_type == FailureType.system_error


SEVERITY_CASES = [
    ([FailureType.transient_error], FailureType.transient_error),
    ([FailureType.transient_error, FailureType.transient_error], FailureType.transient_error),
    ([FailureType.transient_error, FailureType.config_error], FailureType.config_error),
    ([FailureType.config_error, FailureType.system_error, FailureType.transient_error], FailureType.system_error),
    ([None, FailureType.transient_error], FailureType.system_error),  # no type said: treated as ours
]


@pytest.mark.parametrize("types,expected", SEVERITY_CASES)
def test_the_most_severe_type_wins(types, expected):
    assert most_severe(types) == expected


# -- a stream stopped by an exception that is not a traced one -----------------------------------------------------

NOT_TRACED = [
    # exception raised by the HTTP call, failure type, what the message must say
    (ValueError("could not convert string to float: 'n/a'"), FailureType.system_error, "ValueError"),
    (KeyError("created_at"), FailureType.system_error, "KeyError"),
    (OSError(28, "No space left on device"), FailureType.system_error, "No space left on device"),
    (ProtocolError("Connection broken: IncompleteRead(10 bytes read)"), FailureType.transient_error, "ProtocolError"),
    (IncompleteRead(b"partial", 100), FailureType.transient_error, "IncompleteRead"),
    (ConnectionResetError(104, "Connection reset by peer"), FailureType.transient_error, "ConnectionResetError"),
    (TimeoutError("timed out"), FailureType.transient_error, "TimeoutError"),
]


@pytest.mark.parametrize("error,failure_type,said", NOT_TRACED, ids=[type(c[0]).__name__ for c in NOT_TRACED])
def test_given_an_exception_mid_read_then_its_stream_error_names_stream_request_and_advice(
    api, error, failure_type, said
):
    boards_with_failing_second_board(api, error)

    output = read_streams(make_config(), ["board_pins"], SyncMode.incremental, expect_failure=True)

    # The first board's pins and their state came before the failure, and stay.
    assert [r["id"] for r in records_of(output, "board_pins")] == ["p1"]
    saved = [m.state.stream.stream_state for m in output.state_messages]
    assert saved and any(s["partition"] == {"board_id": "1"} for s in saved[-1].__dict__["states"])
    failed = stream_error(output, "board_pins")
    assert failed.failure_type == failure_type
    assert failed.message.startswith("Stream board_pins: GET /v5/boards/2/pins failed with ")
    assert said in failed.message
    advice = "run the sync again" if failure_type == FailureType.transient_error else "please report it"
    assert advice in failed.message
    closing = closing_error(output)
    assert closing.failure_type == failure_type
    for message in (failed.message, closing.message):
        assert GENERIC not in message


def test_an_exception_from_a_parser_names_the_download_it_was_reading():
    def parse(response: requests.Response) -> None:
        raise ValueError("premature end of the report file")

    download = requests.Response()
    download.request = requests.Request(
        "GET", "https://pinterest-reports.s3.amazonaws.com/r/1.json?X-Sig=abc"
    ).prepare()
    try:
        parse(download)
    except ValueError as error:
        failure = stream_failure("ad_group_report", error, api_host="api.pinterest.com")

    assert failure.message.startswith(
        "Stream ad_group_report: the report file download from pinterest-reports.s3.amazonaws.com failed with "
        "ValueError: premature end of the report file."
    )
    assert "X-Sig" not in failure.message


def test_an_exception_without_any_request_still_names_the_stream():
    failure = stream_failure("boards", RuntimeError("boom"), api_host="api.pinterest.com")

    assert failure.message.startswith("Stream boards: the read failed with RuntimeError: boom.")
    assert failure.failure_type == FailureType.system_error


def test_a_network_error_raised_from_another_error_is_transient():
    try:
        try:
            raise ProtocolError("Connection broken")
        except ProtocolError as cause:
            raise ValueError("report file cut short") from cause
    except ValueError as error:
        failure = stream_failure("ad_group_report", error, api_host="api.pinterest.com")

    assert failure.failure_type == FailureType.transient_error


def test_a_cdk_message_that_does_not_name_the_stream_gets_its_name_and_the_last_error():
    cdk_error = AirbyteTracedException(
        internal_message=f"Rate limit retry budget exhausted. Last exception: GET {LONG_URL} answered HTTP 429",
        message="API rate limit exceeded.",
        failure_type=FailureType.transient_error,
    )

    failure = stream_failure("campaign_analytics", cdk_error, api_host="api.pinterest.com")

    assert failure.failure_type == FailureType.transient_error
    assert failure.message == (
        "Stream campaign_analytics: API rate limit exceeded. (Rate limit retry budget exhausted. Last exception: "
        "GET /v5/ad_accounts/1/campaigns/analytics answered HTTP 429) This is a network or server problem that "
        "usually passes: run the sync again, it resumes from the saved state."
    )


def test_given_a_token_rejected_after_its_refresh_then_the_stream_error_says_to_reauthorize(api):
    api.json("boards", {"code": 2, "message": "Authentication failed."}, 401)

    output = read_streams(make_config(), ["boards"], expect_failure=True)

    failed = stream_error(output, "boards")
    assert failed.failure_type == FailureType.config_error
    assert failed.message.startswith("Stream boards: GET /v5/boards answered HTTP 401")
    assert "Freshly refreshed access tokens were refused too" in failed.message
    assert "Pinterest code 2: Authentication failed." in failed.message
    assert failed.message.endswith("re-authorize the app if needed) and settings, then sync again.")
    assert "https://" not in failed.message


def test_a_message_that_already_names_the_stream_is_kept_as_it_is():
    ours = AirbyteTracedException(
        message="Stream boards: GET /v5/boards answered HTTP 400", failure_type=FailureType.config_error
    )

    assert stream_failure("boards", ours, api_host="api.pinterest.com") is ours


# -- the closing message -------------------------------------------------------------------------------------------


def test_given_an_error_quoting_a_long_url_then_the_closing_message_lists_streams_without_urls(api, no_sleep):
    boards_with_failing_second_board(api, ValueError(f"unexpected answer from {LONG_URL}"))
    api.json("pins", {"code": 3, "message": "Missing scope."}, 403)

    output = read_streams(make_config(), ["boards", "board_pins", "pins"], expect_failure=True)

    assert len(LONG_URL) > 10_000
    closing = closing_error(output).message
    lines = closing.splitlines()
    assert lines[0] == "2 of 3 streams did not sync successfully:"
    assert lines[1].startswith("board_pins (system_error): GET /v5/boards/2/pins failed with ValueError: ")
    assert "unexpected answer from /v5/ad_accounts/1/campaigns/analytics." in lines[1]
    assert lines[2].startswith("pins (config_error): GET /v5/pins answered HTTP 403")
    assert "http" not in closing and "campaign_ids" not in closing
    assert len(closing) < 1500


@pytest.mark.parametrize(
    "text,expected",
    [
        ("GET https://api.pinterest.com/v5/boards?page_size=250 failed", "GET /v5/boards failed"),
        (
            "'GET' request to 'https://api.pinterest.com/v5/pins?bookmark=x' failed",
            "'GET' request to '/v5/pins' failed",
        ),
        ("from https://storage.example.com/r.json?sig=1 after 3 tries", "from /r.json after 3 tries"),
        ("host only http://example.com", "host only /"),
        ("no url here", "no url here"),
    ],
)
def test_urls_are_replaced_by_their_path(text, expected):
    assert without_urls(text) == expected


def test_the_closing_message_keeps_the_catalog_order_and_drops_the_repeated_stream_name():
    failures = {
        "boards": AirbyteTracedException(
            message="Stream boards: GET /v5/boards answered HTTP 500", failure_type=FailureType.transient_error
        ),
        "pins": AirbyteTracedException(message="Pinterest said no", failure_type=FailureType.config_error),
    }

    closing = sync_failure(failures, streams_in_sync=5)

    assert closing.message == (
        "2 of 5 streams did not sync successfully:\n"
        "boards (transient_error): GET /v5/boards answered HTTP 500\n"
        "pins (config_error): Pinterest said no"
    )
    assert closing.failure_type == FailureType.config_error
