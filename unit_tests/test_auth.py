"""OAuth: how the token is refreshed, when, what a rotated refresh token emits, and what a refused refresh says."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
from typing import Any
from urllib.parse import parse_qs

import pytest
from airbyte_cdk.models import FailureType, OrchestratorType, Status, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest import SourcePinterest
from source_pinterest.http.auth import PinterestAuthenticator
from source_pinterest.http.errors import MAX_TOKEN_REFRESHES_PER_REQUEST
from unit_tests.conftest import (
    ACCESS_TOKEN,
    API,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    make_config,
    read_streams,
    records_of,
    token_body,
)
from unit_tests.test_config import run_check

USER = {"id": "77", "username": "shop", "account_type": "BUSINESS"}
NEW_REFRESH_TOKEN = "rotated-refresh-token-n3w"


def token_requests(api) -> list:
    return [r for r in api.mocker.request_history if r.method == "POST" and r.url == API + "oauth/token"]


def config_with_token(access_token: str, expires_at: dt.datetime) -> dict[str, Any]:
    config = make_config()
    config["credentials"].update(access_token=access_token, token_expiry_date=expires_at.isoformat())
    return config


def stream_error(output, stream: str):
    """The error trace the CDK emits for one failed stream (the sync's closing trace only sums them up)."""
    errors = [
        m.trace.error
        for m in output.errors
        if m.trace.error.stream_descriptor and m.trace.error.stream_descriptor.name == stream
    ]
    assert errors, f"no error trace for stream {stream}"
    return errors[-1]


def control_messages(stdout: str) -> list[dict[str, Any]]:
    """The CDK prints the CONNECTOR_CONFIG control message straight to stdout, outside the entrypoint's messages."""
    messages = []
    for line in stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("type") == Type.CONTROL.value:
            messages.append(message)
    return messages


# -- the refresh request -----------------------------------------------------------------------------------------


def test_refresh_uses_http_basic_client_auth_and_a_form_body_asking_continuous_refresh_without_the_secret(api):
    authenticator = PinterestAuthenticator(make_config(), API)

    header = authenticator.get_auth_header()

    assert header == {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    (request,) = token_requests(api)
    expected_basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected_basic}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH_TOKEN],
        "continuous_refresh": ["true"],  # what Pinterest tells apps created before 2025-09-25 to send
    }
    assert CLIENT_SECRET not in request.body
    assert CLIENT_SECRET not in request.url


# -- the refresh token's end ----------------------------------------------------------------------------------------


def expiry_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "refresh token expires on" in r.getMessage()]


@pytest.mark.parametrize(
    "left,days_left,warned",
    [
        (dt.timedelta(days=3, minutes=1), 3, True),
        (dt.timedelta(days=7, minutes=-1), 6, True),
        (dt.timedelta(days=7, minutes=1), 7, False),
        (dt.timedelta(days=60), 60, False),
    ],
    ids=["3 days", "just under 7 days", "just over 7 days", "60 days"],
)
def test_given_refresh_answer_with_the_token_end_then_it_is_kept_and_a_near_end_warned_once(
    api, caplog, left, days_left, warned
):
    ends = dt.datetime.now(dt.UTC).replace(microsecond=0) + left
    api.mocker.post(
        API + "oauth/token", json={**token_body("new-token"), "refresh_token_expires_at": int(ends.timestamp())}
    )
    config = make_config()
    authenticator = PinterestAuthenticator(config, API)

    authenticator.get_auth_header()
    authenticator.warn_if_refresh_token_ends_soon()  # as check and read ask again: still one warning

    assert config["credentials"]["refresh_token_expires_at"] == ends.isoformat()
    assert authenticator.refresh_token_expires_at() == ends
    if warned:
        (warning,) = expiry_warnings(caplog)
        assert f"expires on {ends.date().isoformat()} ({days_left} days from now)" in warning
        assert "re-authenticate" in warning
    else:
        assert expiry_warnings(caplog) == []


