"""Per-stream reads through the real entrypoint against a mocked Pinterest API."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import Level, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import discover

from source_pinterest import SourcePinterest
from source_pinterest.streams.specs import SPECS_BY_NAME
from unit_tests.conftest import API, final_state, make_config, query, read_streams, records_of


def account(account_id: str, updated: int = 1700000000) -> dict:
    return {"id": account_id, "name": f"Account {account_id}", "updated_time": updated, "created_time": 1600000000}


def campaign(campaign_id, account_id: str, updated: int, status: str = "ACTIVE") -> dict:
    return {
        "id": campaign_id,
        "ad_account_id": account_id,
        "name": f"c{campaign_id}",
        "status": status,
        "updated_time": updated,
        "created_time": 1600000000,
    }


def test_given_two_pages_when_read_campaigns_then_every_record_with_string_ids_and_page_size_250(api):
    api.pages("ad_accounts", [[account("1")]])
    api.pages("ad_accounts/1/campaigns", [[campaign(11, "1", 100)], [campaign(12, "1", 200)]])

    output = read_streams(make_config(), ["campaigns"])

    assert [r["id"] for r in records_of(output, "campaigns")] == ["11", "12"]
    campaign_requests = api.requests_to("ad_accounts/1/campaigns")
    assert [query(r).get("bookmark") for r in campaign_requests] == [None, ["b1"]]
    assert all(query(r)["page_size"] == ["250"] for r in campaign_requests)
    assert all(query(r)["entity_statuses"] == ["ACTIVE", "PAUSED"] for r in campaign_requests)
    assert all(r.headers["Authorization"] == "Bearer test-access-token-acc3ss" for r in campaign_requests)


def test_given_status_filter_when_read_ads_then_each_status_is_a_repeated_key(api):
    api.pages("ad_accounts", [[account("1")]])
    api.pages("ad_accounts/1/ads", [[]])

    read_streams(make_config(status=["ACTIVE", "ARCHIVED", "DRAFT"]), ["ads"])

    (request,) = api.requests_to("ad_accounts/1/ads")
    assert query(request)["entity_statuses"] == ["ACTIVE", "ARCHIVED", "DRAFT"]


def test_given_state_per_account_when_incremental_then_only_newer_records_and_state_per_account(api):
    api.pages("ad_accounts", [[account("1"), account("2")]])
    api.pages("ad_accounts/1/campaigns", [[campaign(11, "1", 100), campaign(12, "1", 300)]])
    # Account 2 is new to the state: all its campaigns come, however old.
    api.pages("ad_accounts/2/campaigns", [[campaign(21, "2", 50)]])
    state = {"campaigns": {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"updated_time": 200}}]}}

    output = read_streams(make_config(), ["campaigns"], SyncMode.incremental, state)

    assert sorted(r["id"] for r in records_of(output, "campaigns")) == ["12", "21"]
    assert final_state(output, "campaigns") == {
        "states": [
            {"partition": {"ad_account_id": "1"}, "cursor": {"updated_time": 300}},
            {"partition": {"ad_account_id": "2"}, "cursor": {"updated_time": 50}},
        ]
    }


def test_given_ad_account_forbidden_when_read_campaigns_then_it_is_skipped_and_others_sync(api):
    api.pages("ad_accounts", [[account("1"), account("2")]])
    api.json("ad_accounts/1/campaigns", {"code": 29, "message": "You are not permitted to access that resource."}, 403)
    api.pages("ad_accounts/2/campaigns", [[campaign(21, "2", 50)]])

    output = read_streams(make_config(), ["campaigns"])

    assert [r["id"] for r in records_of(output, "campaigns")] == ["21"]
    assert any("not permitted" in log.log.message for log in output.logs)


# Every entity stream: the requests it makes for one parent and the records it emits.
PARENTLESS = [
    # stream, path, extra query params expected
    ("boards", "boards", {}),
    ("pins", "pins", {"pin_metrics": ["true"], "include_protected_pins": ["true"]}),
    ("ad_accounts", "ad_accounts", {"include_shared_accounts": ["true"]}),
    ("catalogs", "catalogs", {}),
    ("catalogs_feeds", "catalogs/feeds", {}),
    ("catalogs_product_groups", "catalogs/product_groups", {}),
]


@pytest.mark.parametrize("stream,path,expected_params", PARENTLESS, ids=[p[0] for p in PARENTLESS])
def test_given_parentless_stream_when_read_then_pages_at_250_and_emits_items(api, stream, path, expected_params):
    api.pages(path, [[{"id": 1, "name": "a"}], [{"id": "2", "name": "b"}]])
    if stream.startswith("catalogs"):  # the user owns every ad account: no Business Access listing
        api.json("user_account", {"id": "u1"})
        api.pages("ad_accounts", [[{**account("1"), **owner_of("u1", "OWNER")}]])

    output = read_streams(make_config(), [stream])

    assert not output.errors
    assert [r["id"] for r in records_of(output, stream)] == ["1", "2"]
    first = api.requests_to(path)[0]
    assert query(first) == {"page_size": ["250"], **expected_params}


AD_ACCOUNT_CHILDREN = [
    ("campaigns", {"entity_statuses": ["ACTIVE", "PAUSED"]}),
    ("ad_groups", {"entity_statuses": ["ACTIVE", "PAUSED"]}),
    ("ads", {"entity_statuses": ["ACTIVE", "PAUSED"]}),
    ("customer_lists", {}),
    ("lead_forms", {}),
]


@pytest.mark.parametrize("stream,expected_params", AD_ACCOUNT_CHILDREN, ids=[c[0] for c in AD_ACCOUNT_CHILDREN])
def test_given_ad_account_child_when_read_then_one_listing_per_account(api, stream, expected_params):
    api.pages("ad_accounts", [[account("1"), account("2")]])
    api.pages(f"ad_accounts/1/{stream}", [[{"id": 10}]])
    api.pages(f"ad_accounts/2/{stream}", [[{"id": 20}, {"id": 21}]])

    output = read_streams(make_config(), [stream])

    assert sorted(r["id"] for r in records_of(output, stream)) == ["10", "20", "21"]
    assert query(api.requests_to(f"ad_accounts/1/{stream}")[0]) == {"page_size": ["250"], **expected_params}
    assert len(api.requests_to("ad_accounts")) == 1


def test_conversion_tags_are_read_without_paging_params(api):
    api.pages("ad_accounts", [[account("1")]])
    api.json("ad_accounts/1/conversion_tags", {"items": [{"id": 5, "name": "tag"}]})

    output = read_streams(make_config(), ["conversion_tags"])

    assert records_of(output, "conversion_tags") == [{"id": "5", "name": "tag"}]
    assert query(api.requests_to("ad_accounts/1/conversion_tags")[0]) == {}


EVERY_STATUS = ["ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT"]


def test_keywords_are_listed_per_account_campaign_and_ad_group_of_every_status_with_the_account_id_added(api):
    api.pages("ad_accounts", [[account("1")]])
    api.pages("ad_accounts/1/campaigns", [[campaign("c1", "1", 1, "ARCHIVED"), campaign("c2", "1", 1)]])
    api.pages("ad_accounts/1/ad_groups", [[{"id": "g1", "ad_account_id": "1"}, {"id": "g2", "ad_account_id": "1"}]])

    def keywords(request, context):
        asked = query(request)
        parent = (asked.get("campaign_id") or asked.get("ad_group_id") or ["1"])[0]
        items = [{"id": f"k-{parent}", "value": "shoes", "parent_id": parent}]
        if parent == "c1":  # were the filter to answer the campaign's ad groups' keywords too, each would come once
            items.append({"id": "k-g1", "value": "shoes", "parent_id": "g1"})
        return {"items": items, "bookmark": None}

    api.mocker.get(API + "ad_accounts/1/keywords", json=keywords)

    output = read_streams(make_config(), ["keywords"])

    ids = [r["id"] for r in records_of(output, "keywords")]
    assert sorted(ids) == ["k-1", "k-c1", "k-c2", "k-g1", "k-g2"]
    assert {r["ad_account_id"] for r in records_of(output, "keywords")} == {"1"}
    filters = [
        {k: v for k, v in query(r).items() if k in ("campaign_id", "ad_group_id")}
        for r in api.requests_to("ad_accounts/1/keywords")
    ]
    assert sorted(map(str, filters)) == sorted(
        map(
            str,
            [{}, {"campaign_id": ["c1"]}, {"campaign_id": ["c2"]}, {"ad_group_id": ["g1"]}, {"ad_group_id": ["g2"]}],
        )
    )
    # Whatever the user's status filter, the keywords of archived campaigns and ad groups exist: both are listed
    # in every status.
    assert query(api.requests_to("ad_accounts/1/campaigns")[0])["entity_statuses"] == EVERY_STATUS
    assert query(api.requests_to("ad_accounts/1/ad_groups")[0])["entity_statuses"] == EVERY_STATUS


def test_given_the_metrics_and_keywords_streams_then_the_listing_of_every_status_is_shared(api):
    api.pages("ad_accounts", [[account("1")]])
    api.pages("ad_accounts/1/campaigns", [[campaign("c1", "1", 1, "ARCHIVED")]])
    api.pages("ad_accounts/1/ad_groups", [[]])
    api.pages("ad_accounts/1/keywords", [[]])
    api.json("ad_accounts/1/campaigns/analytics", [])

    read_streams(make_config(), ["keywords", "campaign_analytics"])

    assert len(api.requests_to("ad_accounts/1/campaigns")) == 1


def audience(audience_id: str, updated: int) -> dict:
    return {"id": audience_id, "ad_account_id": "9", "name": "a", "updated_timestamp": updated}


def audiences_api(api) -> None:
    api.pages("ad_accounts", [[account("1")]])

    def audiences(request, context):
        kind = query(request).get("ownership_type", ["OWNED"])[0]
        items = [audience("o1", 100), audience("o2", 300)] if kind == "OWNED" else [audience("r1", 50)]
        return {"items": items, "bookmark": None}

    api.mocker.get(API + "ad_accounts/1/audiences", json=audiences)


def test_audiences_are_the_owned_and_the_received_each_marked(api):
    audiences_api(api)

    output = read_streams(make_config(), ["audiences"])

    marked = {
        r["id"]: (r["ownership_type"], r.get("shared_with_ad_account_id")) for r in records_of(output, "audiences")
    }
    assert marked == {"o1": ("OWNED", None), "o2": ("OWNED", None), "r1": ("RECEIVED", "1")}
    assert {r["ad_account_id"] for r in records_of(output, "audiences")} == {"9"}  # as the API answered
    assert sorted(query(r)["ownership_type"][0] for r in api.requests_to("ad_accounts/1/audiences")) == [
        "OWNED",
        "RECEIVED",
    ]


def test_given_audiences_state_when_incremental_then_owned_since_the_cursor_and_every_received_one(api):
    audiences_api(api)
    state = {"audiences": {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"updated_timestamp": 200}}]}}

    output = read_streams(make_config(), ["audiences"], SyncMode.incremental, state)

    # r1 is older than the cursor, but a received audience can be shared long after its owner last changed it.
    assert sorted(r["id"] for r in records_of(output, "audiences")) == ["o2", "r1"]
    assert final_state(output, "audiences") == {
        "states": [{"partition": {"ad_account_id": "1"}, "cursor": {"updated_timestamp": 300}}]
    }


def owner_of(owner_id: str, *permissions: str) -> dict:
    return {"owner": {"id": owner_id, "username": f"user{owner_id}"}, "permissions": list(permissions)}


def catalogs_api(api, via: dict) -> None:
    """The user u1's own catalog c1, and per ad account id the catalogs its owner shares."""
    api.json("user_account", {"id": "u1", "username": "user1"})
    api.pages(
        "ad_accounts",
        [
            [
                {**account("1"), **owner_of("u1", "OWNER")},
                {**account("2"), **owner_of("p1", "ANALYST")},  # no role that reads catalogs
                {**account("3"), **owner_of("p1", "ADMIN")},
                {**account("4"), **owner_of("p1", "CATALOGS_MANAGER")},  # the same owner: already listed through 3
                {**account("5"), **owner_of("p2", "ADMIN")},
            ]
        ],
    )

    def catalogs(request, context):
        account_id = query(request).get("ad_account_id", [None])[0]
        if account_id in via and via[account_id] is None:
            context.status_code = 403
            return {"code": 29, "message": "You are not permitted to access that resource."}
        items = via.get(account_id, [{"id": "c1", "updated_at": "2024-01-01T00:00:00"}])
        return {"items": items, "bookmark": None}

    api.mocker.get(API + "catalogs", json=catalogs)


