"""Shared fixtures: a config, a requests-mock Pinterest API with page builders, and reads through the real entrypoint."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests_mock as requests_mock_module
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.state_builder import StateBuilder

from source_pinterest import SourcePinterest

API = "https://api.pinterest.com/v5/"
CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret-s3cr3t"
REFRESH_TOKEN = "test-refresh-token-r3fr3sh"
ACCESS_TOKEN = "test-access-token-acc3ss"


def query(request) -> dict[str, list[str]]:
    """The query of a recorded request, every key with its list of values."""
    return parse_qs(urlsplit(request.url).query)


def make_config(**overrides: Any) -> dict[str, Any]:
    config = {
        "credentials": {
            "auth_method": "oauth2.0",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        }
    }
    config.update(overrides)
    return config


def token_body(access_token: str, refresh_token: str = REFRESH_TOKEN, expires_in: int = 2592000) -> dict[str, Any]:
    """Pinterest's answer to a token refresh."""
    return {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": expires_in,
        "scope": "ads:read",
        "refresh_token": refresh_token,
        "refresh_token_expires_in": 5184000,
        "refresh_token_expires_at": 1900000000,
    }


class FakePinterest:
    """requests-mock with Pinterest's shapes: the token endpoint and bookmark-paged lists."""

    def __init__(self, mocker: requests_mock_module.Mocker) -> None:
        self.mocker = mocker
        self.token_calls = 0
        self.token(ACCESS_TOKEN)
        self.metrics_ready()

    def metrics_ready(self, not_final_from: str | None = None) -> None:
        """GET /resources/metrics_ready_state: days on or after `not_final_from` are not final (conversion metrics
        not ready); by default every day is final."""

        def answer(request, context):
            day = query(request)["date"][0]
            final = not_final_from is None or day < not_final_from
            return {"conversion_metrics_ready": final, "non_conversion_metrics_ready": True}

        self.mocker.get(API + "resources/metrics_ready_state", json=answer)

    def token(
        self,
        access_token: str,
        refresh_token: str = REFRESH_TOKEN,
        expires_in: int = 2592000,
        status: int = 200,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        def answer(request, context):
            self.token_calls += 1
            context.status_code = status
            if body is not None:
                return dict(body)
            return token_body(access_token, refresh_token, expires_in)

        self.mocker.post(API + "oauth/token", json=answer)

    def pages(
        self, path: str, pages: list[list[Mapping[str, Any]]], status_code: int = 200
    ) -> requests_mock_module.adapter._Matcher:
        """Serve `pages` in order: page i answers the request whose bookmark is 'b<i>' (none for the first)."""

        def answer(request, context):
            bookmark = query(request).get("bookmark", [None])[0]
            index = 0 if bookmark is None else int(bookmark[1:])
            next_bookmark = f"b{index + 1}" if index + 1 < len(pages) else None
            return {"items": pages[index], "bookmark": next_bookmark}

        return self.mocker.get(API + path, json=answer, status_code=status_code)

    def json(self, path: str, body: Any, status_code: int = 200, **kwargs: Any):
        return self.mocker.get(API + path, json=body, status_code=status_code, **kwargs)

    def requests_to(self, path: str) -> list:
        return [r for r in self.mocker.request_history if urlsplit(r.url).path == "/v5/" + path]


@pytest.fixture
def api() -> Iterable[FakePinterest]:
    with requests_mock_module.Mocker() as mocker:
        yield FakePinterest(mocker)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch) -> list[float]:
    """Retries wait through time.sleep in the CDK's backoff handlers; record the waits instead of sleeping."""
    waits: list[float] = []
    import airbyte_cdk.sources.streams.http.rate_limiting as rate_limiting

    monkeypatch.setattr(rate_limiting.time, "sleep", lambda seconds: waits.append(seconds))
    return waits


def read_streams(
    config: Mapping[str, Any],
    streams: Iterable[str],
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Mapping[str, Any] | None = None,
    expect_failure: bool = False,
) -> EntrypointOutput:
    catalog = CatalogBuilder()
    for name in streams:
        catalog.with_stream(name, sync_mode)
    state_messages = None
    if state is not None:
        builder = StateBuilder()
        for name, value in state.items():
            builder.with_stream_state(name, value)
        state_messages = builder.build()
    from airbyte_cdk.test.models import ExpectedOutcome

    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
    return read(SourcePinterest(), config, catalog.build(), state_messages, expected_outcome=outcome)


def records_of(output: EntrypointOutput, stream: str | None = None) -> list[dict[str, Any]]:
    return [m.record.data for m in output.records if stream is None or m.record.stream == stream]


def final_state(output: EntrypointOutput, stream: str, with_generation: bool = False) -> dict[str, Any]:
    """The stream's last state message; without the metrics streams' `pass_generation` (a timestamp of the read,
    asserted by the tests about generations) unless asked for."""
    states = [
        m.state.stream.stream_state for m in output.state_messages if m.state.stream.stream_descriptor.name == stream
    ]
    assert states, f"no state emitted for {stream}"
    blob = states[-1]
    state = json.loads(json.dumps(blob.__dict__ if hasattr(blob, "__dict__") else blob))
    if not with_generation:
        state.pop("pass_generation", None)
    return state


def all_output_text(output: EntrypointOutput) -> str:
    return "\n".join(json.dumps(m.__dict__, default=str) for m in output._messages or []) + (output.stderr or "")
