"""Error classification (retry / fail / skip), backoff waits, and what a failing stream looks like end to end."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.http import errors
from source_pinterest.http.budget import PinterestAPIBudget
from source_pinterest.http.errors import (
    BACKOFF_CAP_SECONDS,
    MAX_RETRIES,
    MAX_TOKEN_REFRESHES_PER_REQUEST,
    PinterestBackoff,
    PinterestErrorHandler,
)
from unit_tests.conftest import API, make_config, read_streams, records_of
from unit_tests.test_auth import stream_error

CAMPAIGNS_PATH = "/v5/ad_accounts/1/campaigns"


def response(
    status: int,
    body: Any = None,
    text: str | None = None,
    headers: dict[str, str] | None = None,
    path: str = CAMPAIGNS_PATH,
) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer.reason = "Reason"
    answer._content = (text if text is not None else json.dumps(body if body is not None else {})).encode()
    answer.headers.update(headers or {})
    answer.request = requests.Request("GET", f"https://api.pinterest.com{path}?page_size=250&bookmark=b1").prepare()
    return answer


def pinterest_error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


# id, response, skip statuses, expected action, expected failure type, words the message must contain
CLASSIFICATION = [
    ("200 json", response(200, {"items": []}), (), ResponseAction.SUCCESS, None, []),
    (
        "200 truncated json",
        response(200, text='{"items": [{"id": "1"'),
        (),
        ResponseAction.RETRY,
        FailureType.transient_error,
        ["GET /v5/ad_accounts/1/campaigns", "HTTP 200", "not complete JSON"],
    ),
    (
        "200 html page",
        response(200, text="<html>maintenance</html>"),
        (),
        ResponseAction.RETRY,
        FailureType.transient_error,
        ["GET /v5/ad_accounts/1/campaigns", "not complete JSON"],
    ),
    (
        "400 invalid parameter",
        response(400, pinterest_error(1, "Invalid parameters.")),
        (),
        ResponseAction.FAIL,
        FailureType.config_error,
        ["GET /v5/ad_accounts/1/campaigns", "HTTP 400", "Pinterest code 1", "Invalid parameters."],
    ),
    (
        "401",
        response(401, pinterest_error(2, "Authentication failed.")),
        (),
        ResponseAction.REFRESH_TOKEN_THEN_RETRY,
        FailureType.config_error,
        ["HTTP 401", "Pinterest code 2", "Authentication failed."],
    ),
    (
        "403 ad account",
        response(403, pinterest_error(29, "Not permitted.")),
        (),
        ResponseAction.FAIL,
        FailureType.config_error,
        ["GET /v5/ad_accounts/1/campaigns", "HTTP 403", "Pinterest code 29", "Not permitted.", "ads:read"],
    ),
    (
        "403 boards",
        response(403, pinterest_error(3, "Missing scope."), path="/v5/boards"),
        (),
        ResponseAction.FAIL,
        FailureType.config_error,
        ["GET /v5/boards", "boards:read"],
    ),
    (
        "403 pins",
        response(403, pinterest_error(3, "Missing scope."), path="/v5/pins"),
        (),
        ResponseAction.FAIL,
        FailureType.config_error,
        ["pins:read"],
    ),
    (
        "403 catalogs",
        response(403, pinterest_error(3, "Missing scope."), path="/v5/catalogs/feeds"),
        (),
        ResponseAction.FAIL,
        FailureType.config_error,
        ["GET /v5/catalogs/feeds", "catalogs:read"],
    ),
    (
        "403 user account",
        response(403, pinterest_error(3, "Missing scope."), path="/v5/user_account"),
        (),
        ResponseAction.FAIL,
        FailureType.config_error,
        ["user_accounts:read"],
    ),
    (
        "403 skipped parent",
        response(403, pinterest_error(29, "Not permitted.")),
        (403, 404),
        ResponseAction.IGNORE,
        None,
        ["HTTP 403", "Pinterest code 29", "Not permitted.", "Skipping this parent"],
    ),
    (
        "404",
        response(404, pinterest_error(40, "Board not found."), path="/v5/boards/9/pins"),
        (),
        ResponseAction.FAIL,
        FailureType.system_error,
        ["GET /v5/boards/9/pins", "HTTP 404", "Pinterest code 40", "Board not found."],
    ),
    (
        "404 skipped parent",
        response(404, pinterest_error(40, "Board not found."), path="/v5/boards/9/pins"),
        (403, 404),
        ResponseAction.IGNORE,
        None,
        ["Board not found.", "Skipping this parent"],
    ),
    (
        "409 no catalog",
        response(
            409,
            pinterest_error(4182, "Can't access this feature without an existing catalog."),
            path="/v5/catalogs/product_groups",
        ),
        (),
        ResponseAction.IGNORE,
        None,
        ["Pinterest code 4182", "no catalog"],
    ),
    (
        "409 other conflict",
        response(409, pinterest_error(409, "Board section conflict.")),
        (),
        ResponseAction.FAIL,
        FailureType.system_error,
        ["HTTP 409", "Board section conflict."],
    ),
    (
        "429",
        response(429, pinterest_error(8, "Rate limit exceeded.")),
        (),
        ResponseAction.RATE_LIMITED,
        FailureType.transient_error,
        ["HTTP 429", "Pinterest code 8", "Rate limit exceeded."],
    ),
    (
        "429 reset in 10 minutes",
        response(429, pinterest_error(8, "Rate limit exceeded."), headers={"Retry-After": "600"}),
        (),
        ResponseAction.RATE_LIMITED,
        FailureType.transient_error,
        ["HTTP 429"],
    ),
    (
        "429 daily cap",
        response(429, pinterest_error(8, "Rate limit exceeded."), headers={"X-RateLimit-Reset": "7200"}),
        (),
        ResponseAction.FAIL,
        FailureType.transient_error,
        [
            "GET /v5/ad_accounts/1/campaigns",
            "HTTP 429",
            "Pinterest code 8",
            "7200 s",
            "~2.0 h",
            "Run the sync again after the reset",
        ],
    ),
    (
        "500",
        response(500, pinterest_error(500, "Internal error.")),
        (),
        ResponseAction.RETRY,
        FailureType.transient_error,
        ["HTTP 500", "Internal error."],
    ),
    (
        "502 html",
        response(502, text="<html><h1>502 Bad Gateway</h1></html>"),
        (),
        ResponseAction.RETRY,
        FailureType.transient_error,
        ["HTTP 502", "502 Bad Gateway"],
    ),
    (
        "503",
        response(503, pinterest_error(503, "Service unavailable.")),
        (),
        ResponseAction.RETRY,
        FailureType.transient_error,
        ["HTTP 503"],
    ),
    ("408", response(408, text=""), (), ResponseAction.RETRY, FailureType.transient_error, ["HTTP 408"]),
    ("504", response(504, text=""), (), ResponseAction.RETRY, FailureType.transient_error, ["HTTP 504"]),
    (
        "409 no catalog where conflicts skip the parent",
        response(409, pinterest_error(4182, "No catalog."), path="/v5/catalogs/product_groups"),
        (409,),
        ResponseAction.IGNORE,
        None,
        ["Pinterest code 4182", "no catalog"],
    ),
    (
        "400 with the no-catalog code",
        response(400, pinterest_error(4182, "No catalog.")),
        (),
        ResponseAction.FAIL,
        FailureType.config_error,
        ["HTTP 400", "Pinterest code 4182"],
    ),
    (
        "429 where 403 and 404 skip the parent",
        response(429, pinterest_error(8, "Rate limit exceeded.")),
        (403, 404),
        ResponseAction.RATE_LIMITED,
        FailureType.transient_error,
        ["HTTP 429"],
    ),
    (
        "422 other client error",
        response(422, pinterest_error(422, "Unprocessable.")),
        (),
        ResponseAction.FAIL,
        FailureType.system_error,
        ["HTTP 422", "Unprocessable."],
    ),
]


@pytest.mark.parametrize(
    "answer,skip,action,failure,words", [c[1:] for c in CLASSIFICATION], ids=[c[0] for c in CLASSIFICATION]
)
def test_response_is_classified_with_a_message_naming_endpoint_status_and_pinterest_error(
    answer, skip, action, failure, words
):
    resolution = PinterestErrorHandler("campaigns", frozenset(skip)).interpret_response(answer)

    assert resolution.response_action == action
    assert resolution.failure_type == failure
    for word in words:
        assert word in resolution.error_message
    if action != ResponseAction.SUCCESS:
        assert resolution.error_message.startswith("Stream campaigns: ")
        assert "page_size" not in resolution.error_message  # the query string is noise


class FakeSharedToken:
    """The workers' shared token: `current` is what they send now; a refresh mints the next one."""

    def __init__(self, current: str) -> None:
        self.current = current
        self.refreshes = 0

    def authorization(self) -> str | None:
        return self.current

    def replace_refused(self, refused: str | None) -> bool:
        if refused != self.current:
            return False
        self.refreshes += 1
        self.current = f"Bearer fresh-{self.refreshes}"
        return True