def test_catalogs_shared_through_business_access_once_per_other_owner_and_each_id_once(api):
    shared = [{"id": "c1", "updated_at": "2024-01-01T00:00:00"}, {"id": "c3", "updated_at": "2024-01-01T00:00:00"}]
    catalogs_api(api, {"3": shared, "5": [{"id": "c5", "updated_at": "2024-01-01T00:00:00"}]})

    output = read_streams(make_config(), ["catalogs"])

    records = {r["id"]: r.get("business_access_ad_account_id") for r in records_of(output, "catalogs")}
    assert records == {"c1": None, "c3": "3", "c5": "5"}
    assert [query(r).get("ad_account_id") for r in api.requests_to("catalogs")] == [None, ["3"], ["5"]]
    assert not output.errors


def test_given_business_access_refused_for_one_owner_then_the_rest_sync(api):
    catalogs_api(api, {"3": None, "5": [{"id": "c5", "updated_at": "2024-01-01T00:00:00"}]})

    output = read_streams(make_config(), ["catalogs"])

    assert sorted(r["id"] for r in records_of(output, "catalogs")) == ["c1", "c5"]
    assert not output.errors
    assert any("skipped" in log.log.message and "403" in log.log.message for log in output.logs)


def test_given_catalogs_state_when_incremental_then_own_since_the_cursor_and_every_shared_one(api):
    catalogs_api(api, {"3": [{"id": "c3", "updated_at": "2023-01-01T00:00:00"}], "5": []})
    state = {"catalogs": {"updated_at": "2024-06-01T00:00:00"}}

    output = read_streams(make_config(), ["catalogs"], SyncMode.incremental, state)

    assert [r["id"] for r in records_of(output, "catalogs")] == ["c3"]
    assert final_state(output, "catalogs") == {"updated_at": "2024-06-01T00:00:00"}


