"""No credential ever reaches a log, a trace, a check status or stderr; the access token only travels in the header."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from airbyte_cdk.models import FailureType, Type
from airbyte_cdk.utils import airbyte_secrets_utils

from source_pinterest import limits
from unit_tests.conftest import (
    ACCESS_TOKEN,
    API,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    FakePinterest,
    make_config,
    read_streams,
    records_of,
)
from unit_tests.test_auth import NEW_REFRESH_TOKEN, control_messages
from unit_tests.test_config import run_check

SECRETS = {
    "client secret": CLIENT_SECRET,
    "refresh token": REFRESH_TOKEN,
    "new refresh token": NEW_REFRESH_TOKEN,
    "access token": ACCESS_TOKEN,
}
USER = {"id": "77", "username": "shop"}


@pytest.fixture(autouse=True)
def fresh_secret_filter():
    # The CDK keeps the secrets to mask in a module-level list; start each scenario without what earlier tests added.
    airbyte_secrets_utils.update_secrets([])


def successful_sync(api: FakePinterest) -> None:
    api.pages("boards", [[{"id": "1"}], [{"id": "2"}]])
    api.json("user_account", USER)


def token_refused_401(api: FakePinterest) -> None:
    api.token(ACCESS_TOKEN, status=401, body={"code": 2, "message": "Authentication failed."})


def token_refused_400(api: FakePinterest) -> None:
    api.token(ACCESS_TOKEN, status=400, body={"code": 1, "message": "Invalid refresh token."})


def token_refused_echoing_the_token(api: FakePinterest) -> None:
    api.token(ACCESS_TOKEN, status=400, body={"code": 1, "message": f"Invalid refresh token {REFRESH_TOKEN} for app"})


def data_call_forbidden(api: FakePinterest) -> None:
    api.json("boards", {"code": 3, "message": "Your token lacks the boards:read scope."}, 403)
    api.json("user_account", USER)


def data_call_always_500(api: FakePinterest) -> None:
    api.json("boards", {"code": 500, "message": "Internal error."}, 500)
    api.json("user_account", USER)


def refresh_token_rotated(api: FakePinterest) -> None:
    api.token(ACCESS_TOKEN, refresh_token=NEW_REFRESH_TOKEN)
    successful_sync(api)


def data_call_401_then_rotated(api: FakePinterest) -> None:
    api.mocker.post(
        API + "oauth/token",
        [
            {
                "json": {
                    "access_token": ACCESS_TOKEN,
                    "token_type": "bearer",
                    "expires_in": 3600,
                    "refresh_token": REFRESH_TOKEN,
                }
            },
            {
                "json": {
                    "access_token": ACCESS_TOKEN + "-2",
                    "token_type": "bearer",
                    "expires_in": 3600,
                    "refresh_token": NEW_REFRESH_TOKEN,
                }
            },
        ],
    )
    api.mocker.get(
        API + "user_account",
        [{"json": {"code": 2, "message": "Authentication failed."}, "status_code": 401}, {"json": USER}],
    )
    api.pages("boards", [[{"id": "1"}]])


SCENARIOS: list[tuple[str, Callable[[FakePinterest], None], bool]] = [
    # id, API set-up, whether the read fails
    ("success", successful_sync, False),
    ("token endpoint 401", token_refused_401, True),
    ("token endpoint 400", token_refused_400, True),
    ("token endpoint echoes the refresh token", token_refused_echoing_the_token, True),
    ("data call 403", data_call_forbidden, True),
    ("data call always 500", data_call_always_500, True),
    ("refresh token rotated", refresh_token_rotated, False),
    ("401 then rotated", data_call_401_then_rotated, False),
]


def leaked(text: str) -> list[str]:
    return [name for name, secret in SECRETS.items() if secret in text] + (
        ["access token (2)"] if ACCESS_TOKEN + "-2" in text else []
    )


def texts_of(output) -> list[str]:
    texts = []
    for message in output._messages or []:
        if message.type == Type.LOG:
            texts.append(message.log.message)
        elif message.type == Type.TRACE and message.trace.error:
            error = message.trace.error
            texts += [error.message or "", error.internal_message or "", error.stack_trace or ""]
        elif message.type == Type.CONNECTION_STATUS:
            texts.append(message.connectionStatus.message or "")
    return texts


def printed_outside_control(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if '"CONTROL"' not in line]


@pytest.mark.parametrize("setup,fails", [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_given_scenario_when_read_then_no_credential_in_logs_traces_or_stderr(api, capsys, setup, fails):
    setup(api)

    output = read_streams(make_config(), ["boards", "user_account"], expect_failure=fails)

    printed = capsys.readouterr()
    assert bool(output.errors) == fails
    assert [(i, leaked(text)) for i, text in enumerate(texts_of(output)) if leaked(text)] == []
    assert [line for line in printed_outside_control(printed.out) if leaked(line)] == []
    assert leaked(printed.err) == []


@pytest.mark.parametrize("setup,fails", [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_given_scenario_when_check_then_no_credential_in_the_status_logs_or_stderr(api, capsys, setup, fails):
    setup(api)

    output = run_check(make_config())

    printed = capsys.readouterr()
    assert output.connection_status_messages
    assert [(i, leaked(text)) for i, text in enumerate(texts_of(output)) if leaked(text)] == []
    assert [line for line in printed_outside_control(printed.out) if leaked(line)] == []
    assert leaked(printed.err) == []


def test_the_control_message_is_the_one_place_the_new_refresh_token_appears(api, capsys):
    refresh_token_rotated(api)

    output = read_streams(make_config(), ["boards"])

    (control,) = control_messages(capsys.readouterr().out)
    assert control["control"]["connectorConfig"]["config"]["credentials"]["refresh_token"] == NEW_REFRESH_TOKEN
    assert records_of(output, "boards")
    assert all(NEW_REFRESH_TOKEN not in text for text in texts_of(output))


@pytest.mark.parametrize("setup", [successful_sync, data_call_401_then_rotated], ids=["success", "401 then refresh"])
def test_access_token_only_travels_in_the_authorization_header(api, setup):
    setup(api)

    read_streams(make_config(), ["boards", "user_account"])

    data_requests = [r for r in api.mocker.request_history if r.method == "GET"]
    assert data_requests
    for request in api.mocker.request_history:
        assert ACCESS_TOKEN not in request.url
        assert ACCESS_TOKEN not in (request.body or "")
        assert CLIENT_SECRET not in request.url and REFRESH_TOKEN not in request.url
    assert all(r.headers["Authorization"].startswith(f"Bearer {ACCESS_TOKEN}") for r in data_requests)
    assert all(
        json.dumps({k: v for k, v in r.headers.items() if k != "Authorization"}).find(ACCESS_TOKEN) == -1
        for r in data_requests
    )


# -- where the connector may send the tokens at all -------------------------------------------------------------

BASE_URLS = [
    # PINTEREST_API_BASE_URL, accepted
    ("https://api.pinterest.com/v5", True),
    ("https://api-sandbox.pinterest.com/v5/", True),
    ("http://127.0.0.1:8080/v5", True),
    ("http://127.0.0.53/v5", True),
    ("http://localhost:9000/v5", True),
    ("http://[::1]:9000/v5", True),
    ("http://api.pinterest.com/v5", False),  # plain http off the machine: tokens in clear text
    ("http://10.0.0.7/v5", False),
    ("http://0.0.0.0/v5", False),
    ("http://127.example.com/v5", False),  # a name that only looks like a loopback address
    ("http://localhost.example.com/v5", False),
    ("ftp://127.0.0.1/v5", False),
    ("api.pinterest.com/v5", False),
    ("https://user:pass@api.pinterest.com/v5", False),  # a password would travel into logs with every URL
]


@pytest.mark.parametrize("url,accepted", BASE_URLS, ids=[u for u, _ in BASE_URLS])
def test_base_url_override_accepts_only_https_or_http_on_loopback(monkeypatch, url, accepted):
    monkeypatch.setenv(limits.BASE_URL_ENV, url)

    if accepted:
        assert limits.base_url().startswith(url.rstrip("/"))
    else:
        with pytest.raises(ValueError, match=limits.BASE_URL_ENV):
            limits.base_url()


def test_given_a_plain_http_base_url_when_read_then_config_error_before_any_request(api, monkeypatch):
    monkeypatch.setenv(limits.BASE_URL_ENV, "http://api.pinterest.com/v5")

    output = read_streams(make_config(), ["boards"], expect_failure=True)

    assert api.mocker.request_history == []
    (error,) = [m.trace.error for m in output.errors]
    assert error.failure_type == FailureType.config_error
    assert "https" in error.message and "Traceback" not in error.message
