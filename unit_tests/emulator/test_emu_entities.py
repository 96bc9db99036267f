"""List endpoints: status filters, parent filters, errors, and truth == what paging returns."""

import pytest

from pinterest_emulator.truth import STREAMS


def _account(emu):
    return emu.state.ds.accounts[0].id


def test_entity_statuses_default_is_active_and_paused(api, emu):
    items = api.all_items(f"/ad_accounts/{_account(emu)}/campaigns")
    assert {c["status"] for c in items} <= {"ACTIVE", "PAUSED"}
    everything = [c for c in emu.state.ds.kids("campaign", _account(emu))]
    assert len(items) == sum(c.status in ("ACTIVE", "PAUSED") for c in everything)


@pytest.mark.parametrize("encoding", ["repeated", "comma"])
def test_entity_statuses_accepts_both_encodings(api, emu, encoding):
    statuses = ["ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT"]
    params = {"entity_statuses": statuses if encoding == "repeated" else ",".join(statuses)}
    items = api.all_items(f"/ad_accounts/{_account(emu)}/campaigns", params)
    assert len(items) == len(emu.state.ds.kids("campaign", _account(emu)))


def test_bad_status_and_too_many_ids_are_400(api, emu):
    path = f"/ad_accounts/{_account(emu)}/campaigns"
    assert api.get(path, {"entity_statuses": "NOPE"}).status_code == 400
    assert api.get(path, {"campaign_ids": ",".join(str(10**17 + i) for i in range(251))}).status_code == 400


def test_order_descending_reverses(api, emu):
    path = f"/ad_accounts/{_account(emu)}/ads"
    asc = [a["id"] for a in api.all_items(path)]
    desc = [a["id"] for a in api.all_items(path, {"order": "DESCENDING"})]
    assert desc == asc[::-1] and asc == sorted(asc, key=int)


def test_unknown_ad_account_is_404(api):
    r = api.get("/ad_accounts/123/campaigns")
    assert r.status_code == 404 and set(r.json()) == {"code", "message"}


def test_keywords_without_filter_are_account_level_only(api, emu):
    items = api.all_items(f"/ad_accounts/{_account(emu)}/keywords")
    assert items and {k["parent_type"] for k in items} == {"advertiser"}
    group = emu.state.ds.all_of("ad_group")[0]
    under = api.all_items(f"/ad_accounts/{group.account}/keywords", {"ad_group_id": group.id})
    assert under and {k["parent_id"] for k in under} == {group.id}


def test_product_groups_409_for_account_without_catalog(api, emu):
    r = api.get("/catalogs/product_groups", {"ad_account_id": emu.state.ds.no_catalog_account})
    assert r.status_code == 409 and r.json()["code"] == 4182


def _sync(api, emu, stream):
    """What a connector's full refresh does, written naively against the HTTP API."""
    all_statuses = {"entity_statuses": "ACTIVE,PAUSED"}
    accounts = [a["id"] for a in api.all_items("/ad_accounts")]
    boards = [b["id"] for b in api.all_items("/boards")]
    if stream == "user_account":
        return [api.get("/user_account").json()]
    if stream in ("boards", "pins", "ad_accounts", "catalogs"):
        return api.all_items(f"/{stream}")
    if stream in ("catalogs_feeds", "catalogs_product_groups"):
        return api.all_items("/catalogs/" + stream.removeprefix("catalogs_"))
    if stream == "board_sections":
        return [{**s, "board_id": b} for b in boards for s in api.all_items(f"/boards/{b}/sections")]
    if stream == "board_pins":
        return [p for b in boards for p in api.all_items(f"/boards/{b}/pins")]
    if stream == "board_section_pins":
        return [
            p
            for b in boards
            for s in api.all_items(f"/boards/{b}/sections")
            for p in api.all_items(f"/boards/{b}/sections/{s['id']}/pins")
        ]
    if stream == "conversion_tags":
        return [t for a in accounts for t in api.get(f"/ad_accounts/{a}/conversion_tags").json()["items"]]
    if stream == "keywords":
        out = []
        for a in accounts:
            out += api.all_items(f"/ad_accounts/{a}/keywords")
            for g in api.all_items(f"/ad_accounts/{a}/ad_groups", all_statuses):
                out += api.all_items(f"/ad_accounts/{a}/keywords", {"ad_group_id": g["id"]})
        return out
    return [x for a in accounts for x in api.all_items(f"/ad_accounts/{a}/{stream}", all_statuses)]


@pytest.mark.parametrize("stream", STREAMS)
def test_truth_equals_paging_the_api(api, emu, stream):
    truth = api.admin("truth", {"stream": stream})["records"]
    assert truth, stream
    assert sorted(_sync(api, emu, stream), key=_key) == sorted(truth, key=_key)


def _key(record: dict) -> tuple:
    return record.get("id"), record.get("board_id")


def test_truth_statuses_param(emu):
    everything = emu.truth("campaigns", statuses="ACTIVE,PAUSED,ARCHIVED,DRAFT")["records"]
    assert len(everything) == len(emu.state.ds.all_of("campaign"))
