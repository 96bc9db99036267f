"""Live analytics streams read through the real entrypoint against a mocked Pinterest API."""

from __future__ import annotations

import datetime as dt

import pytest
from airbyte_cdk.models import SyncMode

from source_pinterest import limits
from unit_tests.conftest import API, final_state, make_config, query, read_streams, records_of

TODAY = dt.date(2024, 6, 30)
EARLIEST = TODAY - dt.timedelta(days=89)  # 90 days including today


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(limits, "today", lambda: TODAY)


def day(offset: int) -> str:
    return (TODAY - dt.timedelta(days=offset)).isoformat()


def account(account_id: str) -> dict:
    return {"id": account_id, "name": f"Account {account_id}", "updated_time": 1, "created_time": 1}


def entity(entity_id: int, account_id: str, status: str = "ACTIVE", created: int = 1600000000) -> dict:
    return {"id": entity_id, "ad_account_id": account_id, "status": status, "created_time": created, "updated_time": 1}


def analytics_answer(id_param: str, id_column: str):
    """Two rows per requested id: the first and last day of the requested range, with numeric ids as Pinterest may."""

    def answer(request, context):
        q = query(request)
        return [
            {id_column: int(i), "DATE": date, "SPEND_IN_DOLLAR": 1.5, "TOTAL_IMPRESSION": 10}
            for i in q[id_param]
            for date in dict.fromkeys([q["start_date"][0], q["end_date"][0]])
        ]

    return answer


def test_given_300_campaigns_of_every_status_when_read_then_batches_of_250_over_90_days(api):
    api.pages("ad_accounts", [[account("1")]])
    campaigns = [entity(1000 + n, "1", status="ARCHIVED" if n % 3 else "ACTIVE") for n in range(300)]
    api.pages("ad_accounts/1/campaigns", [campaigns[:250], campaigns[250:]])
    api.mocker.get(API + "ad_accounts/1/campaigns/analytics", json=analytics_answer("campaign_ids", "CAMPAIGN_ID"))

    output = read_streams(make_config(), ["campaign_analytics"])

    calls = api.requests_to("ad_accounts/1/campaigns/analytics")
    assert [len(query(c)["campaign_ids"]) for c in calls] == [250, 50]
    assert {i for c in calls for i in query(c)["campaign_ids"]} == {str(1000 + n) for n in range(300)}
    for call in calls:
        q = query(call)
        assert (q["start_date"], q["end_date"], q["granularity"]) == (
            [EARLIEST.isoformat()],
            [TODAY.isoformat()],
            ["DAY"],
        )
        assert q["columns"] == [",".join(sorted(limits.LIVE_COLUMNS))]
        assert (q["click_window_days"], q["view_window_days"]) == (["30"], ["1"])
        # The spec: on live analytics, engagement_window_days "no longer returns new data"; it is not sent.
        assert "engagement_window_days" not in q
    # The id listing asked for every status, whatever the user's status filter.
    assert query(api.requests_to("ad_accounts/1/campaigns")[0])["entity_statuses"] == [
        "ACTIVE",
        "PAUSED",
        "ARCHIVED",
        "DRAFT",
        "DELETED_DRAFT",
    ]
    records = records_of(output, "campaign_analytics")
    assert len(records) == 600
    assert records[0] == {
        "CAMPAIGN_ID": "1000",
        "DATE": EARLIEST.isoformat(),
        "SPEND_IN_DOLLAR": 1.5,
        "TOTAL_IMPRESSION": 10,
        "AD_ACCOUNT_ID": "1",
    }
    assert all(isinstance(r["CAMPAIGN_ID"], str) and r["AD_ACCOUNT_ID"] == "1" and r["DATE"] for r in records)


