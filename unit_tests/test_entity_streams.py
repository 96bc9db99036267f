"""Per-stream reads through the real entrypoint against a mocked Pinterest API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from airbyte_cdk.models import SyncMode

from unit_tests.conftest import final_state, make_config, read_streams, records_of


def account(account_id: str, updated: int = 1700000000) -> dict:
    return {"id": account_id, "name": f"Account {account_id}", "updated_time": updated, "created_time": 1600000000}


def campaign(campaign_id, account_id: str, updated: int, status: str = "ACTIVE") -> dict:
    return {"id": campaign_id, "ad_account_id": account_id, "name": f"c{campaign_id}", "status": status,
            "updated_time": updated, "created_time": 1600000000}


def query(request) -> dict:
    return parse_qs(urlsplit(request.url).query)


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
