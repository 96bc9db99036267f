"""The base of every Pinterest stream: one HTTP client (auth, retries, budget) and the helpers all streams share."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

import requests
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.sources.streams.http import HttpClient, HttpStream
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.downloads import JsonArrayBody
from source_pinterest.errors import MAX_RETRIES, PinterestBackoff, PinterestErrorHandler, endpoint_of, response_json
from source_pinterest.limits import http_timeout
from source_pinterest.pagination import BookmarkPaginator
from source_pinterest.saved_state import StateLayout
from source_pinterest.streams.context import SyncContext

logger = logging.getLogger("airbyte")

# What read_records yields where the stream's state may be emitted before its slice ends (a metrics stream, after
# each window or id batch of an ad account): the record stream's order puts it behind every record yielded so far.
CHECKPOINT: Any = object()


@cache
def load_schema(name: str) -> Mapping[str, Any]:
    return ResourceSchemaLoader("source_pinterest").get_schema(name)


def stringify_ids(value: Any) -> Any:
    """Ids become strings at any depth: an 18-digit id stored as a float loses its last digits."""
    # Runs on every record, so exact `type(...) is` checks (bool is not int here) and strings skipped first.
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            item_kind = type(item)
            if item_kind is str or item is None:
                continue
            if item_kind is int and (key == "id" or key.endswith("_id")):
                value[key] = str(item)
            elif item_kind is list and key.endswith("_ids"):
                value[key] = [str(i) if type(i) is int else i for i in item]
            elif item_kind is dict or item_kind is list:
                stringify_ids(item)
    elif kind is list:
        for item in value:
            if type(item) is dict or type(item) is list:
                stringify_ids(item)
    return value


def settle_environment(session: requests.Session, url: str) -> None:
    """Read the proxy and CA-bundle environment variables once, for the one host this session calls.

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


