"""Pinterest's bookmark pagination: send back `bookmark` until it is null or empty, and never loop on a repeat."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.limits import MAX_PAGE_SIZE


class RepeatedBookmarkError(AirbyteTracedException):
    pass


class BookmarkPaginator:
    """One walk through one listing. Create a new paginator for every listing (every parent, every slice)."""

    page_size = MAX_PAGE_SIZE

    def __init__(self, where: str) -> None:
        self._where = where
        self._seen: set[str] = set()

    def first_page_params(self) -> dict[str, Any]:
        return {"page_size": self.page_size}

    def next_page_params(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """Params for the next page, or None when the listing is complete."""
        bookmark = body.get("bookmark") if isinstance(body, Mapping) else None
        if not bookmark:
            return None
        if bookmark in self._seen:
            # A server bug seen in the wild: the same page forever. Stop loudly rather than loop or silently truncate.
            message = (
                f"{self._where}: Pinterest returned a bookmark it had already returned, after {len(self._seen)} pages; "
                f"stopping this listing to avoid an endless loop. Records read so far were emitted; retry the sync later."
            )
            raise RepeatedBookmarkError(
                message=message, internal_message=message, failure_type=FailureType.system_error
            )
        self._seen.add(bookmark)
        return {"page_size": self.page_size, "bookmark": bookmark}
