"""Kept parent listings hold only what their readers use, except while their own stream still has to replay them."""

from __future__ import annotations

from source_pinterest.streams.entity import ID_LISTING_FIELDS, parent_fields
from source_pinterest.sync.context import ParentListings

# Sections are the parents of section pins (board_id + section id); their name is read by no child.
SECTION = {"id": "7", "board_id": "1", "name": "spring"}


def listed(listings: ParentListings, stream: str, record: dict) -> list[dict]:
    keep = listings.keeper(stream)
    listings.store(stream, "p", [keep(record)])
    return listings.all_records(stream, lambda: iter(()))


def test_a_parent_whose_stream_is_not_read_keeps_only_the_fields_of_its_childrens_slices():
    listings = ParentListings(parent_fields())

    assert listed(listings, "board_sections", SECTION) == [{"id": "7", "board_id": "1"}]


def test_a_parent_whose_stream_is_selected_stays_whole_until_that_stream_is_done():
    listings = ParentListings(parent_fields())
    listings.replayed = {"board_sections"}

    assert listed(listings, "board_sections", SECTION) == [SECTION]
    listings.stream_done("board_sections")
    assert listings.all_records("board_sections", lambda: iter(())) == [{"id": "7", "board_id": "1"}]


def test_boards_keep_the_pin_count_board_pins_compares_with():
    listings = ParentListings(parent_fields())

    board = {"id": "5", "name": "recipes", "pin_count": 12, "description": "long text"}
    assert listed(listings, "boards", board) == [{"id": "5", "pin_count": 12}]


def test_the_business_access_look_ups_keep_the_owner_roles_and_user_id_they_read():
    listings = ParentListings(parent_fields())
    account = {"id": "1", "name": "shop", "owner": {"id": "u2"}, "permissions": ["ADMIN"], "currency": "EUR"}

    assert listed(listings, "ad_accounts", account) == [{"id": "1", "owner": {"id": "u2"}, "permissions": ["ADMIN"]}]
    assert listed(listings, "user_account", {"id": "u1", "username": "me"}) == [{"id": "u1"}]


def test_an_id_listing_keeps_what_the_metrics_id_batches_read():
    listings = ParentListings({"ads[every status]": ID_LISTING_FIELDS})
    ad = {"id": "9", "ad_account_id": "1", "created_time": 100, "creative_type": "REGULAR", "name": "n"}

    assert listed(listings, "ads[every status]", ad) == [{"id": "9", "ad_account_id": "1", "created_time": 100}]


def test_a_listing_nobody_declared_is_kept_whole():
    listings = ParentListings(parent_fields())

    assert listed(listings, "something_else", SECTION) == [SECTION]