def test_board_children_carry_the_board_and_section_ids(api):
    api.pages("boards", [[{"id": "b1", "pin_count": 2}]])
    api.pages("boards/b1/sections", [[{"id": "s1", "name": "Section"}]])
    api.pages(
        "boards/b1/pins",
        [[{"id": "p1", "created_at": "2024-01-01T00:00:00"}, {"id": "p2", "created_at": "2024-01-02T00:00:00"}]],
    )
    api.pages("boards/b1/sections/s1/pins", [[{"id": "p2", "created_at": "2024-01-02T00:00:00"}]])

    output = read_streams(make_config(), ["boards", "board_sections", "board_pins", "board_section_pins"])

    assert records_of(output, "board_sections") == [{"id": "s1", "name": "Section", "board_id": "b1"}]
    assert [r["id"] for r in records_of(output, "board_pins")] == ["p1", "p2"]
    assert [r["id"] for r in records_of(output, "board_section_pins")] == ["p2"]
    # Only the board's pin listing takes pin_metrics; the section's endpoint has no such parameter.
    assert query(api.requests_to("boards/b1/pins")[0])["pin_metrics"] == ["true"]
    assert "pin_metrics" not in query(api.requests_to("boards/b1/sections/s1/pins")[0])
    # Boards and sections are listed once although three streams need them.
    assert len(api.requests_to("boards")) == 1
    assert len(api.requests_to("boards/b1/sections")) == 1


