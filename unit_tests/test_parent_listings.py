"""Kept parent listings hold only what their readers use, except while their own stream still has to replay them."""

from __future__ import annotations

from source_pinterest.streams.entity import ID_LISTING_FIELDS, parent_fields
from source_pinterest.sync.context import ParentListings

AD_GROUP = {"id": "7", "ad_account_id": "1", "name": "spring", "targeting_spec": {"GEO": ["US"]}, "status": "ACTIVE"}


def listed(listings: ParentListings, stream: str, record: dict) -> list[dict]:
    keep = listings.keeper(stream)
    listings.store(stream, "p", [keep(record)])
    return listings.all_records(stream, lambda: iter(()))


def test_a_parent_whose_stream_is_not_read_keeps_only_the_fields_of_its_childrens_slices():
    listings = ParentListings(parent_fields())

    assert listed(listings, "ad_groups", AD_GROUP) == [{"id": "7", "ad_account_id": "1"}]


def test_a_parent_whose_stream_is_selected_stays_whole_until_that_stream_is_done():
    listings = ParentListings(parent_fields())
    listings.replayed = {"ad_groups"}

    assert listed(listings, "ad_groups", AD_GROUP) == [AD_GROUP]
    listings.stream_done("ad_groups")
    assert listings.all_records("ad_groups", lambda: iter(())) == [{"id": "7", "ad_account_id": "1"}]


def test_boards_keep_the_pin_count_board_pins_compares_with():
    listings = ParentListings(parent_fields())

    board = {"id": "5", "name": "recipes", "pin_count": 12, "description": "long text"}
    assert listed(listings, "boards", board) == [{"id": "5", "pin_count": 12}]


def test_an_id_listing_keeps_what_the_metrics_id_batches_read():
    listings = ParentListings({"ads[every status]": ID_LISTING_FIELDS})
    ad = {"id": "9", "ad_account_id": "1", "created_time": 100, "creative_type": "REGULAR", "name": "n"}

    assert listed(listings, "ads[every status]", ad) == [{"id": "9", "ad_account_id": "1", "created_time": 100}]


def test_a_listing_nobody_declared_is_kept_whole():
    listings = ParentListings(parent_fields())

    assert listed(listings, "something_else", AD_GROUP) == [AD_GROUP]