def revoked(sent: str) -> requests.Response:
    answer = response(401, pinterest_error(2, "Authentication failed: access token was revoked."))
    answer.request.headers["Authorization"] = sent
    return answer


def test_a_401_to_a_token_another_worker_already_replaced_is_retried_without_a_refresh():
    token = FakeSharedToken("Bearer new")
    handler = PinterestErrorHandler("campaigns", token=token)

    resolution = handler.interpret_response(revoked("Bearer old"))

    assert resolution.response_action == ResponseAction.RETRY
    assert token.refreshes == 0
    assert "access token was revoked" in (resolution.error_message or "")


def test_a_401_to_the_current_token_refreshes_it_and_retries():
    token = FakeSharedToken("Bearer current")
    handler = PinterestErrorHandler("campaigns", token=token)

    resolution = handler.interpret_response(revoked("Bearer current"))

    assert resolution.response_action == ResponseAction.RETRY
    assert token.refreshes == 1 and token.current == "Bearer fresh-1"


def test_a_request_refused_again_with_its_fresh_token_gets_one_more_before_a_config_error():
    # A revocation that lands on the token this request just refreshed (another worker's fault) is retried once
    # more with another fresh token; a third refusal is the credentials' fault.
    token = FakeSharedToken("Bearer current")
    handler = PinterestErrorHandler("campaigns", token=token)
    request = revoked("Bearer current").request
    actions = []
    for _ in range(MAX_TOKEN_REFRESHES_PER_REQUEST + 1):
        answer = revoked(token.current)
        answer.request = request  # the CDK re-sends the same PreparedRequest, re-signed
        request.headers["Authorization"] = token.current
        actions.append(handler.interpret_response(answer))

    assert [a.response_action for a in actions] == [ResponseAction.RETRY] * MAX_TOKEN_REFRESHES_PER_REQUEST + [
        ResponseAction.FAIL
    ]
    assert token.refreshes == MAX_TOKEN_REFRESHES_PER_REQUEST
    assert actions[-1].failure_type == FailureType.config_error
    assert "re-authorize the app" in (actions[-1].error_message or "")