class PinterestStream(HttpStream):
    """Holds the sync context and builds the CDK HttpClient with Pinterest's error handling and the shared budget."""

    # Pinterest's lists are read whole (there is no updated-since filter), so per-page checkpointing adds nothing.
    state_checkpoint_interval: int | None = None
    skip_statuses: frozenset[int] = frozenset()

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.requests_made = 0  # for the end-of-sync summary
        self._count_lock = threading.Lock()  # partitions of the stream are read in several threads
        self.sync_mode = SyncMode.full_refresh  # as configured in the catalog, set when the read begins
        super().__init__(authenticator=ctx.authenticator, api_budget=ctx.api_budget)
        settle_environment(self._http_client._session, self.url_base)

    def _count_request(self) -> None:
        with self._count_lock:
            self.requests_made += 1

    @property
    def url_base(self) -> str:
        return self.ctx.base_url

    @property
    def state_layout(self) -> StateLayout:
        """What this stream's state is keyed by, for mapping the state shapes of Airbyte's connector onto ours."""
        return StateLayout((), None)

    def get_error_handler(self) -> PinterestErrorHandler:
        return PinterestErrorHandler(self.name, self.skip_statuses)

    def get_backoff_strategy(self) -> PinterestBackoff:
        return PinterestBackoff(self.name)

    # The CDK declares Stream.get_json_schema as an lru_cache wrapper, which no plain method matches; the schemas are
    # cached by load_schema instead.
    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]
        return load_schema(self.name)

    # HttpStream's own page loop is not used: streams page through `get_pages`, so these two are never called.
    def next_page_token(self, response: requests.Response) -> Mapping[str, Any] | None:
        return None

    def parse_response(self, response: requests.Response, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        yield from ()

    def get(self, path: str, params: Mapping[str, Any]) -> Any | None:
        """GET one URL through the CDK client; None when the error handler chose to skip the response."""
        self._count_request()
        _, response = self._http_client.send_request(
            http_method="GET",
            url=self._join_url(self.url_base, path),
            request_kwargs={"timeout": http_timeout()},
            params=dict(params),
        )
        if not response.ok:
            logger.warning(f"Stream {self.name}: skipped {endpoint_of(response)} (HTTP {response.status_code})")
            return None
        return response_json(response)

    def post(self, path: str, json_body: Mapping[str, Any]) -> Any | None:
        """POST a JSON body through the same CDK client as `get`; None when the error handler chose to skip."""
        self._count_request()
        _, response = self._http_client.send_request(
            http_method="POST",
            url=self._join_url(self.url_base, path),
            request_kwargs={"timeout": http_timeout()},
            json=dict(json_body),
        )
        if not response.ok:
            logger.warning(f"Stream {self.name}: skipped {endpoint_of(response)} (HTTP {response.status_code})")
            return None
        return response_json(response)

    def download(self, url: str, headers: Mapping[str, str]) -> requests.Response:
        """GET a pre-signed report file (stream=True, the body is left unread) through a second CDK client that has
        no authenticator: the storage host must not receive our bearer token. 429, 5xx and network errors before
        the body are retried there; an expired URL (400/403/404) or a lost range (416) comes back as it is."""
        if getattr(self, "_download_client", None) is None:
            self._download_client = HttpClient(
                name=self.name,
                logger=self.logger,
                error_handler=StorageErrorHandler(self.name),
                backoff_strategy=self.get_backoff_strategy(),
                message_repository=InMemoryMessageRepository(),
            )
        self._count_request()
        _, response = self._download_client.send_request(
            http_method="GET",
            url=url,
            headers=dict(headers),
            request_kwargs={"stream": True, "timeout": http_timeout()},
        )
        return response

    def get_array(self, path: str, params: Mapping[str, Any]) -> Iterator[Any] | None:
        """The items of a JSON-array answer (live analytics: ~27 MB for 250 ids with every column), for answers too
        large to parse whole: the body is copied to a temp file at network speed, checked complete, and parsed item
        by item from there. A cut or non-JSON body is asked for again, PINTEREST_MAX_RETRIES times as the error
        handler does for parsed answers. None when the error handler chose to skip the response."""
        url = self._join_url(self.url_base, path)
        for attempt in range(1, MAX_RETRIES + 2):
            self._count_request()
            _, response = self._streaming_client().send_request(
                http_method="GET",
                url=url,
                request_kwargs={"stream": True, "timeout": http_timeout()},
                params=dict(params),
            )
            if not response.ok:
                logger.warning(f"Stream {self.name}: skipped {endpoint_of(response)} (HTTP {response.status_code})")
                response.close()
                return None
            said = f"Stream {self.name}: {endpoint_of(response)} answered HTTP {response.status_code}"
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
            time.sleep(self.get_backoff_strategy().backoff_time(IncompleteBody(problem), attempt) or 0)
        return None  # not reached: the last attempt returns or raises

    def _streaming_client(self) -> HttpClient:
        # The stream's own client, but with an error handler that leaves successful bodies unread (stream=True).
        if getattr(self, "_streamed_client", None) is None:
            self._streamed_client = HttpClient(
                name=self.name,
                logger=self.logger,
                error_handler=UnreadBodyErrorHandler(self.name, self.skip_statuses),
                api_budget=self.ctx.api_budget,
                authenticator=self.ctx.authenticator,
                backoff_strategy=self.get_backoff_strategy(),
                message_repository=InMemoryMessageRepository(),
            )
            settle_environment(self._streamed_client._session, self.url_base)
        return self._streamed_client

    def get_pages(self, path: str, params: Mapping[str, Any], paginated: bool = True) -> Iterable[list[Any]]:
        """Every page's items of one listing, at the largest page size, following the bookmark to the end."""
        paginator = BookmarkPaginator(f"Stream {self.name}, GET {path}")
        page_params: dict[str, Any] | None = paginator.first_page_params() if paginated else {}
        while page_params is not None:
            body = self.get(path, {**params, **page_params})
            if body is None:
                return
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ValueError(f"Stream {self.name}: GET {path} answered without an 'items' list")
            yield items
            page_params = paginator.next_page_params(body) if paginated else None
