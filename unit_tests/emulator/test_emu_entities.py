"""List endpoints: status filters, parent filters, errors, and truth == what paging returns."""

import pytest

from pinterest_emulator.auth import SCOPES
from pinterest_emulator.render import privacy_of
from pinterest_emulator.truth import STREAMS

PUBLIC_SCOPES = ",".join(s for s in SCOPES.split(",") if not s.endswith(":read_secret"))


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


def test_keywords_of_a_campaign_are_its_own_negative_ones(api, emu):
    ds = emu.state.ds
    campaign = next(c for c in ds.all_of("campaign") if ds.kids("keyword", c.id))
    empty = next(c for c in ds.all_of("campaign") if not ds.kids("keyword", c.id) and c.account == campaign.account)
    path = f"/ad_accounts/{campaign.account}/keywords"

    items = api.all_items(path, {"campaign_id": campaign.id})

    assert items and {(k["parent_id"], k["parent_type"]) for k in items} == {(campaign.id, "campaign")}
    assert {k["match_type"] for k in items} <= {"EXACT_NEGATIVE", "PHRASE_NEGATIVE"}
    assert ds.kids("ad_group", empty.id) and api.all_items(path, {"campaign_id": empty.id}) == []


def test_audiences_received_are_another_accounts_and_the_ownership_type_is_checked(api, emu):
    ds = emu.state.ds
    path = f"/ad_accounts/{_account(emu)}/audiences"

    owned = api.all_items(path)
    received = api.all_items(path, {"ownership_type": "RECEIVED"})

    assert owned == api.all_items(path, {"ownership_type": "OWNED"}) and {a["ad_account_id"] for a in owned} == {
        _account(emu)
    }
    assert received and {a["ad_account_id"] for a in received} == {ds.partner_source_account}
    assert not {a["id"] for a in owned} & {a["id"] for a in received}
    assert api.get(path, {"ownership_type": "SHARED"}).status_code == 400


def test_catalogs_through_an_ad_account_are_its_owners(api, emu):
    ds = emu.state.ds
    (partner_account,) = ds.partner_accounts
    own = api.all_items("/catalogs")
    shared = api.all_items("/catalogs", {"ad_account_id": partner_account})
    shared_groups = api.all_items("/catalogs/product_groups", {"ad_account_id": partner_account})

    assert own and shared and not {c["id"] for c in own} & {c["id"] for c in shared}
    assert {g["catalog_id"] for g in shared_groups} == {c["id"] for c in shared}
    assert api.get("/catalogs", {"ad_account_id": "12x"}).status_code == 400
    assert api.get("/catalogs/feeds", {"ad_account_id": "123"}).status_code == 403


def test_lead_forms_are_paginated_per_account_with_the_spec_fields(api, emu):
    path = f"/ad_accounts/{_account(emu)}/lead_forms"
    first = api.get(path, {"page_size": 1}).json()

    items = api.all_items(path)

    assert len(items) == len(emu.state.ds.kids("lead_form", _account(emu))) > 1
    assert first["bookmark"] and first["items"] == items[:1]
    assert {"id", "ad_account_id", "name", "status", "questions", "policy_links", "created_time"} <= set(items[0])
    assert api.get(path, {"page_size": 251}).status_code == 400


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
    if stream == "pins":
        return api.all_items("/pins", {"pin_metrics": "true", "include_protected_pins": "true"})
    if stream in ("boards", "ad_accounts"):
        return api.all_items(f"/{stream}")
    if stream.startswith("catalogs"):
        path = {"catalogs": "/catalogs", "catalogs_feeds": "/catalogs/feeds"}.get(stream, "/catalogs/product_groups")
        unique = {}
        for params in [{}] + [{"ad_account_id": a} for a in accounts]:
            if api.get(path, params).status_code != 409:  # 409: no catalog for this owner
                for item in api.all_items(path, params):
                    unique.setdefault(
                        item["id"], {**item, "business_access_ad_account_id": params.get("ad_account_id")}
                    )
        return list(unique.values())
    if stream == "audiences":
        return [
            {**x, "ownership_type": kind, "shared_with_ad_account_id": a if kind == "RECEIVED" else None}
            for a in accounts
            for kind in ("OWNED", "RECEIVED")
            for x in api.all_items(f"/ad_accounts/{a}/audiences", {"ownership_type": kind})
        ]
    if stream == "board_sections":
        return [{**s, "board_id": b} for b in boards for s in api.all_items(f"/boards/{b}/sections")]
    if stream == "board_pins":
        return [p for b in boards for p in api.all_items(f"/boards/{b}/pins", {"pin_metrics": "true"})]
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
        every_status = {"entity_statuses": "ACTIVE,PAUSED,ARCHIVED,DRAFT,DELETED_DRAFT"}
        out = [{**k, "ad_account_id": a} for a in accounts for k in api.all_items(f"/ad_accounts/{a}/keywords")]
        for a in accounts:
            for parent in ("campaign", "ad_group"):
                for p in api.all_items(f"/ad_accounts/{a}/{parent}s", every_status):
                    found = api.all_items(f"/ad_accounts/{a}/keywords", {f"{parent}_id": p["id"]})
                    out += [{**k, "ad_account_id": a} for k in found]
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


