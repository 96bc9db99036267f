"""How every Pinterest response is classified (retry / fail / skip) and how long to wait before a retry."""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy, ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.limits import operator_number
from source_pinterest.sync import progress

logger = logging.getLogger("airbyte")


# Operator settings (README): shorter retry schedules for dev setups and test runs.
MAX_RETRIES = int(operator_number("PINTEREST_MAX_RETRIES", 8, allow_zero=True))
MAX_TOTAL_WAIT_SECONDS = 15 * 60
# A 429 whose reset is further away than this is a daily cap: waiting it out inside one sync helps nobody.
MAX_SINGLE_WAIT_SECONDS = 10 * 60
BACKOFF_BASE_SECONDS = operator_number("PINTEREST_BACKOFF_BASE_SECONDS", 1.0, allow_zero=True)
BACKOFF_CAP_SECONDS = 60.0
# Fresh tokens one request may ask for. More than one: the workers share a token, and a revocation can land on the
# token this request just refreshed before the worker it hit has replaced it.
MAX_TOKEN_REFRESHES_PER_REQUEST = 2

_RETRY_AFTER_IN_MESSAGE = re.compile(r"retry after (\d+(?:\.\d+)?) ?s", re.IGNORECASE)
_NO_CATALOG_CODE = 4182

# Which OAuth scope each endpoint family needs, so a 403 can say what to grant.
SCOPES_BY_PATH_PREFIX = (
    ("user_account/analytics", "user_accounts:read"),
    ("user_account", "user_accounts:read"),
    ("boards", "boards:read and pins:read"),
    ("pins", "pins:read"),
    ("catalogs", "catalogs:read"),
    ("ad_accounts", "ads:read"),
    ("resources", "ads:read"),
)


def response_json(response: requests.Response) -> Any:
    """The parsed body, parsed at most once per response; raises ValueError on a non-JSON or truncated body."""
    cached = getattr(response, "_pinterest_json", None)
    if cached is None:
        cached = response.json()
        response._pinterest_json = cached  # type: ignore[attr-defined]
    return cached


def page_problem(response: requests.Response, body: Any) -> str | None:
    """What keeps a list answer from being a page ({"items": [objects], "bookmark": string or null}); None if it is
    one, or if no page was asked for. A request with `page_size` asked for a page; a body with `items` is one."""
    asked = response.request is not None and "page_size" in parse_qs(urlsplit(response.request.url or "").query)
    if not asked and not (isinstance(body, dict) and "items" in body):
        return None
    if not isinstance(body, dict):
        return f"the body is a JSON {_json_type(body)}, not a page object"
    items = body.get("items")
    if not isinstance(items, list):
        return "it has no 'items' list" if items is None else f"'items' is a JSON {_json_type(items)}, not a list"
    for index, item in enumerate(items):
        if type(item) is not dict:
            return f"item {index} is a JSON {_json_type(item)}, not an object"
    bookmark = body.get("bookmark")
    if bookmark is not None and not isinstance(bookmark, str):
        return f"'bookmark' is a JSON {_json_type(bookmark)}, not a string"
    return None


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class PinterestError:
    """Pinterest's error body ({code, message}) read defensively: any body, even HTML, yields a printable error."""

    status: int
    code: int | None
    message: str

    @classmethod
    def of(cls, response: requests.Response) -> PinterestError:
        try:
            body = response_json(response)
        except ValueError:
            body = None
        if isinstance(body, dict):
            code = body.get("code")
            return cls(response.status_code, code if isinstance(code, int) else None, str(body.get("message", "")))
        snippet = " ".join(response.text[:200].split()) if response.text else ""
        return cls(response.status_code, None, snippet or response.reason or "")

    def describe(self, response: requests.Response) -> str:
        code = f", Pinterest code {self.code}" if self.code is not None else ""
        return f"{endpoint_of(response)} answered HTTP {self.status}{code}: {self.message or 'no message'}"


