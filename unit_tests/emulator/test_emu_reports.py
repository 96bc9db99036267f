"""Async reports: create, poll, download, validation, and truth."""

import pytest
import requests

BODY = {
    "start_date": "2025-05-01",
    "end_date": "2025-05-31",
    "granularity": "DAY",
    "level": "CAMPAIGN",
    "columns": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "TOTAL_CONVERSIONS"],
}


def _run(api, account, body, polls=10):
    token = api.post(f"/ad_accounts/{account}/reports", json=body).json()["token"]
    for _ in range(polls):
        status = api.get(f"/ad_accounts/{account}/reports", {"token": token}).json()
        if status["report_status"] != "IN_PROGRESS":
            return status
    return status


def test_create_poll_download(api, emu):
    account = emu.state.ds.accounts[0].id
    created = api.post(f"/ad_accounts/{account}/reports", json=BODY).json()
    assert created["report_status"] == "IN_PROGRESS" and created["message"] is None
    polls = [api.get(f"/ad_accounts/{account}/reports", {"token": created["token"]}).json() for _ in range(3)]
    assert [p["report_status"] for p in polls] == ["IN_PROGRESS", "IN_PROGRESS", "FINISHED"]
    file = requests.get(polls[-1]["url"]).json()
    assert polls[-1]["size"] > 0
    for campaign_id, rows in file.items():
        assert all(r["CAMPAIGN_ID"] == campaign_id and r["AD_ACCOUNT_ID"] == account for r in rows)
    truth = api.admin(
        "truth/report",
        {
            "level": "CAMPAIGN",
            "start_date": "2025-05-01",
            "end_date": "2025-05-31",
            "columns": ",".join(BODY["columns"]),
        },
    )["rows"]
    assert [r for rows in file.values() for r in rows] == [r for r in truth if r["AD_ACCOUNT_ID"] == account]
    assert emu.stats()["downloads_with_authorization_header"] == 0


def test_download_with_authorization_header_is_counted(fresh):
    emu, api = fresh(report_polls=0)
    url = _run(api, emu.state.ds.accounts[0].id, BODY)["url"]
    assert requests.get(url, headers={"Authorization": "Bearer x"}).status_code == 200
    assert emu.stats()["downloads_with_authorization_header"] == 1


def test_targeting_rows_add_up_to_the_entity(fresh):
    emu, api = fresh(report_polls=0)
    account = emu.state.ds.accounts[0].id
    plain = requests.get(_run(api, account, BODY)["url"]).json()
    split = requests.get(
        _run(api, account, {**BODY, "level": "CAMPAIGN_TARGETING", "targeting_types": ["GENDER"]})["url"]
    ).json()
    assert set(plain) == set(split)
    for cid, rows in plain.items():
        assert sum(r["IMPRESSION_1"] for r in rows) == sum(r["IMPRESSION_1"] for r in split[cid])
        assert {r["TARGETING_TYPE"] for r in split[cid]} == {"GENDER"}


@pytest.mark.parametrize(
    "change",
    [
        {"level": "NOPE"},
        {"columns": ["NOT_A_COLUMN"]},
        {"start_date": "2022-01-01"},
        {"start_date": "2024-06-01", "end_date": "2025-05-31"},
        {"granularity": "HOUR"},
        {"level": "PRODUCT_ITEM", "start_date": "2025-02-01"},
        {"click_window_days": 5},
        {"view_window_days": 2},
        {"engagement_window_days": -1},
        {"targeting_types": ["GENDER"]},
    ],
)
def test_validation(api, emu, change):
    r = api.post(f"/ad_accounts/{emu.state.ds.accounts[0].id}/reports", json={**BODY, **change})
    assert r.status_code == 400 and r.json()["code"] == 1, r.text


SIX_TYPES = ["APPTYPE", "COUNTRY", "GENDER", "AGE_BUCKET", "PLACEMENT", "KEYWORD"]


@pytest.mark.parametrize(
    "level, types, says",
    [
        ("CAMPAIGN_TARGETING", SIX_TYPES, "1 to 5"),
        ("CAMPAIGN_TARGETING", [], "1 to 5"),
        ("AD_GROUP_TARGETING", ["GENDER", "AUDIENCE_MULTIPLIER"], "'AUDIENCE_MULTIPLIER' for level AD_GROUP_TARGETING"),
        ("CAMPAIGN_TARGETING", ["MEDIA_TYPE"], "'MEDIA_TYPE' for level CAMPAIGN_TARGETING"),
        ("ADVERTISER_TARGETING", ["CREATIVE_TYPE"], "'CREATIVE_TYPE'"),  # a live targeting analytics type only
        ("PIN_PROMOTION_TARGETING", ["QUIZ_RESULT"], "'QUIZ_RESULT'"),
    ],
)
def test_targeting_types_a_report_level_does_not_take_are_refused(api, emu, level, types, says):
    body = {**BODY, "level": level, "targeting_types": types}
    r = api.post(f"/ad_accounts/{emu.state.ds.accounts[0].id}/reports", json=body)
    assert r.status_code == 400 and r.json()["code"] == 1 and says in r.json()["message"], r.text