def test_primary_keys_and_schema_of_every_live_stream():
    from source_pinterest import SourcePinterest

    streams = {s.name: s for s in SourcePinterest().streams(make_config())}
    expected = {
        "ad_account_analytics": ["DATE", "AD_ACCOUNT_ID"],
        "campaign_analytics": ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"],
        "ad_group_analytics": ["DATE", "AD_ACCOUNT_ID", "AD_GROUP_ID"],
        "ad_analytics": ["DATE", "AD_ACCOUNT_ID", "AD_ID"],
        "product_group_analytics": ["DATE", "AD_ACCOUNT_ID", "PRODUCT_GROUP_ID"],
        "user_account_analytics": "date",
    }
    for name, key in expected.items():
        assert streams[name].primary_key == key
        assert streams[name].cursor_field in ("DATE", "date")
    properties = streams["ad_analytics"].get_json_schema()["properties"]
    assert properties["AD_ID"]["type"] == ["null", "string"]
    assert properties["CAMPAIGN_NAME"]["type"] == ["null", "string"]
    assert properties["DATE"] == {"type": ["null", "string"], "format": "date"}
    assert properties["SPEND_IN_DOLLAR"]["type"] == ["null", "number"]
    assert set(limits.LIVE_COLUMNS) <= set(properties)
    # Product group analytics take the same `columns` parameter (query_columns) as the other live endpoints.
    product_groups = streams["product_group_analytics"].get_json_schema()["properties"]
    assert set(product_groups) == set(limits.LIVE_COLUMNS) | {"DATE", "AD_ACCOUNT_ID", "PRODUCT_GROUP_ID"}
    assert product_groups["PRODUCT_GROUP_ID"]["type"] == ["null", "string"]
    untyped = [c for c, schema in product_groups.items() if not schema.get("type")]
    assert untyped == [c for c in properties if not properties[c].get("type")]  # what column_types.json leaves open


@pytest.mark.parametrize(
    "stream,path,listing,id_param,id_column",
    [
        ("ad_group_analytics", "ad_groups/analytics", "ad_groups", "ad_group_ids", "AD_GROUP_ID"),
        ("ad_analytics", "ads/analytics", "ads", "ad_ids", "AD_ID"),
    ],
)
def test_given_entities_in_two_accounts_when_read_then_each_account_asks_for_its_own_ids(
    api, stream, path, listing, id_param, id_column
):
    api.pages("ad_accounts", [[account("1"), account("2")]])
    api.pages(f"ad_accounts/1/{listing}", [[entity(11, "1"), entity(12, "1", "PAUSED")]])
    api.pages(f"ad_accounts/2/{listing}", [[entity(21, "2", "ARCHIVED")]])
    for account_id in ("1", "2"):
        api.mocker.get(API + f"ad_accounts/{account_id}/{path}", json=analytics_answer(id_param, id_column))

    output = read_streams(make_config(), [stream])

    (first,) = api.requests_to(f"ad_accounts/1/{path}")
    (second,) = api.requests_to(f"ad_accounts/2/{path}")
    assert query(first)[id_param] == ["11", "12"]
    assert query(second)[id_param] == ["21"]
    assert sorted({(r["AD_ACCOUNT_ID"], r[id_column]) for r in records_of(output, stream)}) == [
        ("1", "11"),
        ("1", "12"),
        ("2", "21"),
    ]