def test_given_board_listing_shorter_than_pin_count_then_section_pins_fill_the_gap_and_a_warning_names_the_rest(api):
    api.pages("boards", [[{"id": "b1", "pin_count": 4}]])
    api.pages("boards/b1/pins", [[{"id": "p1"}, {"id": "p2"}]])  # the listing stops early
    api.pages("boards/b1/sections", [[{"id": "s1", "name": "S"}]])
    api.pages("boards/b1/sections/s1/pins", [[{"id": "p2"}, {"id": "p3"}]])

    output = read_streams(make_config(), ["board_pins"])

    assert [r["id"] for r in records_of(output, "board_pins")] == ["p1", "p2", "p3"]
    assert any("reports 4 pins but only 3" in log.log.message for log in output.logs)


def test_given_no_catalog_when_read_product_groups_then_no_records_and_success(api):
    api.json("user_account", {"id": "u1"})
    api.pages("ad_accounts", [[{**account("1"), **owner_of("u1", "OWNER")}]])
    api.json(
        "catalogs/product_groups",
        {"code": 4182, "message": "Can't access this feature without an existing catalog."},
        409,
    )

    output = read_streams(make_config(), ["catalogs_product_groups"])

    assert records_of(output, "catalogs_product_groups") == []
    assert not output.errors