def endpoint_of(source: requests.Response | requests.Request | requests.PreparedRequest | None) -> str:
    """'GET /v5/ad_accounts/1/campaigns' - the query string is left out, it never helps and may be long."""
    request = source.request if isinstance(source, requests.Response) else source
    if request is None or not request.url:
        return "the Pinterest API"
    url = request.url.decode() if isinstance(request.url, bytes) else request.url  # requests.Request takes bytes too
    return f"{request.method} {urlsplit(url).path}"


def required_scope(path: str) -> str:
    relative = path.split("/v5/", 1)[-1].lstrip("/")
    for prefix, scope in SCOPES_BY_PATH_PREFIX:
        if relative.startswith(prefix):
            return scope
    return "the scopes listed in the connector docs"


def seconds_until_retry(response: requests.Response) -> float | None:
    """The server's own hint: Retry-After, the rate-limit reset (429 only: every response carries that header, it
    says nothing about when a 5xx will clear), or 'retry after N seconds' in Pinterest's message."""
    headers = ("Retry-After", "X-RateLimit-Reset") if response.status_code == 429 else ("Retry-After",)
    for header in headers:
        value = response.headers.get(header)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                pass
    match = _RETRY_AFTER_IN_MESSAGE.search(PinterestError.of(response).message)
    return float(match.group(1)) if match else None


def _then(detail: str, more: str) -> str:
    """`detail` (which may end with Pinterest's own full stop) followed by another sentence."""
    return f"{detail.rstrip('.')}. {more}"


def _resolution(action: ResponseAction, failure: FailureType | None, message: str) -> ErrorResolution:
    return ErrorResolution(response_action=action, failure_type=failure, error_message=message)


@dataclass(frozen=True)
class _Rule:
    """What an error answer leads to; `advice` follows Pinterest's own status, code and message."""

    action: ResponseAction
    failure: FailureType | None
    advice: str = ""


# (HTTP status, Pinterest's body code or None for any code) -> rule. The code-specific row wins over the stream's
# skip statuses, which win over the status-wide row; any other status >= 500 is retried, any other one fails.
_RULES: dict[tuple[int, int | None], _Rule] = {
    (409, _NO_CATALOG_CODE): _Rule(ResponseAction.IGNORE, None, "This account has no catalog; skipping."),
    # 400 and other client errors: the request itself is wrong, so retrying cannot help.
    (400, None): _Rule(ResponseAction.FAIL, FailureType.config_error),
    # Refreshed and retried by PinterestErrorHandler._renew (or by the CDK, once, where no renewal is wired in).
    (401, None): _Rule(
        ResponseAction.REFRESH_TOKEN_THEN_RETRY,
        FailureType.config_error,
        "Freshly refreshed access tokens were refused too: check the connection's credentials (re-authorize the "
        "app if needed) and settings, then sync again.",
    ),
    (403, None): _Rule(
        ResponseAction.FAIL,
        FailureType.config_error,
        "The token lacks access: re-authorize the app with the {scope} scope(s) and check that the Pinterest account "
        "can read this resource.",
    ),
    (404, None): _Rule(ResponseAction.FAIL, FailureType.system_error, "The resource does not exist."),
    (408, None): _Rule(ResponseAction.RETRY, FailureType.transient_error),
    # Waited for by the backoff strategy, unless the reset is a daily cap (PinterestErrorHandler._interpret).
    (429, None): _Rule(ResponseAction.RATE_LIMITED, FailureType.transient_error),
}
_SKIPPED_PARENT = _Rule(ResponseAction.IGNORE, None, "Skipping this parent, the other parents go on.")
_SERVER_ERROR = _Rule(ResponseAction.RETRY, FailureType.transient_error)
_CLIENT_ERROR = _Rule(ResponseAction.FAIL, FailureType.system_error)