class FailingSharedToken(FakeSharedToken):
    """A shared token whose refresh fails the way the token endpoint can."""

    def __init__(self, error: Exception) -> None:
        super().__init__("Bearer current")
        self.error = error

    def replace_refused(self, refused: str | None) -> bool:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        AirbyteTracedException(
            message="Pinterest's token endpoint could not be reached.", failure_type=FailureType.transient_error
        ),
        requests.exceptions.ConnectionError("connection refused"),
    ],
    ids=["token endpoint down after its retries", "token endpoint not reached"],
)
def test_a_refresh_that_fails_transiently_is_retried_and_not_counted_as_a_fresh_token(error):
    token = FailingSharedToken(error)
    handler = PinterestErrorHandler("campaigns", token=token)

    resolutions = [
        handler.interpret_response(revoked("Bearer current")) for _ in range(MAX_TOKEN_REFRESHES_PER_REQUEST + 1)
    ]

    assert [r.response_action for r in resolutions] == [ResponseAction.RETRY] * (MAX_TOKEN_REFRESHES_PER_REQUEST + 1)
    assert all(r.failure_type == FailureType.transient_error for r in resolutions)
    assert "Refreshing the OAuth token failed" in (resolutions[0].error_message or "")


def test_a_refresh_the_token_endpoint_refuses_fails_with_its_own_config_error():
    refused = AirbyteTracedException(message="The refresh token was refused.", failure_type=FailureType.config_error)
    handler = PinterestErrorHandler("campaigns", token=FailingSharedToken(refused))

    with pytest.raises(AirbyteTracedException) as raised:
        handler.interpret_response(revoked("Bearer current"))

    assert raised.value is refused


