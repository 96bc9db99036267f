"""One stream's HTTP: the CDK's HttpClient with Pinterest's error handling, the shared authenticator and budget.

Streams are plain CDK `Stream`s that call this client; no HttpStream hook is inherited and left idle. Three CDK
clients sit behind it: the API client for answers parsed whole, a second one whose error handler leaves a
successful body unread (live analytics answers, spooled to disk by `get_array`), and one without authenticator
for pre-signed report files, whose storage host must never receive our bearer token."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.sources.streams.http import HttpClient
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.http.downloads import JsonArrayBody
from source_pinterest.http.errors import (
    MAX_RETRIES,
    PinterestBackoff,
    PinterestErrorHandler,
    endpoint_of,
    response_json,
)
from source_pinterest.http.pagination import BookmarkPaginator
from source_pinterest.limits import http_timeout
from source_pinterest.sync.context import SyncContext

logger = logging.getLogger("airbyte")


def settle_environment(session: requests.Session, url: str) -> None:
    """Read the proxy and CA-bundle environment variables once, for the one host this client calls.

    requests reads them again on every call (about 0.7 ms of CPU, more than parsing a page of records takes); the
    result for our API host cannot change during a sync, so the session keeps it and stops looking."""
    settings = session.merge_environment_settings(url, {}, None, None, None)
    session.proxies.update(settings["proxies"] or {})
    session.verify = settings["verify"]
    session.trust_env = False


class StorageErrorHandler(ErrorHandler):
    """Report files come from a pre-signed storage URL, not the API: 400/403/404 there mean the URL has expired
    (it lives 5 minutes), so the caller polls for a fresh one; 429, 5xx and network errors are retried."""

    def __init__(self, stream_name: str) -> None:
        self._stream_name = stream_name

    @property
    def max_retries(self) -> int | None:
        return 5

    @property
    def max_time(self) -> int | None:
        return 10 * 60

    def interpret_response(self, response_or_exception: Any) -> ErrorResolution:
        prefix = f"Stream {self._stream_name}: report download"
        if isinstance(response_or_exception, requests.Response):
            status = response_or_exception.status_code
            if response_or_exception.ok:
                return ErrorResolution(response_action=ResponseAction.SUCCESS)
            if status in (400, 403, 404):
                return ErrorResolution(ResponseAction.IGNORE, None, f"{prefix} URL expired (HTTP {status})")
            if status == 416:  # the range asked for is not there (any more): the download starts over
                return ErrorResolution(ResponseAction.IGNORE, None, f"{prefix} range not satisfiable (HTTP 416)")
            if status == 429 or status >= 500:
                return ErrorResolution(ResponseAction.RETRY, FailureType.transient_error, f"{prefix} got HTTP {status}")
            return ErrorResolution(ResponseAction.FAIL, FailureType.system_error, f"{prefix} got HTTP {status}")
        if isinstance(response_or_exception, requests.RequestException):
            return ErrorResolution(
                ResponseAction.RETRY, FailureType.transient_error, f"{prefix} failed: {response_or_exception}"
            )
        return ErrorResolution(
            ResponseAction.FAIL, FailureType.system_error, f"{prefix} failed: {response_or_exception}"
        )


class UnreadBodyErrorHandler(PinterestErrorHandler):
    """PinterestErrorHandler for requests whose body is read after the handler ran (stream=True): a successful
    answer is accepted unread, as parsing it here would load it whole; the reader checks it complete instead."""

    def interpret_response(self, response_or_exception: Any) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.ok:
            return ErrorResolution(response_action=ResponseAction.SUCCESS)
        return super().interpret_response(response_or_exception)


class IncompleteBody(requests.RequestException):
    """A successful answer whose body broke off or is not JSON (what the backoff log names)."""


class PinterestClient:
    """The requests of one stream, counted for the end-of-sync summary. Partitions of the stream call it from
    several worker threads at once; the CDK's HttpClient and the shared budget are safe for that."""

    def __init__(self, stream_name: str, ctx: SyncContext, skip_statuses: frozenset[int] = frozenset()) -> None:
        self.stream_name = stream_name
        self.base_url = ctx.base_url
        self.requests_made = 0
        self._ctx = ctx
        self._skip_statuses = skip_statuses
        self._backoff = PinterestBackoff(stream_name)
        self._lock = threading.Lock()  # the count, and the clients made on first use
        self._api = self._client(
            PinterestErrorHandler(stream_name, skip_statuses, ctx.authenticator), authenticated=True
        )
        self._streamed: HttpClient | None = None
        self._storage: HttpClient | None = None

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path)

    def get(self, path: str, params: Mapping[str, Any]) -> Any | None:
        """GET one URL; the parsed JSON body, or None when the error handler chose to skip the response."""
        return self._send("GET", path, params=dict(params))[0]

    def get_with_status(self, path: str, params: Mapping[str, Any]) -> tuple[Any | None, int]:
        """`get`, and the HTTP status of the answer: for a caller whose next step depends on why it was skipped."""
        return self._send("GET", path, params=dict(params))

    def post(self, path: str, json_body: Mapping[str, Any]) -> Any | None:
        """POST a JSON body; the parsed JSON answer, or None when the error handler chose to skip the response."""
        return self._send("POST", path, json=dict(json_body))[0]

    def get_pages(self, path: str, params: Mapping[str, Any], paginated: bool = True) -> Iterable[list[Any]]:
        """Every page's items of one listing, at the largest page size, following the bookmark to the end."""
        paginator = BookmarkPaginator(f"Stream {self.stream_name}, GET {path}")
        page_params: dict[str, Any] | None = paginator.first_page_params() if paginated else {}
        while page_params is not None:
            body = self.get(path, {**params, **page_params})
            if body is None:
                return
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ValueError(f"Stream {self.stream_name}: GET {path} answered without an 'items' list")
            yield items
            page_params = paginator.next_page_params(body) if paginated else None

    def get_array(self, path: str, params: Mapping[str, Any]) -> Iterator[Any] | None:
        """The items of a JSON-array answer (live analytics: ~27 MB for 250 ids with every column), for answers too
        large to parse whole: the body is copied to a temp file at network speed, checked complete, and parsed item
        by item from there. A cut or non-JSON body is asked for again, PINTEREST_MAX_RETRIES times as the error
        handler does for parsed answers. None when the error handler chose to skip the response."""
        url = self.url(path)
        with self._lock:
            if self._streamed is None:
                self._streamed = self._client(
                    UnreadBodyErrorHandler(self.stream_name, self._skip_statuses, self._ctx.authenticator),
                    authenticated=True,
                )
            streamed = self._streamed
        for attempt in range(1, MAX_RETRIES + 2):
            self._count()
            _, response = streamed.send_request(
                http_method="GET",
                url=url,
                request_kwargs={"stream": True, "timeout": http_timeout()},
                params=dict(params),
            )
            if not response.ok:
                self._log_skipped(response)
                response.close()
                return None
            said = f"Stream {self.stream_name}: {endpoint_of(response)} answered HTTP {response.status_code}"
            try:
                body = JsonArrayBody(response, said)
            finally:
                response.close()
            problem = body.problem()
            if problem is None:
                return body.items()
            body.close()
            if attempt > MAX_RETRIES:
                message = f"{said} with a body that is not complete JSON ({problem}), {attempt} times"
                raise AirbyteTracedException(
                    message=message, internal_message=message, failure_type=FailureType.transient_error
                )
            logger.warning(f"{said} with a body that is not complete JSON ({problem}); retrying")
            time.sleep(self._backoff.backoff_time(IncompleteBody(problem), attempt) or 0)
        return None  # not reached: the last attempt returns or raises

    def download(self, url: str, headers: Mapping[str, str]) -> requests.Response:
        """GET a pre-signed report file, its body left unread (stream=True). 429, 5xx and network errors before the
        body are retried; an expired URL (400/403/404) or a lost range (416) comes back as it is."""
        with self._lock:
            if self._storage is None:
                self._storage = self._client(StorageErrorHandler(self.stream_name), authenticated=False)
            storage = self._storage
        self._count()
        _, response = storage.send_request(
            http_method="GET",
            url=url,
            headers=dict(headers),
            request_kwargs={"stream": True, "timeout": http_timeout()},
        )
        return response

    def _send(self, method: str, path: str, **body: Any) -> tuple[Any | None, int]:
        self._count()
        _, response = self._api.send_request(
            http_method=method, url=self.url(path), request_kwargs={"timeout": http_timeout()}, **body
        )
        if not response.ok:
            self._log_skipped(response)
            return None, response.status_code
        return response_json(response), response.status_code

    def _client(self, error_handler: ErrorHandler, authenticated: bool) -> HttpClient:
        client = HttpClient(
            name=self.stream_name,
            logger=logging.getLogger(f"airbyte.streams.{self.stream_name}"),
            error_handler=error_handler,
            api_budget=self._ctx.api_budget if authenticated else None,
            authenticator=self._ctx.authenticator if authenticated else None,
            backoff_strategy=self._backoff,
            message_repository=InMemoryMessageRepository(),
        )
        if authenticated:
            # The HttpClient's session is a private member (airbyte-cdk 7.x, pinned in pyproject.toml): the CDK has
            # no hook to hand it a session or to keep requests from reading the environment on every call.
            settle_environment(client._session, self.base_url)
        return client

    def _count(self) -> None:
        with self._lock:
            self.requests_made += 1

    def _log_skipped(self, response: requests.Response) -> None:
        logger.warning(f"Stream {self.stream_name}: skipped {endpoint_of(response)} (HTTP {response.status_code})")