def _rule(status: int, code: int | None, skip_statuses: frozenset[int]) -> _Rule:
    """The row of _RULES for an error answer, most specific first."""
    if code is not None and (status, code) in _RULES:
        return _RULES[(status, code)]
    if status in skip_statuses:
        return _SKIPPED_PARENT
    return _RULES.get((status, None)) or (_SERVER_ERROR if status >= 500 else _CLIENT_ERROR)


class SharedToken(Protocol):
    """The access token every worker sends (auth.PinterestAuthenticator)."""

    def authorization(self) -> str | None:
        """The Authorization header sent now."""
        ...

    def replace_refused(self, refused: str | None) -> bool:
        """Refresh the token unless `refused` is no longer the one sent (another worker replaced it meanwhile).
        True when this call refreshed."""
        ...


class PinterestErrorHandler(ErrorHandler):
    """Maps a response to retry / fail / skip. `skip_statuses` lists the statuses that mean 'this parent has no
    data for us' (an ad account the token cannot read, a board deleted mid-sync, a user without a catalog)."""

    def __init__(
        self,
        stream_name: str,
        skip_statuses: frozenset[int] = frozenset(),
        token: SharedToken | None = None,
    ) -> None:
        self._stream_name = stream_name
        self._skip_statuses = skip_statuses
        # The access token the workers share (None: not known, e.g. in unit tests; the CDK then refreshes once).
        self._token = token
        # Fresh tokens asked for per request, by method and URL: what a retry re-sends (the response's request
        # object is not always the one sent: transport adapters may wrap it). Dropped when the request succeeds.
        self._refreshes: dict[tuple[str | None, str | None], int] = {}

    @property
    def max_retries(self) -> int | None:
        return MAX_RETRIES

    @property
    def max_time(self) -> int | None:
        return MAX_TOTAL_WAIT_SECONDS

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response):
            return self._interpret(response_or_exception)
        if isinstance(response_or_exception, requests.RequestException):
            return _resolution(
                ResponseAction.RETRY,
                FailureType.transient_error,
                f"Stream {self._stream_name}: {endpoint_of(response_or_exception.request)} failed with "
                f"{type(response_or_exception).__name__}; retrying",
            )
        return _resolution(
            ResponseAction.FAIL, FailureType.system_error, f"Stream {self._stream_name}: {response_or_exception}"
        )

    def _interpret(self, response: requests.Response) -> ErrorResolution:
        status = response.status_code
        prefix = f"Stream {self._stream_name}: "
        if response.ok:
            if self._refreshes and response.request is not None:
                self._refreshes.pop((response.request.method, response.request.url), None)
            try:
                body = response_json(response)
            except ValueError:
                return _resolution(
                    ResponseAction.RETRY,
                    FailureType.transient_error,
                    f"{prefix}{endpoint_of(response)} answered HTTP {status} with a body that is not complete JSON "
                    f"({len(response.content)} bytes); retrying",
                )
            problem = page_problem(response, body)
            if problem:
                # Well-formed JSON of the wrong shape is no network accident: retrying would get the same answer.
                return _resolution(
                    ResponseAction.FAIL,
                    FailureType.system_error,
                    f"{prefix}{endpoint_of(response)} answered HTTP {status} with a malformed page: {problem}",
                )
            return ErrorResolution(response_action=ResponseAction.SUCCESS)
        error = PinterestError.of(response)
        detail = prefix + error.describe(response)
        if status == 401 and self._token is not None and response.request is not None:
            return self._renew(response.request, detail)
        rule = _rule(status, error.code, self._skip_statuses)
        if rule.action == ResponseAction.RATE_LIMITED:
            wait = seconds_until_retry(response)
            if wait is not None and wait > MAX_SINGLE_WAIT_SECONDS:
                hours = wait / 3600
                return _resolution(
                    ResponseAction.FAIL,
                    FailureType.transient_error,
                    _then(
                        detail,
                        f"Pinterest's rate limit resets in {wait:.0f} s (~{hours:.1f} h), too long to wait within "
                        "this sync; everything complete so far is saved in state. Run the sync again after the reset.",
                    ),
                )
        if not rule.advice:
            return _resolution(rule.action, rule.failure, detail)
        scope = required_scope(urlsplit(response.request.url or "").path if response.request else "")
        return _resolution(rule.action, rule.failure, _then(detail, rule.advice.format(scope=scope)))

    def _renew(self, request: requests.PreparedRequest, detail: str) -> ErrorResolution:
        """A 401: retried with a fresh token, at most MAX_TOKEN_REFRESHES_PER_REQUEST refreshes for this request.
        Done here rather than by the CDK's REFRESH_TOKEN_THEN_RETRY, which refreshes once per request and cannot
        tell a refused token from one another worker replaced while this request was out."""
        assert self._token is not None
        sent = request.headers.get("Authorization")
        replaced = _resolution(
            ResponseAction.RETRY, FailureType.transient_error, _then(detail, "The token was replaced since; retrying")
        )
        if sent is not None and sent != self._token.authorization():
            return replaced  # another worker refreshed after this request went out: the old token was refused
        key = (request.method, request.url)
        refreshes = self._refreshes.get(key, 0)
        if refreshes >= MAX_TOKEN_REFRESHES_PER_REQUEST:
            self._refreshes.pop(key, None)
            advice = _RULES[(401, None)].advice
            return _resolution(ResponseAction.FAIL, FailureType.config_error, _then(detail, advice))
        try:
            refreshed = self._token.replace_refused(sent)
        except AirbyteTracedException as error:
            if error.failure_type == FailureType.config_error:
                raise  # the token endpoint refused the credentials: no retry can help
            # The token endpoint failed after its own retries: this request is tried again, as the CDK does.
            return _resolution(
                ResponseAction.RETRY,
                FailureType.transient_error,
                _then(detail, f"Refreshing the OAuth token failed ({error.message}); retrying"),
            )
        except requests.RequestException as error:  # the token endpoint not reached at all
            return _resolution(
                ResponseAction.RETRY,
                FailureType.transient_error,
                _then(detail, f"Refreshing the OAuth token failed ({type(error).__name__}); retrying"),
            )
        if not refreshed:
            return replaced
        self._refreshes[key] = refreshes + 1
        logger.info(_then(detail, "Refreshed OAuth token; retrying"))
        return _resolution(ResponseAction.RETRY, FailureType.transient_error, _then(detail, "Refreshed; retrying"))