@pytest.mark.parametrize(
    "exception",
    [requests.exceptions.ConnectionError("reset by peer"), requests.exceptions.ReadTimeout("read timed out")],
    ids=["connection reset", "read timeout"],
)
def test_network_errors_are_retried(exception):
    exception.request = requests.Request("GET", API + "boards").prepare()

    resolution = PinterestErrorHandler("boards").interpret_response(exception)

    assert resolution.response_action == ResponseAction.RETRY
    assert resolution.failure_type == FailureType.transient_error
    assert "GET /v5/boards" in resolution.error_message and type(exception).__name__ in resolution.error_message


def test_an_unexpected_exception_fails_as_a_system_error():
    resolution = PinterestErrorHandler("boards").interpret_response(RuntimeError("boom"))

    assert (resolution.response_action, resolution.failure_type) == (ResponseAction.FAIL, FailureType.system_error)
    assert "boom" in resolution.error_message


# -- backoff -----------------------------------------------------------------------------------------------------

HINTS = [
    ("Retry-After header", response(429, headers={"Retry-After": "12"}), 12.0),
    ("X-RateLimit-Reset header", response(429, headers={"X-RateLimit-Reset": "30"}), 30.0),
    ("Retry-After wins over reset", response(429, headers={"Retry-After": "5", "X-RateLimit-Reset": "30"}), 5.0),
    ("retry after in the message", response(429, pinterest_error(8, "Rate limit hit, retry after 12 seconds")), 12.0),
    ("retry after 2.5s in the message", response(429, pinterest_error(8, "Please retry after 2.5s")), 2.5),
    ("zero hint is never zero", response(429, headers={"Retry-After": "0"}), 0.1),
]


@pytest.mark.parametrize("answer,expected", [h[1:] for h in HINTS], ids=[h[0] for h in HINTS])
def test_backoff_follows_the_server_hint(answer, expected):
    assert PinterestBackoff("campaigns").backoff_time(answer, attempt_count=1) == expected


@pytest.mark.parametrize(
    "attempt,low,high",
    [(1, 0.5, 1), (2, 1, 2), (3, 2, 4), (4, 4, 8), (6, 16, 32), (7, 30, 60), (12, 30, 60)],
    ids=lambda value: str(value),
)
def test_backoff_without_hint_is_exponential_with_jitter_and_capped(attempt, low, high):
    backoff = PinterestBackoff("boards", rng=random.Random(attempt))
    unhinted = response(503, pinterest_error(503, "Unavailable."))

    waits = [backoff.backoff_time(unhinted, attempt_count=attempt) for _ in range(200)]

    assert all(low <= wait <= high for wait in waits)
    assert max(waits) <= BACKOFF_CAP_SECONDS
    assert len(set(waits)) > 1  # jittered, so parallel workers do not retry in lockstep


def test_backoff_with_the_same_seed_is_reproducible_and_works_for_exceptions():
    first, second = PinterestBackoff("boards", rng=random.Random(42)), PinterestBackoff("boards", rng=random.Random(42))
    reset = requests.exceptions.ConnectionError("reset")

    assert [first.backoff_time(reset, n) for n in range(1, 6)] == [second.backoff_time(reset, n) for n in range(1, 6)]
    assert all(first.backoff_time(reset, n) >= 0.1 for n in range(0, 10))


def test_an_http_date_retry_after_falls_back_to_exponential_backoff():
    answer = response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})

    wait = PinterestBackoff("boards", rng=random.Random(1)).backoff_time(answer, attempt_count=2)

    assert 1 <= wait <= 2


# -- through the real entrypoint ---------------------------------------------------------------------------------


@pytest.fixture
def budget_without_policies(monkeypatch):
    """After a 429 the shared request budget also holds requests until its window resets (http/budget.py, tested on its
    own); with time.sleep patched away that wait would spin. These tests are about the retry waits alone."""
    import source_pinterest.source as source_module

    monkeypatch.setattr(source_module, "build_api_budget", lambda: PinterestAPIBudget(policies=[]))


def waits(no_sleep: list[float]) -> list[float]:
    """The waits taken; the backoff library's own zero-second pauses around the CDK's sleep are left out."""
    return [seconds for seconds in no_sleep if seconds]