def test_given_entity_created_after_a_window_when_read_then_it_is_not_requested_for_that_window(api):
    api.pages("ad_accounts", [[account("1")]])
    late = int(dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC).timestamp())  # created today
    api.pages("ad_accounts/1/campaigns", [[entity(11, "1"), entity(12, "1", created=late)]])
    api.mocker.get(API + "ad_accounts/1/campaigns/analytics", json=analytics_answer("campaign_ids", "CAMPAIGN_ID"))
    state = {"campaign_analytics": {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": day(200)}}]}}

    read_streams(make_config(start_date="2023-01-01"), ["campaign_analytics"], SyncMode.incremental, state)

    (call,) = api.requests_to("ad_accounts/1/campaigns/analytics")
    assert query(call)["campaign_ids"] == ["11", "12"]  # the one window ends today, when 12 exists


def test_given_no_entities_in_an_account_then_no_analytics_call(api):
    api.pages("ad_accounts", [[account("1")]])
    api.pages("ad_accounts/1/ads", [[]])
    matcher = api.mocker.get(API + "ad_accounts/1/ads/analytics", json=[])

    output = read_streams(make_config(), ["ad_analytics"])

    assert matcher.call_count == 0
    assert records_of(output, "ad_analytics") == []


def test_given_old_start_date_when_read_account_analytics_then_clamped_with_a_warning(api):
    api.pages("ad_accounts", [[account("1")]])
    api.json("ad_accounts/1/analytics", [{"AD_ACCOUNT_ID": 1, "DATE": day(3), "SPEND_IN_DOLLAR": 2}])

    output = read_streams(make_config(start_date="2020-01-01"), ["ad_account_analytics"], SyncMode.incremental)

    (call,) = api.requests_to("ad_accounts/1/analytics")
    assert query(call)["start_date"] == [EARLIEST.isoformat()]
    assert "campaign_ids" not in query(call)
    assert any("start_date 2020-01-01 is older than live analytics allow" in log.log.message for log in output.logs)
    assert records_of(output, "ad_account_analytics") == [{"AD_ACCOUNT_ID": "1", "DATE": day(3), "SPEND_IN_DOLLAR": 2}]
    assert final_state(output, "ad_account_analytics") == {
        "states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": TODAY.isoformat()}}]
    }


def test_given_recent_start_date_when_read_then_it_is_the_first_day_requested(api):
    api.pages("ad_accounts", [[account("1")]])
    api.json("ad_accounts/1/analytics", [])

    read_streams(make_config(start_date=day(10)), ["ad_account_analytics"])

    assert query(api.requests_to("ad_accounts/1/analytics")[0])["start_date"] == [day(10)]