# -- pin metrics, protected pins and secret content ---------------------------------------------------------------


def _privacy_of_pin(emu, pin: dict) -> str:
    ds = emu.state.ds
    return privacy_of(ds, ds.get("board", pin["board_id"]))


@pytest.mark.parametrize("path", ["/pins", "board"])
def test_pin_metrics_only_when_asked_and_the_same_every_time(api, emu, path):
    path = f"/boards/{emu.state.ds.boards[0].id}/pins" if path == "board" else path
    plain = api.get(path).json()["items"]
    asked = api.get(path, {"pin_metrics": "true"}).json()["items"]
    again = api.get(path, {"pin_metrics": "true"}).json()["items"]

    assert plain and all("pin_metrics" not in pin for pin in plain)
    assert asked == again
    assert [{k: v for k, v in pin.items() if k != "pin_metrics"} for pin in asked] == plain
    lifetimes = 0
    for pin in asked:
        metrics = pin["pin_metrics"]
        assert set(metrics["90d"]) == {"pin_click", "impression", "clickthrough"}
        lifetime = metrics["lifetime_metrics"]
        # The spec: image pins created before 2023-03-20 have no lifetime metrics.
        assert (lifetime is None) == (pin["created_at"] < "2023-03-20")
        if lifetime is not None:
            lifetimes += 1
            assert set(lifetime) == {"pin_click", "impression", "clickthrough", "reaction", "comment"}
            assert all(lifetime[name] >= metrics["90d"][name] for name in metrics["90d"])
    assert lifetimes, "no pin with lifetime metrics: the test would prove little"


def test_section_pins_take_no_pin_metrics(api, emu):
    section = next(s for b in emu.state.ds.boards for s in emu.state.ds.kids("section", b.id))
    items = api.get(f"/boards/{section.parent}/sections/{section.id}/pins", {"pin_metrics": "true"}).json()["items"]
    assert items and all("pin_metrics" not in pin for pin in items)


def test_protected_pins_only_with_include_protected_pins(api, emu):
    default = api.all_items("/pins")
    included = api.all_items("/pins", {"include_protected_pins": "true"})

    assert {_privacy_of_pin(emu, p) for p in default} == {"PUBLIC", "SECRET"}
    assert {_privacy_of_pin(emu, p) for p in included} == {"PUBLIC", "SECRET", "PROTECTED"}
    assert len(included) == len(emu.state.ds.pins)


def test_a_token_without_the_secret_scopes_sees_no_secret_board_or_pin(fresh):
    emu, api = fresh(seed=7, scopes=PUBLIC_SCOPES)
    assert api.refresh("emulator-refresh-token").json()["scope"] == PUBLIC_SCOPES
    ds = emu.state.ds
    secret = next(b for b in ds.boards if privacy_of(ds, b) == "SECRET")

    boards = api.all_items("/boards")
    pins = api.all_items("/pins", {"include_protected_pins": "true"})

    assert {b["privacy"] for b in boards} == {"PUBLIC", "PROTECTED"}
    assert {_privacy_of_pin(emu, p) for p in pins} == {"PUBLIC", "PROTECTED"}
    assert api.get(f"/boards/{secret.id}/pins").status_code == 404
    assert api.get(f"/boards/{secret.id}/sections").status_code == 404
    assert [b["id"] for b in boards] == [b["id"] for b in emu.truth("boards")["records"]]
    assert sorted(p["id"] for p in pins) == sorted(p["id"] for p in emu.truth("pins")["records"])


def test_a_token_with_the_secret_scopes_sees_secret_boards(api, emu):
    assert "SECRET" in {b["privacy"] for b in api.all_items("/boards")}