def boards_page(*ids: str) -> dict[str, Any]:
    return {"json": {"items": [{"id": i} for i in ids], "bookmark": None}, "status_code": 200}


def test_given_two_429_then_200_when_read_then_records_complete_and_waits_follow_the_header(
    api, no_sleep, budget_without_policies
):
    rate_limited = {
        "json": pinterest_error(8, "Rate limit exceeded."),
        "status_code": 429,
        "headers": {"Retry-After": "3"},
    }
    api.mocker.get(API + "boards", [rate_limited, rate_limited, boards_page("1", "2")])

    output = read_streams(make_config(), ["boards"])

    assert [r["id"] for r in records_of(output, "boards")] == ["1", "2"]
    assert len(api.requests_to("boards")) == 3
    assert waits(no_sleep) == [4.0, 4.0]  # the hint, plus the CDK's one second for fractions


RETRIED_THEN_OK = [
    ("503", {"json": pinterest_error(503, "Unavailable."), "status_code": 503}),
    ("connection reset", {"exc": requests.exceptions.ConnectionError("Connection reset by peer")}),
    ("read timeout", {"exc": requests.exceptions.ReadTimeout("read timed out")}),
    ("truncated json", {"text": '{"items": [{"id": "1"}, {"id', "status_code": 200}),
]


@pytest.mark.parametrize("first_answer", [r[1] for r in RETRIED_THEN_OK], ids=[r[0] for r in RETRIED_THEN_OK])
def test_given_one_transient_failure_then_200_when_read_then_records_complete(
    api, no_sleep, budget_without_policies, first_answer
):
    api.mocker.get(API + "boards", [first_answer, boards_page("1", "2")])

    output = read_streams(make_config(), ["boards"])

    assert [r["id"] for r in records_of(output, "boards")] == ["1", "2"]
    assert len(api.requests_to("boards")) == 2
    assert (
        len(waits(no_sleep)) == 1 and 1.5 <= waits(no_sleep)[0] <= 2.0
    )  # first exponential step (0.5-1 s) plus the CDK's second


def test_given_always_500_when_read_then_that_stream_fails_clearly_and_the_other_stream_syncs(
    api, no_sleep, budget_without_policies
):
    api.json("boards", pinterest_error(500, "Something went wrong on our end."), 500)
    api.pages("pins", [[{"id": "p1"}], [{"id": "p2"}]])

    output = read_streams(make_config(), ["boards", "pins"], expect_failure=True)

    assert [r["id"] for r in records_of(output, "pins")] == ["p1", "p2"]
    assert records_of(output, "boards") == []
    assert len(api.requests_to("boards")) == MAX_RETRIES + 1
    assert len(waits(no_sleep)) == MAX_RETRIES and all(wait <= BACKOFF_CAP_SECONDS + 1 for wait in waits(no_sleep))
    error = stream_error(output, "boards")
    assert error.failure_type == FailureType.transient_error
    for word in (
        "Stream boards",
        "GET /v5/boards",
        "HTTP 500",
        "Pinterest code 500",
        "Something went wrong on our end.",
    ):
        assert word in error.message
    # The sync as a whole reports the failed stream.
    assert any("boards" in m.trace.error.message and m.trace.error.stream_descriptor is None for m in output.errors)


def test_given_daily_cap_429_when_read_then_the_stream_fails_transiently_without_waiting_for_the_reset(
    api, no_sleep, budget_without_policies
):
    api.json("boards", pinterest_error(8, "Rate limit exceeded."), 429, headers={"Retry-After": "20000"})
    api.pages("pins", [[{"id": "p1"}]])

    output = read_streams(make_config(), ["boards", "pins"], expect_failure=True)

    assert len(api.requests_to("boards")) == 1
    assert waits(no_sleep) == []
    assert [r["id"] for r in records_of(output, "pins")] == ["p1"]
    error = stream_error(output, "boards")
    assert error.failure_type == FailureType.transient_error
    assert "20000 s" in error.message and "Run the sync again after the reset" in error.message


def test_required_scope_falls_back_to_the_docs_for_unknown_paths():
    assert errors.required_scope("/v5/ad_accounts/1/campaigns") == "ads:read"
    assert errors.required_scope("/v5/something_new") == "the scopes listed in the connector docs"