@pytest.mark.parametrize(
    "saved,lookback,expected_start",
    [
        (day(5), None, day(35)),  # default look-back: the largest attribution window, 30 days
        (day(5), 0, day(5)),
        (day(5), 7, day(12)),
        (day(80), None, EARLIEST.isoformat()),  # never before what the API allows
    ],
)
def test_given_saved_date_when_second_sync_then_look_back_days_are_read_again(api, saved, lookback, expected_start):
    api.pages("ad_accounts", [[account("1"), account("2")]])
    api.json("ad_accounts/1/analytics", [{"AD_ACCOUNT_ID": "1", "DATE": saved, "TOTAL_CONVERSIONS": 3}])
    api.json("ad_accounts/2/analytics", [])
    state = {"ad_account_analytics": {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": saved}}]}}
    overrides = {} if lookback is None else {"attribution_lookback_days": lookback}

    output = read_streams(make_config(**overrides), ["ad_account_analytics"], SyncMode.incremental, state)

    assert query(api.requests_to("ad_accounts/1/analytics")[0])["start_date"] == [expected_start]
    # An account new to the state reads all the history the API has.
    assert query(api.requests_to("ad_accounts/2/analytics")[0])["start_date"] == [EARLIEST.isoformat()]
    # The restated day is emitted again; the primary key makes it an upsert.
    assert records_of(output, "ad_account_analytics") == [{"AD_ACCOUNT_ID": "1", "DATE": saved, "TOTAL_CONVERSIONS": 3}]
    assert final_state(output, "ad_account_analytics")["states"][0] == {
        "partition": {"ad_account_id": "1"},
        "cursor": {"DATE": TODAY.isoformat()},
    }


def test_given_one_account_forbidden_when_read_then_the_others_sync_and_its_state_stays(api):
    api.pages("ad_accounts", [[account("1"), account("2")]])
    api.json("ad_accounts/1/analytics", {"code": 29, "message": "You are not permitted to access that resource."}, 403)
    api.json("ad_accounts/2/analytics", [{"AD_ACCOUNT_ID": "2", "DATE": day(1)}])

    output = read_streams(make_config(), ["ad_account_analytics"], SyncMode.incremental)

    assert records_of(output, "ad_account_analytics") == [{"AD_ACCOUNT_ID": "2", "DATE": day(1)}]
    assert final_state(output, "ad_account_analytics") == {
        "states": [{"partition": {"ad_account_id": "2"}, "cursor": {"DATE": TODAY.isoformat()}}]
    }


def test_user_account_analytics_is_one_record_per_day_with_a_flat_date_state(api):
    body = {
        "all": {
            "daily_metrics": [
                {"date": day(1), "data_status": "READY", "metrics": {"IMPRESSION": 100, "SAVE_RATE": 0.1}},
                {"date": day(0), "data_status": "PROCESSING", "metrics": {"IMPRESSION": 7}},
            ],
            "summary_metrics": {"IMPRESSION": 107},
        }
    }
    api.json("user_account/analytics", body)

    output = read_streams(
        make_config(), ["user_account_analytics"], SyncMode.incremental, {"user_account_analytics": {"date": day(2)}}
    )

    (call,) = api.requests_to("user_account/analytics")
    assert (query(call)["start_date"], query(call)["end_date"]) == ([day(32)], [TODAY.isoformat()])  # 30 days look-back
    assert records_of(output, "user_account_analytics") == [
        {"date": day(1), "data_status": "READY", "metrics": {"IMPRESSION": 100, "SAVE_RATE": 0.1}},
        {"date": day(0), "data_status": "PROCESSING", "metrics": {"IMPRESSION": 7}},
    ]
    # Today is still PROCESSING: the cursor stays on the last final day, so the next sync reads today again.
    assert final_state(output, "user_account_analytics") == {"date": day(1)}


# -- product_group_analytics: ids from the catalogs' product groups, the ad account owner's -----------------------

NO_CATALOG = {"code": 4182, "message": "Can't access this feature without an existing catalog."}


def owned_by(account_id: str, owner_id: str, *permissions: str) -> dict:
    return {**account(account_id), "owner": {"id": owner_id}, "permissions": list(permissions)}


def product_group(group_id: int) -> dict:
    # created_at is the catalogs' integer (the spec says seconds, its example is milliseconds): never compared.
    return {"id": str(group_id), "name": f"Group {group_id}", "created_at": 1700000000000, "updated_at": 1}


def product_groups_api(api, through: dict) -> None:
    """The user u1's product groups (listed without ad_account_id), and per ad account those of its owner."""
    api.json("user_account", {"id": "u1"})

    def answer(request, context):
        account_id = query(request).get("ad_account_id", [None])[0]
        listed = through[account_id]
        if listed is None:
            context.status_code = 409
            return NO_CATALOG
        return {"items": listed, "bookmark": None}

    api.mocker.get(API + "catalogs/product_groups", json=answer)


def test_given_300_product_groups_when_read_then_batches_of_250_of_the_live_analytics_params(api):
    api.pages("ad_accounts", [[owned_by("1", "u1", "OWNER")]])
    product_groups_api(api, {None: [product_group(5000 + n) for n in range(300)]})
    api.mocker.get(
        API + "ad_accounts/1/product_groups/analytics",
        json=analytics_answer("product_group_ids", "PRODUCT_GROUP_ID"),
    )

    output = read_streams(make_config(), ["product_group_analytics"], SyncMode.incremental)

    calls = api.requests_to("ad_accounts/1/product_groups/analytics")
    assert [query(c)["product_group_ids"] for c in calls] == [
        [str(5000 + n) for n in range(250)],
        [str(5000 + n) for n in range(250, 300)],
    ]
    for call in calls:
        q = query(call)
        assert (q["start_date"], q["end_date"], q["granularity"]) == (
            [EARLIEST.isoformat()],
            [TODAY.isoformat()],
            ["DAY"],
        )
        assert q["columns"] == [",".join(sorted(limits.LIVE_COLUMNS))]
        assert (q["click_window_days"], q["view_window_days"]) == (["30"], ["1"])
        assert "engagement_window_days" not in q
    records = records_of(output, "product_group_analytics")
    assert len(records) == 600
    assert records[0] == {
        "PRODUCT_GROUP_ID": "5000",
        "DATE": EARLIEST.isoformat(),
        "SPEND_IN_DOLLAR": 1.5,
        "TOTAL_IMPRESSION": 10,
        "AD_ACCOUNT_ID": "1",
    }
    assert all(isinstance(r["PRODUCT_GROUP_ID"], str) for r in records)
    assert final_state(output, "product_group_analytics") == {
        "states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": TODAY.isoformat()}}]
    }