class PinterestBackoff(BackoffStrategy):
    """Server hints first (429 reset / Retry-After / message), else capped exponential backoff with full jitter."""

    def __init__(self, stream_name: str, rng: random.Random | None = None) -> None:
        self._stream_name = stream_name
        self._rng = rng or random.Random()

    def backoff_time(
        self,
        response_or_exception: requests.Response | requests.RequestException | None,
        attempt_count: int,
    ) -> float | None:
        response = response_or_exception if isinstance(response_or_exception, requests.Response) else None
        if response is not None and response.status_code == 401:
            return 0.1  # retried with a fresh token: nothing to wait for
        hinted = seconds_until_retry(response) if response is not None else None
        if hinted is not None:
            wait, reason = hinted, "the server's rate-limit reset hint"
        else:
            ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt_count - 1))
            wait, reason = self._rng.uniform(ceiling / 2, ceiling), "exponential backoff"
        why = _why(response_or_exception)
        logger.info(f"Stream {self._stream_name}: waiting {wait:.1f} s before retry {attempt_count} ({why}; {reason})")
        progress.record_wait(self._stream_name, wait, why)
        # A zero wait would make the CDK fall back to its own (slower) schedule.
        return max(wait, 0.1)


def _why(response_or_exception: Any) -> str:
    if isinstance(response_or_exception, requests.Response):
        said = f"{endpoint_of(response_or_exception)} answered HTTP {response_or_exception.status_code}"
        return said + " with a body that is not complete JSON" if response_or_exception.ok else said
    if isinstance(response_or_exception, Exception):
        return f"{type(response_or_exception).__name__}"
    return "no response"
