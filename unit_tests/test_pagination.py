"""Bookmark pagination: page size, when a listing ends, and a repeated bookmark stopping loudly instead of looping."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from airbyte_cdk.models import FailureType
from hypothesis import given, settings
from hypothesis import strategies as st

from source_pinterest.http.pagination import BookmarkPaginator, RepeatedBookmarkError
from unit_tests.conftest import API, make_config, read_streams, records_of
from unit_tests.test_auth import stream_error

LISTING = "Stream campaigns, GET ad_accounts/1/campaigns"


def test_first_page_asks_for_the_largest_page():
    assert BookmarkPaginator(LISTING).first_page_params() == {"page_size": 250}


def test_a_bookmark_is_sent_back_with_the_page_size():
    paginator = BookmarkPaginator(LISTING)

    assert paginator.next_page_params({"items": [{"id": "1"}], "bookmark": "b1"}) == {
        "page_size": 250,
        "bookmark": "b1",
    }
    assert paginator.next_page_params({"items": [{"id": "2"}], "bookmark": "b2"}) == {
        "page_size": 250,
        "bookmark": "b2",
    }


@pytest.mark.parametrize(
    "body",
    [{"items": [], "bookmark": None}, {"items": [{"id": "1"}], "bookmark": ""}, {"items": [{"id": "1"}]}, [], None],
    ids=["null bookmark", "empty bookmark", "no bookmark key", "body is a list", "no body"],
)
def test_listing_ends_when_there_is_no_bookmark(body):
    paginator = BookmarkPaginator(LISTING)
    paginator.next_page_params({"items": [], "bookmark": "b1"})

    assert paginator.next_page_params(body) is None


@pytest.mark.parametrize(
    "bookmarks",
    [["b1", "b1"], ["b1", "b2", "b1"], ["b1", "b2", "b3", "b2"]],
    ids=["same page twice", "back to the first", "cycle of two"],
)
def test_a_repeated_bookmark_raises_naming_the_listing(bookmarks):
    paginator = BookmarkPaginator(LISTING)
    for bookmark in bookmarks[:-1]:
        paginator.next_page_params({"items": [], "bookmark": bookmark})

    with pytest.raises(RepeatedBookmarkError) as raised:
        paginator.next_page_params({"items": [], "bookmark": bookmarks[-1]})

    assert raised.value.message.startswith(f"{LISTING}: ")
    assert "already returned" in raised.value.message
    assert f"after {len(set(bookmarks))} pages" in raised.value.message
    assert raised.value.failure_type == FailureType.system_error


def test_each_listing_has_its_own_memory_of_bookmarks():
    # The same bookmark string in another ad account's listing is not a repeat.
    first, second = BookmarkPaginator("account 1"), BookmarkPaginator("account 2")
    first.next_page_params({"bookmark": "b1"})

    assert second.next_page_params({"bookmark": "b1"}) == {"page_size": 250, "bookmark": "b1"}


class FakeListing:
    """A server that cuts `items` into pages of the given sizes and chains them with opaque bookmarks."""

    def __init__(self, items: list[int], sizes: list[int], bookmarks: list[str], last: dict[str, Any]) -> None:
        self.pages: list[dict[str, Any]] = []
        start = 0
        for index, size in enumerate(sizes):
            page = {"items": items[start : start + size]}
            page.update({"bookmark": bookmarks[index]} if index + 1 < len(sizes) else last)
            self.pages.append(page)
            start += size
        self.by_bookmark = {
            None: 0,
            **{bookmark: index + 1 for index, bookmark in enumerate(bookmarks[: len(sizes) - 1])},
        }
        self.requests = 0

    def get(self, params: dict[str, Any]) -> dict[str, Any]:
        assert params["page_size"] == 250
        self.requests += 1
        return self.pages[self.by_bookmark[params.get("bookmark")]]


@st.composite
def listings(draw) -> tuple[list[int], FakeListing]:
    items = list(range(draw(st.integers(min_value=0, max_value=300))))
    sizes: list[int] = []
    remaining = len(items)
    while remaining > 0 or not sizes:
        size = draw(st.integers(min_value=0 if remaining == 0 else 1, max_value=max(remaining, 0)))
        sizes.append(size)
        remaining -= size
    bookmarks = draw(st.lists(st.text(min_size=1, max_size=12), min_size=len(sizes), max_size=len(sizes), unique=True))
    last = draw(st.sampled_from([{"bookmark": None}, {"bookmark": ""}, {}]))
    return items, FakeListing(items, sizes, bookmarks, last)


@settings(max_examples=200, deadline=None)
@given(listings())
def test_walking_any_listing_yields_every_item_exactly_once_in_order(listing):
    items, server = listing
    paginator = BookmarkPaginator(LISTING)
    seen: list[int] = []
    params: dict[str, Any] | None = paginator.first_page_params()

    while params is not None:
        body = server.get(params)
        seen.extend(body["items"])
        params = paginator.next_page_params(body)

    assert seen == items
    assert server.requests == len(server.pages)


def test_given_server_repeats_a_bookmark_when_read_then_the_stream_fails_after_a_bounded_number_of_requests(api):
    def stuck(request, context):
        bookmark = parse_qs(urlsplit(request.url).query).get("bookmark", [None])[0]
        # b1 -> b2 -> b1 -> ... : a server bug that would page forever.
        next_bookmark = "b2" if bookmark == "b1" else "b1"
        return {"items": [{"id": f"after-{bookmark}"}], "bookmark": next_bookmark}

    api.mocker.get(API + "boards", json=stuck)
    api.pages("pins", [[{"id": "p1"}]])

    output = read_streams(make_config(), ["boards", "pins"], expect_failure=True)

    assert len(api.requests_to("boards")) == 3
    assert [r["id"] for r in records_of(output, "boards")] == ["after-None", "after-b1", "after-b2"]
    assert [r["id"] for r in records_of(output, "pins")] == ["p1"]
    error = stream_error(output, "boards")
    assert "Stream boards, GET boards" in error.message
    assert "already returned" in error.message