def test_given_a_saved_token_end_near_and_no_refresh_needed_when_read_then_warned(api, caplog):
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    config = config_with_token("still-valid-token", dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    config["credentials"]["refresh_token_expires_at"] = ends.replace(microsecond=0).isoformat()
    api.mocker.get(API + "user_account", json=USER)

    with caplog.at_level(logging.WARNING):
        output = read_streams(config, ["user_account"])

    assert records_of(output, "user_account") == [USER]
    assert len(token_requests(api)) == 0
    assert len(expiry_warnings(caplog)) == 1


def test_given_an_unreadable_saved_token_end_then_no_warning_and_no_failure(api, caplog):
    config = make_config()
    config["credentials"]["refresh_token_expires_at"] = "next tuesday"
    authenticator = PinterestAuthenticator(config, API)

    authenticator.warn_if_refresh_token_ends_soon()

    assert authenticator.refresh_token_expires_at() is None
    assert expiry_warnings(caplog) == []


@pytest.mark.parametrize(
    "expires_at,expected_refreshes,expected_token",
    [
        (dt.timedelta(hours=-1), 1, ACCESS_TOKEN),
        (dt.timedelta(seconds=-1), 1, ACCESS_TOKEN),
        (dt.timedelta(hours=1), 0, "still-valid-token"),
    ],
    ids=["expired an hour ago", "expired a second ago", "valid for an hour"],
)
def test_saved_token_is_refreshed_only_once_expired(api, expires_at, expected_refreshes, expected_token):
    authenticator = PinterestAuthenticator(
        config_with_token("still-valid-token", dt.datetime.now(dt.UTC) + expires_at), API
    )

    assert authenticator.get_auth_header() == {"Authorization": f"Bearer {expected_token}"}
    assert len(token_requests(api)) == expected_refreshes


@pytest.mark.parametrize(
    "expires_in,expected_refreshes",
    [(0, 2), (2592000, 1)],
    ids=["token that expires at once", "token valid for 30 days"],
)
def test_given_refreshed_token_when_used_again_then_refreshed_again_only_if_expired(
    api, expires_in, expected_refreshes
):
    api.token(ACCESS_TOKEN, expires_in=expires_in)
    authenticator = PinterestAuthenticator(make_config(), API)

    authenticator.get_auth_header()
    authenticator.get_auth_header()

    assert api.token_calls == expected_refreshes


def test_the_saved_expiry_is_parsed_once_per_value_not_on_every_request(api, monkeypatch):
    import airbyte_cdk.sources.streams.http.requests_native_auth.oauth as cdk_oauth

    parsed = []
    real_parse = cdk_oauth.ab_datetime_parse
    monkeypatch.setattr(cdk_oauth, "ab_datetime_parse", lambda value: parsed.append(value) or real_parse(value))
    config = config_with_token("still-valid-token", dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    authenticator = PinterestAuthenticator(config, API)
    assert len(parsed) == 1  # when the authenticator is built

    headers = [authenticator.get_auth_header() for _ in range(100)]

    assert headers[-1] == {"Authorization": "Bearer still-valid-token"} and len(token_requests(api)) == 0
    assert len(parsed) == 1  # and never again for the same stored value
    # A new stored expiry (a refresh, or another writer of the config) is read: now expired, so one refresh.
    config["credentials"]["token_expiry_date"] = str(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    assert authenticator.get_auth_header() == {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    assert len(token_requests(api)) == 1


def test_given_valid_saved_token_when_read_then_no_refresh_and_the_saved_token_is_sent(api):
    api.json("user_account", USER)
    config = config_with_token("still-valid-token", dt.datetime.now(dt.UTC) + dt.timedelta(days=1))

    output = read_streams(config, ["user_account"])

    assert records_of(output, "user_account") == [USER]
    assert api.token_calls == 0
    (request,) = api.requests_to("user_account")
    assert request.headers["Authorization"] == "Bearer still-valid-token"


# -- 401 on a data call ------------------------------------------------------------------------------------------


def test_given_401_on_a_data_call_when_read_then_one_refresh_and_the_retry_succeeds_with_the_new_token(api):
    api.mocker.post(API + "oauth/token", [{"json": token_body("first-token")}, {"json": token_body("second-token")}])
    sent_with: list[str] = []  # the CDK re-signs the same request object, so read the header when it is sent

    def user_account(request, context):
        sent_with.append(request.headers["Authorization"])
        context.status_code = 401 if len(sent_with) == 1 else 200
        return {"code": 2, "message": "Authentication failed."} if len(sent_with) == 1 else USER

    api.mocker.get(API + "user_account", json=user_account)

    output = read_streams(make_config(), ["user_account"])

    assert records_of(output, "user_account") == [USER]
    assert len(token_requests(api)) == 2  # the first token, then exactly one refresh after the 401
    assert sent_with == ["Bearer first-token", "Bearer second-token"]


def test_given_401_again_after_the_refreshes_when_read_then_config_error_without_refresh_loop(api):
    tokens = [{"json": token_body(f"token-{n}")} for n in range(1, 5)]
    api.mocker.post(API + "oauth/token", tokens)
    api.json("user_account", {"code": 2, "message": "Authentication failed."}, 401)

    output = read_streams(make_config(), ["user_account"], expect_failure=True)

    assert records_of(output) == []
    # The first token, then MAX_TOKEN_REFRESHES_PER_REQUEST fresh ones, each refused once.
    assert len(token_requests(api)) == 1 + MAX_TOKEN_REFRESHES_PER_REQUEST
    assert len(api.requests_to("user_account")) == 1 + MAX_TOKEN_REFRESHES_PER_REQUEST
    error = stream_error(output, "user_account")
    assert error.failure_type == FailureType.config_error
    assert "Pinterest code 2: Authentication failed." in error.message  # Pinterest's own words


# -- rotation ----------------------------------------------------------------------------------------------------


def test_given_refresh_returns_a_new_refresh_token_when_read_then_exactly_one_config_control_message(api, capsys):
    api.token(ACCESS_TOKEN, refresh_token=NEW_REFRESH_TOKEN)
    api.pages("boards", [[{"id": "1"}], [{"id": "2"}]])
    api.json("user_account", USER)

    output = read_streams(make_config(), ["boards", "user_account"])

    assert len(records_of(output)) == 3
    (control,) = control_messages(capsys.readouterr().out)
    assert control["control"]["type"] == OrchestratorType.CONNECTOR_CONFIG.value
    credentials = control["control"]["connectorConfig"]["config"]["credentials"]
    assert credentials["refresh_token"] == NEW_REFRESH_TOKEN
    assert credentials["client_id"] == CLIENT_ID
    # The new token is also used for the next refresh of this sync.
    assert api.token_calls == 1


SAVED_END = dt.datetime.fromtimestamp(1900000000, dt.UTC).isoformat()  # token_body's refresh_token_expires_at


def config_with_saved_end(end: str) -> dict[str, Any]:
    config = make_config()
    config["credentials"]["refresh_token_expires_at"] = end
    return config


@pytest.mark.parametrize(
    "saved_end", [SAVED_END, (dt.datetime.fromisoformat(SAVED_END) - dt.timedelta(hours=20)).isoformat()]
)
def test_given_refresh_returns_the_same_token_and_about_the_same_end_when_read_then_no_control_message(
    api, capsys, saved_end
):
    api.pages("boards", [[{"id": "1"}]])

    output = read_streams(config_with_saved_end(saved_end), ["boards"])

    assert len(records_of(output, "boards")) == 1
    assert api.token_calls == 1
    assert control_messages(capsys.readouterr().out) == []


@pytest.mark.parametrize("saved_end", [None, "2029-01-01T00:00:00+00:00", "not a date"])
def test_given_a_continuous_token_renewed_in_place_when_read_then_its_new_end_is_saved_once(api, capsys, saved_end):
    api.pages("boards", [[{"id": "1"}]])
    config = make_config() if saved_end is None else config_with_saved_end(saved_end)

    read_streams(config, ["boards"])

    (control,) = control_messages(capsys.readouterr().out)
    credentials = control["control"]["connectorConfig"]["config"]["credentials"]
    assert credentials["refresh_token"] == REFRESH_TOKEN
    assert credentials["refresh_token_expires_at"] == SAVED_END


def test_given_rotated_refresh_token_when_the_token_is_refreshed_again_then_the_new_refresh_token_is_sent(api):
    api.mocker.post(
        API + "oauth/token",
        [{"json": token_body("a1", NEW_REFRESH_TOKEN, expires_in=0)}, {"json": token_body("a2", NEW_REFRESH_TOKEN)}],
    )
    config = make_config()
    authenticator = PinterestAuthenticator(config, API)

    authenticator.get_auth_header()
    authenticator.get_auth_header()

    first, second = token_requests(api)
    assert parse_qs(first.body)["refresh_token"] == [REFRESH_TOKEN]
    assert parse_qs(second.body)["refresh_token"] == [NEW_REFRESH_TOKEN]
    assert config["credentials"]["refresh_token"] == NEW_REFRESH_TOKEN


# -- refused refreshes -------------------------------------------------------------------------------------------

REFUSED = [
    # id, token endpoint status, Pinterest body, advice expected in the message
    ("bad client secret", 401, {"code": 2, "message": "Authentication failed."}, "check client_id and client_secret"),
    (
        "revoked refresh token",
        400,
        {"code": 1, "message": "Invalid refresh token."},
        "re-authenticate the Pinterest account",
    ),
    (
        "refresh token of another app",
        403,
        {"code": 3, "message": "Not permitted."},
        "re-authenticate the Pinterest account",
    ),
]


@pytest.mark.parametrize("status,body,advice", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_given_token_endpoint_refuses_when_check_then_failed_with_advice_and_pinterest_code_and_message(
    api, status, body, advice
):
    api.token(ACCESS_TOKEN, status=status, body=body)

    output = run_check(make_config())

    (connection,) = [m.connectionStatus for m in output.connection_status_messages]
    assert connection.status == Status.FAILED
    assert advice in connection.message
    assert f"HTTP {status}, code {body['code']}: {body['message']}" in connection.message
    assert api.requests_to("user_account") == []
    assert CLIENT_SECRET not in connection.message and REFRESH_TOKEN not in connection.message


@pytest.mark.parametrize("status,body,advice", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_given_token_endpoint_refuses_when_read_then_config_error_trace_with_advice(api, status, body, advice):
    api.token(ACCESS_TOKEN, status=status, body=body)
    api.pages("boards", [[{"id": "1"}]])

    output = read_streams(make_config(), ["boards"], expect_failure=True)

    assert records_of(output) == []
    error = stream_error(output, "boards")
    assert error.failure_type == FailureType.config_error
    assert advice in error.message and f"code {body['code']}: {body['message']}" in error.message
    assert api.requests_to("boards") == []


def test_given_token_endpoint_answers_html_when_refresh_then_the_error_quotes_the_page_snippet(api):
    api.mocker.post(API + "oauth/token", text="<html><body>Bad gateway page</body></html>", status_code=404)
    authenticator = PinterestAuthenticator(make_config(), API)

    with pytest.raises(AirbyteTracedException) as raised:
        authenticator.get_auth_header()

    assert raised.value.failure_type == FailureType.transient_error
    assert "HTTP 404" in raised.value.message and "Bad gateway page" in raised.value.message


# -- threads -----------------------------------------------------------------------------------------------------


def test_given_expired_token_when_two_threads_ask_at_once_then_one_refresh_serves_both(api):
    both_waiting = threading.Barrier(2)
    release = threading.Event()

    def slow_token(request, context):
        # Hold the refresh until the second thread has had time to arrive at the lock (time.sleep is patched away).
        release.wait(timeout=0.3)
        return token_body("shared-token")

    api.mocker.post(API + "oauth/token", json=slow_token)
    authenticator = PinterestAuthenticator(make_config(), API)
    headers: list[Any] = []

    def ask() -> None:
        both_waiting.wait()
        headers.append(authenticator.get_auth_header())

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)

    assert headers == [{"Authorization": "Bearer shared-token"}] * 2
    assert len(token_requests(api)) == 1


def test_given_a_forced_refresh_under_way_when_another_thread_asks_then_it_waits_and_gets_the_new_token(api):
    # A 401 makes one worker refresh a token that has not expired yet, while the others go on sending requests: they
    # must not read the config while the refresh writes into it (the CDK reads it without a lock), so they wait.
    refresh_started, release = threading.Event(), threading.Event()

    def slow_token(request, context):
        refresh_started.set()
        release.wait(timeout=5)
        return token_body("new-token")

    api.mocker.post(API + "oauth/token", json=slow_token)
    valid_until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    authenticator = PinterestAuthenticator(config_with_token("old-token", valid_until), API)
    refreshing = threading.Thread(target=authenticator.refresh_and_set_access_token)
    refreshing.start()
    assert refresh_started.wait(timeout=5)
    headers: list[Any] = []
    asking = threading.Thread(target=lambda: headers.append(authenticator.get_auth_header()))
    asking.start()
    asking.join(timeout=0.2)
    waited = asking.is_alive()
    release.set()
    for thread in (refreshing, asking):
        thread.join(timeout=5)

    assert waited, "the other thread read the token while the refresh was writing it"
    assert headers == [{"Authorization": "Bearer new-token"}]
    assert len(token_requests(api)) == 1


def test_given_token_endpoint_echoes_the_credentials_when_check_is_called_directly_then_they_are_masked(api):
    # Called outside the entrypoint, no secret filter is set up: the authenticator masks what it sent itself.
    from airbyte_cdk.utils import airbyte_secrets_utils

    airbyte_secrets_utils.update_secrets([])
    api.token(
        ACCESS_TOKEN, status=400, body={"code": 1, "message": f"Bad grant {REFRESH_TOKEN} for client {CLIENT_SECRET}"}
    )

    status = SourcePinterest().check(logging.getLogger("airbyte"), make_config())

    assert status.status == Status.FAILED
    assert "Bad grant **** for client ****" in status.message
    assert REFRESH_TOKEN not in status.message and CLIENT_SECRET not in status.message


SECRET_SCOPE_CASES = [
    # granted scopes (as the refresh answers them), streams read, the missing scopes the one warning names
    ("ads:read,boards:read,pins:read", ["boards", "pins"], ["boards:read_secret", "pins:read_secret"]),
    ("ads:read boards:read boards:read_secret pins:read", ["pins"], ["pins:read_secret"]),
    ("boards:read,boards:read_secret,pins:read,pins:read_secret", ["boards", "pins"], []),
    ("ads:read", ["ad_accounts"], []),  # no stream that reads secret content
]


@pytest.mark.parametrize("granted, streams, missing", SECRET_SCOPE_CASES)
def test_given_the_scopes_of_the_refresh_when_read_then_one_warning_names_the_missing_secret_scopes(
    api, granted, streams, missing
):
    api.token(ACCESS_TOKEN, body={**token_body(ACCESS_TOKEN), "scope": granted})
    for stream in streams:
        api.pages(stream, [[{"id": "1"}]])

    output = read_streams(make_config(), streams)

    assert not output.errors
    for stream in streams:  # what the token may read syncs either way
        assert [r["id"] for r in records_of(output, stream)] == ["1"]
    warnings = [log.log.message for log in output.logs if "read_secret" in log.log.message]
    if missing:
        (warning,) = warnings
        assert f"The token lacks the scope(s) {', '.join(missing)}:" in warning
    else:
        assert warnings == []