def test_given_accounts_of_two_owners_when_read_then_each_account_asks_for_its_owners_product_groups(api):
    api.pages(
        "ad_accounts",
        [[owned_by("1", "u1", "OWNER"), owned_by("2", "u1", "OWNER"), owned_by("3", "p1", "ADMIN")]],
    )
    product_groups_api(api, {None: [product_group(11), product_group(12)], "3": [product_group(31)]})
    for account_id in ("1", "2", "3"):
        api.mocker.get(
            API + f"ad_accounts/{account_id}/product_groups/analytics",
            json=analytics_answer("product_group_ids", "PRODUCT_GROUP_ID"),
        )

    output = read_streams(make_config(), ["catalogs_product_groups", "product_group_analytics"])

    asked = {
        a: [query(c)["product_group_ids"] for c in api.requests_to(f"ad_accounts/{a}/product_groups/analytics")]
        for a in ("1", "2", "3")
    }
    assert asked == {"1": [["11", "12"]], "2": [["11", "12"]], "3": [["31"]]}
    # One listing for the user's own and one through the partner's account, shared with the catalogs stream.
    assert [query(r).get("ad_account_id") for r in api.requests_to("catalogs/product_groups")] == [None, ["3"]]
    assert sorted(r["id"] for r in records_of(output, "catalogs_product_groups")) == ["11", "12", "31"]
    assert {(r["AD_ACCOUNT_ID"], r["PRODUCT_GROUP_ID"]) for r in records_of(output, "product_group_analytics")} == {
        ("1", "11"),
        ("1", "12"),
        ("2", "11"),
        ("2", "12"),
        ("3", "31"),
    }


def test_given_no_catalog_or_no_product_group_when_read_then_no_analytics_call_no_rows_and_no_error(api):
    # u1 has no catalog (409 code 4182); p1 has a catalog without product groups; p2's account lets the user read
    # no catalogs (ANALYST), so none of p2's product groups can be listed.
    api.pages(
        "ad_accounts",
        [[owned_by("1", "u1", "OWNER"), owned_by("2", "p1", "ADMIN"), owned_by("3", "p2", "ANALYST")]],
    )
    product_groups_api(api, {None: None, "2": []})
    analytics = api.mocker.get(API + "ad_accounts/1/product_groups/analytics", json=[])

    output = read_streams(make_config(), ["product_group_analytics"], SyncMode.incremental)

    assert not output.errors
    assert [query(r).get("ad_account_id") for r in api.requests_to("catalogs/product_groups")] == [None, ["2"]]
    assert analytics.call_count == 0
    assert not [r for r in api.mocker.request_history if r.path.endswith("/product_groups/analytics")]
    assert records_of(output, "product_group_analytics") == []
    # Every account's pass is complete: the next sync starts from its look-back, not from 90 days back.
    assert final_state(output, "product_group_analytics") == {
        "states": [{"partition": {"ad_account_id": a}, "cursor": {"DATE": TODAY.isoformat()}} for a in ("1", "2", "3")]
    }


def test_given_saved_product_group_date_when_second_sync_then_the_look_back_is_read_again(api):
    api.pages("ad_accounts", [[owned_by("1", "u1", "OWNER")]])
    product_groups_api(api, {None: [product_group(11)]})
    api.json(
        "ad_accounts/1/product_groups/analytics", [{"PRODUCT_GROUP_ID": "11", "DATE": day(5), "TOTAL_CONVERSIONS": 2}]
    )
    state = {"product_group_analytics": {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": day(5)}}]}}

    output = read_streams(make_config(), ["product_group_analytics"], SyncMode.incremental, state)

    (call,) = api.requests_to("ad_accounts/1/product_groups/analytics")
    assert query(call)["start_date"] == [day(35)]  # the largest attribution window, 30 days
    assert records_of(output, "product_group_analytics") == [
        {"PRODUCT_GROUP_ID": "11", "DATE": day(5), "TOTAL_CONVERSIONS": 2, "AD_ACCOUNT_ID": "1"}
    ]