@pytest.mark.parametrize(
    "level, types",
    [
        ("CAMPAIGN_TARGETING", ["AUDIENCE_MULTIPLIER", "LOCAL_ADS_STORE_CODE", "CREATIVE_ENHANCEMENTS"]),
        ("PRODUCT_ITEM_TARGETING", ["MEDIA_TYPE", "AGE_BUCKET_AND_GENDER"]),
        ("ADVERTISER_TARGETING", ["KEYWORD", "TARGETED_INTEREST", "PINNER_INTEREST", "AUDIENCE_INCLUDE", "GEO"]),
    ],
)
def test_level_specific_targeting_types_are_served_with_their_own_values(fresh, level, types):
    emu, api = fresh(report_polls=0)
    account = emu.state.ds.accounts[0].id
    body = {**BODY, "level": level, "targeting_types": types, "start_date": "2025-05-25"}
    status = _run(api, account, body)
    rows = [r for rows in requests.get(status["url"]).json().values() for r in rows]
    assert {r["TARGETING_TYPE"] for r in rows} == set(types)
    assert "UNKNOWN" not in {r["TARGETING_VALUE"] for r in rows}  # each type has values of its own


def test_the_truth_of_many_targeting_types_is_the_union_of_reports_of_five(fresh):
    emu, api = fresh(report_polls=0)
    account = emu.state.ds.accounts[0].id
    body = {**BODY, "level": "CAMPAIGN_TARGETING", "start_date": "2025-05-25"}
    files = [
        requests.get(_run(api, account, {**body, "targeting_types": group})["url"]).json()
        for group in (SIX_TYPES[:5], SIX_TYPES[5:])
    ]
    truth = api.admin(
        "truth/report",
        {
            "level": "CAMPAIGN_TARGETING",
            "start_date": "2025-05-25",
            "end_date": "2025-05-31",
            "columns": ",".join(BODY["columns"]),
            "targeting_types": ",".join(SIX_TYPES),
        },
    )["rows"]
    downloaded = [r for file in files for rows in file.values() for r in rows]
    refused = requests.get(
        f"{api.root}/_emulator/truth/report",
        params={"level": "AD_GROUP_TARGETING", "targeting_types": "GENDER,AUDIENCE_MULTIPLIER"},
        timeout=30,
    )
    assert refused.status_code == 400 and "AUDIENCE_MULTIPLIER" in refused.json()["message"]

    def key(row: dict) -> tuple:
        return row["CAMPAIGN_ID"], row["DATE"], row["TARGETING_TYPE"], row["TARGETING_VALUE"]

    assert sorted(downloaded, key=key) == sorted([r for r in truth if r["AD_ACCOUNT_ID"] == account], key=key)
    assert {r["TARGETING_TYPE"] for r in downloaded} == set(SIX_TYPES)


def test_query_params_are_rejected(api, emu):
    r = api.post(f"/ad_accounts/{emu.state.ds.accounts[0].id}/reports?level=CAMPAIGN", json=BODY)
    assert r.status_code == 400


@pytest.mark.parametrize(
    "level",
    [
        "ADVERTISER",
        "AD_GROUP",
        "PIN_PROMOTION_TARGETING",
        "KEYWORD",
        "PRODUCT_GROUP",
        "PRODUCT_GROUP_TARGETING",
        "PRODUCT_ITEM",
    ],
)
def test_levels_produce_rows(fresh, level):
    emu, api = fresh(report_polls=0)
    account = emu.state.ds.accounts[0].id
    status = _run(api, account, {**BODY, "level": level, "start_date": "2025-05-10"})
    assert status["report_status"] == "FINISHED"
    assert requests.get(status["url"]).json()


def test_unknown_token_does_not_exist(api, emu):
    r = api.get(f"/ad_accounts/{emu.state.ds.accounts[0].id}/reports", {"token": "nope"})
    assert r.json()["report_status"] == "DOES_NOT_EXIST"


def test_given_requested_id_columns_when_report_downloaded_then_rows_carry_the_ids_the_entity_has(fresh):
    emu, api = fresh(report_polls=0)
    ds = emu.state.ds
    account = ds.accounts[0].id
    body = {**BODY, "start_date": "2025-05-25", "columns": ["CAMPAIGN_ID", "AD_GROUP_ID", "SPEND_IN_MICRO_DOLLAR"]}

    ad_groups = requests.get(_run(api, account, {**body, "level": "AD_GROUP"})["url"]).json()
    keywords = requests.get(_run(api, account, {**body, "level": "KEYWORD"})["url"]).json()
    plain = requests.get(_run(api, account, {**body, "level": "AD_GROUP", "columns": BODY["columns"]})["url"]).json()

    for group_id, rows in ad_groups.items():
        campaign_id = ds.get("ad_group", group_id).parent
        assert all(r["CAMPAIGN_ID"] == campaign_id and r["AD_GROUP_ID"] == group_id for r in rows)
    assert {ds.get("keyword", k).extra for k in keywords} == {"ad_group", "advertiser"}
    for keyword_id, rows in keywords.items():
        keyword = ds.get("keyword", keyword_id)
        if keyword.extra == "ad_group":  # an ad group's keyword: its ad group and campaign
            expected = {"AD_GROUP_ID": keyword.parent, "CAMPAIGN_ID": ds.get("ad_group", keyword.parent).parent}
        else:  # the account's own keyword has neither
            expected = {}
        assert all({k: r[k] for k in ("AD_GROUP_ID", "CAMPAIGN_ID") if k in r} == expected for r in rows)
    assert all("CAMPAIGN_ID" not in r for rows in plain.values() for r in rows)  # not requested: not sent