def test_user_account_is_one_record(api):
    api.json("user_account", {"id": 77, "username": "shop", "account_type": "BUSINESS"})

    output = read_streams(make_config(), ["user_account"])

    assert records_of(output, "user_account") == [{"id": "77", "username": "shop", "account_type": "BUSINESS"}]


def test_configured_ad_accounts_restrict_every_child_stream(api):
    api.pages("ad_accounts", [[account("1"), account("2"), account("3")]])
    api.pages("ad_accounts/2/campaigns", [[campaign(21, "2", 1)]])

    output = read_streams(make_config(account_id="2", ad_account_ids=["9"]), ["ad_accounts", "campaigns"])

    assert [r["id"] for r in records_of(output, "ad_accounts")] == ["2"]
    assert [r["id"] for r in records_of(output, "campaigns")] == ["21"]
    assert api.requests_to("ad_accounts/1/campaigns") == []
    assert any(
        "9 are not visible" in log.log.message or "(s) 9 are not visible" in log.log.message for log in output.logs
    )


@pytest.mark.parametrize(
    "no_proxy, expected",
    [("", {"https": "http://proxy.internal:3128"}), ("api.pinterest.com", {})],
)
def test_given_proxy_variables_when_a_session_is_settled_then_it_keeps_what_requests_would_use(
    monkeypatch, no_proxy, expected
):
    import requests

    from source_pinterest.http.client import settle_environment

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    url = "https://api.pinterest.com/v5/boards"
    wanted = requests.Session().merge_environment_settings(url, {}, None, None, None)["proxies"]
    session = requests.Session()

    settle_environment(session, "https://api.pinterest.com/v5/")

    assert session.trust_env is False
    settled = session.merge_environment_settings(url, {}, None, None, None)["proxies"]
    assert (
        {k: v for k, v in settled.items() if k == "https"}
        == expected
        == {k: v for k, v in wanted.items() if k == "https"}
    )


# -- resumable full refresh: an attempt started again skips the parents done ------------------------------------

DONE = {"__ab_full_refresh_sync_complete": True}


def keywords_api(api) -> None:
    api.pages("ad_accounts", [[account("1")]])
    api.pages("ad_accounts/1/campaigns", [[]])
    api.pages("ad_accounts/1/ad_groups", [[{"id": f"g{n}", "ad_account_id": "1"} for n in (1, 2, 3)]])

    def keywords(request, context):
        group = query(request).get("ad_group_id", ["account"])[0]
        return {"items": [{"id": f"k-{group}", "value": "shoes"}], "bookmark": None}

    api.mocker.get(API + "ad_accounts/1/keywords", json=keywords)


def test_given_a_full_refresh_when_each_parent_is_done_then_state_names_it_and_the_last_says_complete(api):
    keywords_api(api)

    output = read_streams(make_config(), ["keywords"])

    states = [m.state.stream.stream_state for m in output.state_messages]
    # The pass begun (before any request), the account itself and its three ad groups, then the stream's end.
    assert len(states) == 6
    assert final_state(output, "keywords") == DONE


def test_given_a_pass_under_way_when_read_again_then_only_the_parents_not_done_are_requested(api):
    keywords_api(api)
    done = [
        {"partition": {"ad_account_id": "1"}, "cursor": DONE},
        {"partition": {"ad_account_id": "1", "ad_group_id": "g1"}, "cursor": DONE},
    ]

    output = read_streams(make_config(), ["keywords"], state={"keywords": {"states": done}})

    assert sorted(r["id"] for r in records_of(output, "keywords")) == ["k-g2", "k-g3"]
    assert sorted(query(r).get("ad_group_id", [""])[0] for r in api.requests_to("ad_accounts/1/keywords")) == [
        "g2",
        "g3",
    ]
    assert final_state(output, "keywords") == DONE


