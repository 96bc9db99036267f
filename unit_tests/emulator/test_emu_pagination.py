"""Bookmark pagination and page_size validation."""

import pytest


def test_default_page_size_is_25_and_bookmark_walk_returns_every_item_once(api, emu):
    first = api.get("/pins").json()
    assert len(first["items"]) == 25 and first["bookmark"]
    # As the connector and the truth ask: protected pins come only with include_protected_pins.
    items = api.all_items("/pins", {"page_size": 250, "include_protected_pins": "true"})
    ids = [p["id"] for p in items]
    assert len(ids) == len(set(ids)) == len(emu.truth("pins")["records"])


@pytest.mark.parametrize("size", ["0", "251", "abc"])
def test_bad_page_size_is_400_naming_the_param(api, size):
    r = api.get("/boards", {"page_size": size})
    assert r.status_code == 400 and r.json()["code"] == 1 and "page_size" in r.json()["message"]


def test_invalid_bookmark_is_400(api):
    assert api.get("/pins", {"bookmark": "garbage"}).status_code == 400


def test_bookmark_from_another_query_is_400(api, emu):
    account = emu.state.ds.accounts[0].id
    bookmark = api.get("/pins", {"page_size": 1}).json()["bookmark"]
    assert api.get(f"/ad_accounts/{account}/campaigns", {"bookmark": bookmark}).status_code == 400


def test_conversion_tags_are_not_paginated(api, emu):
    account = emu.state.ds.accounts[0].id
    assert set(api.get(f"/ad_accounts/{account}/conversion_tags").json()) == {"items"}


def test_max_page_size_seen_is_tracked(fresh):
    emu, api = fresh()
    api.get("/boards", {"page_size": 200})
    api.get("/boards", {"page_size": 10})
    assert emu.stats()["max_page_size_seen"] == 200


def test_board_pins_cap_stops_board_listing_but_sections_stay_reachable(fresh):
    emu, api = fresh(size="medium", board_pins_cap=100)
    big = emu.state.ds.boards[0]
    assert len(api.all_items(f"/boards/{big.id}/pins", {"page_size": 250})) == 100
    sections = api.all_items(f"/boards/{big.id}/sections")
    in_sections = sum(
        len(api.all_items(f"/boards/{big.id}/sections/{s['id']}/pins", {"page_size": 250})) for s in sections
    )
    assert in_sections > 100
