"""The base of every Pinterest stream: one HTTP client (auth, retries, budget) and the helpers all streams share."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional

import requests
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader

from source_pinterest.errors import PinterestBackoff, PinterestErrorHandler, endpoint_of, response_json
from source_pinterest.pagination import BookmarkPaginator
from source_pinterest.streams.context import SyncContext

logger = logging.getLogger("airbyte")


@lru_cache(maxsize=None)
def load_schema(name: str) -> Mapping[str, Any]:
    return ResourceSchemaLoader("source_pinterest").get_schema(name)


def stringify_ids(value: Any) -> Any:
    """Ids become strings at any depth: an 18-digit id stored as a float loses its last digits."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, int) and not isinstance(item, bool) and (key == "id" or key.endswith("_id")):
                value[key] = str(item)
            elif isinstance(item, list) and key.endswith("_ids"):
                value[key] = [str(i) if isinstance(i, int) and not isinstance(i, bool) else i for i in item]
            elif isinstance(item, (dict, list)):
                stringify_ids(item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                stringify_ids(item)
    return value


class PinterestStream(HttpStream):
    """Holds the sync context and builds the CDK HttpClient with Pinterest's error handling and the shared budget."""

    # Pinterest's lists are read whole (there is no updated-since filter), so per-page checkpointing adds nothing.
    state_checkpoint_interval = None
    skip_statuses: frozenset[int] = frozenset()

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.requests_made = 0  # for the end-of-sync summary
        super().__init__(authenticator=ctx.authenticator, api_budget=ctx.api_budget)

    @property
    def url_base(self) -> str:
        return self.ctx.base_url

    def get_error_handler(self) -> PinterestErrorHandler:
        return PinterestErrorHandler(self.name, self.skip_statuses)

    def get_backoff_strategy(self) -> PinterestBackoff:
        return PinterestBackoff(self.name)

    def get_json_schema(self) -> Mapping[str, Any]:
        return load_schema(self.name)

    # HttpStream's own page loop is not used: streams page through `get_pages`, so these two are never called.
    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        return None

    def parse_response(self, response: requests.Response, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        yield from ()

    def get(self, path: str, params: Mapping[str, Any]) -> Optional[Any]:
        """GET one URL through the CDK client; None when the error handler chose to skip the response."""
        self.requests_made += 1
        _, response = self._http_client.send_request(
            http_method="GET",
            url=self._join_url(self.url_base, path),
            request_kwargs={},
            params=dict(params),
        )
        if not response.ok:
            logger.warning(f"Stream {self.name}: skipped {endpoint_of(response)} (HTTP {response.status_code})")
            return None
        return response_json(response)

    def get_pages(self, path: str, params: Mapping[str, Any], paginated: bool = True) -> Iterable[list[Any]]:
        """Every page's items of one listing, at the largest page size, following the bookmark to the end."""
        paginator = BookmarkPaginator(f"Stream {self.name}, GET {path}")
        page_params: Optional[dict[str, Any]] = paginator.first_page_params() if paginated else {}
        while page_params is not None:
            body = self.get(path, {**params, **page_params})
            if body is None:
                return
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ValueError(f"Stream {self.name}: GET {path} answered without an 'items' list")
            yield items
            page_params = paginator.next_page_params(body) if paginated else None