@pytest.mark.parametrize("saved", [DONE, {"__ab_no_cursor_state_message": True}, {}])
def test_given_a_completed_pass_or_an_older_state_when_read_then_every_parent_is_read(api, saved):
    keywords_api(api)

    output = read_streams(make_config(), ["keywords"], state={"keywords": saved})

    assert sorted(r["id"] for r in records_of(output, "keywords")) == ["k-account", "k-g1", "k-g2", "k-g3"]


def test_given_a_parentless_full_refresh_when_done_then_complete_and_read_again_next_time(api):
    api.json("user_account", {"username": "me", "id": "u1"})

    first = read_streams(make_config(), ["user_account"])
    second = read_streams(make_config(), ["user_account"], state={"user_account": final_state(first, "user_account")})

    assert final_state(first, "user_account") == DONE
    assert len(records_of(second, "user_account")) == 1


def test_given_a_full_refresh_pass_under_way_then_a_child_still_gets_every_parent(api):
    api.pages("boards", [[{"id": "b1"}, {"id": "b2"}]])
    api.pages("boards/b1/sections", [[{"id": "s1", "name": "one"}]])
    api.pages("boards/b2/sections", [[{"id": "s2", "name": "two"}]])
    api.pages("boards/b1/sections/s1/pins", [[{"id": "p1", "created_at": "2024-01-01T00:00:00"}]])
    api.pages("boards/b2/sections/s2/pins", [[{"id": "p2", "created_at": "2024-01-01T00:00:00"}]])
    state = {"board_sections": {"states": [{"partition": {"board_id": "b1"}, "cursor": DONE}]}}

    output = read_streams(make_config(), ["board_sections", "board_section_pins"], state=state)

    assert [r["id"] for r in records_of(output, "board_sections")] == ["s2"]
    assert sorted(r["id"] for r in records_of(output, "board_section_pins")) == ["p1", "p2"]


# -- boards and pins: full refresh only, the OpenAPI gives them no update time ---------------------------------

# Each stream that was incremental on created_at, and the state such a sync saved: per board, per section, flat.
OLD_CREATED_AT_STATES = {
    "boards": {"created_at": "2024-02-01T00:00:00"},
    "pins": {"created_at": "2024-02-01T00:00:00"},
    "board_pins": {"states": [{"partition": {"board_id": "b1"}, "cursor": {"created_at": "2024-02-01T00:00:00"}}]},
    "board_section_pins": {
        "states": [
            {"partition": {"board_id": "b1", "section_id": "s1"}, "cursor": {"created_at": "2024-02-01T00:00:00"}}
        ]
    },
}
# Airbyte's manifest connector's per-partition shape, with a created_at cursor.
AIRBYTE_CREATED_AT_STATE = {
    "states": [{"partition": {"id": "b1", "parent_slice": {}}, "cursor": {"created_at": "2024-02-01T00:00:00"}}],
    "state": {"created_at": "2024-02-01T00:00:00"},
    "use_global_cursor": False,
}
OLD = {"created_at": "2024-01-01T00:00:00"}  # before every saved cursor above
NEW = {"created_at": "2024-03-01T00:00:00"}


def organic_api(api) -> None:
    """One board with one section; every listing holds a pin created before the saved cursors and one after."""
    api.pages("boards", [[{"id": "b1", "pin_count": 2, **OLD}, {"id": "b2", "pin_count": 0, **NEW}]])
    api.pages("boards/b1/sections", [[{"id": "s1", "name": "one"}]])
    api.pages("boards/b2/sections", [[]])
    pins = [[{"id": "p1", **OLD}, {"id": "p2", **NEW}]]
    for path in ("pins", "boards/b1/pins", "boards/b1/sections/s1/pins"):
        api.pages(path, pins)
    api.pages("boards/b2/pins", [[]])


def lines_with(output, text: str) -> list:
    return [m.log for m in output.logs if text in m.log.message]


@pytest.mark.parametrize("stream", ["boards", "pins", "board_pins", "board_section_pins"])
def test_given_boards_and_pins_when_discovered_then_full_refresh_only_for_want_of_an_update_time(stream):
    (offered,) = [s for s in discover(SourcePinterest(), make_config()).catalog.catalog.streams if s.name == stream]

    assert offered.supported_sync_modes == [SyncMode.full_refresh]
    assert not offered.default_cursor_field and not offered.source_defined_cursor
    assert offered.is_resumable
    # The reason, from the OpenAPI: the object's schema, and the creation time that an edit does not move.
    reason = SPECS_BY_NAME[stream].full_refresh_reason or ""
    assert ("Pin has created_at only" if "pins" in stream else "Board has created_at") in reason


@pytest.mark.parametrize("stream", sorted(OLD_CREATED_AT_STATES))
def test_given_an_old_created_at_state_when_read_then_it_is_ignored_with_one_line_and_every_record_comes(api, stream):
    organic_api(api)

    output = read_streams(make_config(), [stream], state={stream: OLD_CREATED_AT_STATES[stream]})

    assert not output.errors
    expected = ["b1", "b2"] if stream == "boards" else ["p1", "p2"]
    assert sorted(r["id"] for r in records_of(output, stream)) == expected
    (line,) = lines_with(output, "full refresh only")
    assert line.level == Level.INFO
    assert line.message.startswith(f"Stream {stream} is full refresh only") and "created_at" in line.message
    assert final_state(output, stream) == DONE


def test_given_airbyte_connectors_created_at_state_for_board_pins_then_it_is_ignored_with_one_line(api):
    organic_api(api)

    output = read_streams(make_config(), ["board_pins"], state={"board_pins": AIRBYTE_CREATED_AT_STATE})

    assert sorted(r["id"] for r in records_of(output, "board_pins")) == ["p1", "p2"]
    assert len(lines_with(output, "Stream board_pins is full refresh only")) == 1


def test_given_full_refresh_progress_when_read_then_no_line_about_an_old_state(api):
    organic_api(api)
    state = {"board_pins": {"states": [{"partition": {"board_id": "b2"}, "cursor": DONE}]}, "boards": DONE}

    output = read_streams(make_config(), ["boards", "board_pins"], state=state)

    assert lines_with(output, "full refresh only") == []
    assert sorted(r["id"] for r in records_of(output, "board_pins")) == ["p1", "p2"]


@pytest.mark.parametrize("stream", ["boards", "pins", "board_pins", "board_section_pins", "keywords"])
def test_given_a_catalog_asking_incremental_of_a_full_refresh_stream_then_it_is_read_whole_with_one_line(api, stream):
    organic_api(api)
    keywords_api(api)
    state = {stream: OLD_CREATED_AT_STATES[stream]} if stream in OLD_CREATED_AT_STATES else None

    output = read_streams(make_config(), [stream], SyncMode.incremental, state)

    assert not output.errors
    assert len(records_of(output, stream)) == (4 if stream == "keywords" else 2)
    (line,) = lines_with(output, "the catalog asks for an incremental sync")
    assert line.level == Level.WARN and line.message.startswith(f"Stream {stream}:")
    assert final_state(output, stream) == DONE


def test_given_a_full_refresh_of_board_pins_killed_after_a_board_then_the_next_attempt_reads_the_other_boards(api):
    api.pages("boards", [[{"id": f"b{n}", "pin_count": 1} for n in (1, 2, 3)]])
    for n in (1, 2, 3):
        api.pages(f"boards/b{n}/pins", [[{"id": f"p{n}", **OLD}]])
    first = read_streams(make_config(), ["board_pins"])
    # Where a kill after the first finished board leaves the attempt: the first state message of the pass.
    killed_at = next(
        m.state.stream.stream_state.__dict__ for m in first.state_messages if m.state.stream.stream_state.states
    )
    (done,) = [entry["partition"]["board_id"] for entry in killed_at["states"]]
    api.mocker.reset_mock()

    resumed = read_streams(make_config(), ["board_pins"], state={"board_pins": killed_at})

    rest = sorted({"b1", "b2", "b3"} - {done})
    assert sorted(r["id"] for r in records_of(resumed, "board_pins")) == [f"p{b[1:]}" for b in rest]
    assert api.requests_to(f"boards/{done}/pins") == []
    assert final_state(resumed, "board_pins") == DONE
