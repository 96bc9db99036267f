"""Live analytics: validation errors and levels that add up."""

from collections import defaultdict

import pytest

from pinterest_emulator.columns import live_columns, report_columns
from pinterest_emulator.metrics import CONVERSION_COLUMNS, MODELLED_COLUMNS

COLUMNS = "SPEND_IN_MICRO_DOLLAR,IMPRESSION_1,CLICKTHROUGH_1,TOTAL_CONVERSIONS,CTR,SPEND_IN_DOLLAR"
RANGE = {"start_date": "2025-05-01", "end_date": "2025-06-01", "granularity": "DAY", "columns": COLUMNS}


def test_modelled_columns_exist_in_the_spec():
    assert live_columns() | report_columns() >= MODELLED_COLUMNS
    assert len(MODELLED_COLUMNS & live_columns()) >= 20


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"start_date": "2025-02-01"}, "start_date"),
        ({"end_date": "2025-04-30"}, "end_date"),
        ({"columns": "SPEND_IN_DOLLAR,NOT_A_COLUMN"}, "NOT_A_COLUMN"),
        ({"granularity": "YEAR"}, "granularity"),
        ({"click_window_days": "3"}, "click_window_days"),
        ({"start_date": "2025-05-20", "granularity": "HOUR"}, "start_date"),
        ({"start_date": "2025-05-27", "end_date": "2025-05-31", "granularity": "HOUR"}, "maximum"),
    ],
)
def test_validation_errors_are_400_naming_the_problem(api, emu, change, needle):
    r = api.get(f"/ad_accounts/{emu.state.ds.accounts[0].id}/analytics", {**RANGE, **change})
    assert r.status_code == 400 and needle in r.json()["message"], r.text


def test_campaign_analytics_requires_ids_and_caps_at_250(api, emu):
    path = f"/ad_accounts/{emu.state.ds.accounts[0].id}/campaigns/analytics"
    assert api.get(path, RANGE).status_code == 400
    assert api.get(path, {**RANGE, "campaign_ids": ",".join(str(i) for i in range(251))}).status_code == 400


def _totals(rows, key):
    out = defaultdict(int)
    for row in rows:
        out[(row[key], row["DATE"])] += row["SPEND_IN_MICRO_DOLLAR"]
    return out


def _daily(rows):
    out = defaultdict(int)
    for row in rows:
        out[row["DATE"]] += row["SPEND_IN_MICRO_DOLLAR"]
    return out


def test_levels_add_up_ads_to_groups_to_campaigns_to_account(api, emu):
    ds = emu.state.ds
    account = ds.accounts[0]
    base = f"/ad_accounts/{account.id}"
    campaigns = [c.id for c in ds.kids("campaign", account.id)]
    groups = [g for c in campaigns for g in ds.kids("ad_group", c)]
    ads = [a.id for g in groups for a in ds.kids("ad", g.id)]
    acc_rows = api.get(f"{base}/analytics", RANGE).json()
    camp_rows = api.get(f"{base}/campaigns/analytics", {**RANGE, "campaign_ids": campaigns}).json()
    group_rows = api.get(f"{base}/ad_groups/analytics", {**RANGE, "ad_group_ids": [g.id for g in groups]}).json()
    ad_params = {**RANGE, "ad_ids": ",".join(ads), "columns": COLUMNS + ",AD_GROUP_ID"}
    ad_rows = api.get(f"{base}/ads/analytics", ad_params).json()
    assert acc_rows and camp_rows and group_rows and ad_rows
    assert _daily(acc_rows) == _daily(camp_rows) == _daily(group_rows) == _daily(ad_rows)
    per_group = defaultdict(int)
    for row in ad_rows:
        per_group[(row["AD_GROUP_ID"], row["DATE"])] += row["SPEND_IN_MICRO_DOLLAR"]
    assert per_group == _totals(group_rows, "AD_GROUP_ID")


def test_archived_campaigns_can_have_spend(emu):
    ds = emu.state.ds
    archived = {c.id for c in ds.all_of("campaign") if c.status == "ARCHIVED"}
    rows = emu.truth("analytics", level="CAMPAIGN", start_date="2025-05-01", end_date="2025-06-01")["rows"]
    assert any(r["CAMPAIGN_ID"] in archived for r in rows)


def test_truth_analytics_matches_live_rows(api, emu):
    account = emu.state.ds.accounts[1]
    live = api.get(
        f"/ad_accounts/{account.id}/analytics",
        {**RANGE, "columns": ",".join(sorted(MODELLED_COLUMNS & live_columns()))},
    ).json()
    truth = [
        r
        for r in api.admin(
            "truth/analytics", {"level": "AD_ACCOUNT", "start_date": "2025-05-01", "end_date": "2025-06-01"}
        )["rows"]
        if r["AD_ACCOUNT_ID"] == account.id
    ]
    assert live == truth


def test_total_sums_the_days_and_hour_has_no_conversions(api, emu):
    path = f"/ad_accounts/{emu.state.ds.accounts[0].id}/analytics"
    days = api.get(path, RANGE).json()
    total = api.get(path, {**RANGE, "granularity": "TOTAL"}).json()
    assert len(total) == 1 and "DATE" not in total[0]
    assert total[0]["SPEND_IN_MICRO_DOLLAR"] == sum(r["SPEND_IN_MICRO_DOLLAR"] for r in days)
    hours = api.get(path, {**RANGE, "start_date": "2025-05-30", "granularity": "HOUR"}).json()
    assert hours and not any(c in row for row in hours for c in CONVERSION_COLUMNS)


def test_user_account_analytics_shape(api):
    r = api.get("/user_account/analytics", {"start_date": "2025-05-01", "end_date": "2025-05-10"})
    daily = r.json()["all"]["daily_metrics"]
    assert len(daily) == 10 and daily[0]["data_status"] == "READY" and "IMPRESSION" in daily[0]["metrics"]
    assert api.get("/user_account/analytics", {"start_date": "2024-01-01", "end_date": "2024-01-10"}).status_code == 400


# -- product groups ---------------------------------------------------------------------------------------------


def _product_groups_path(account) -> str:
    return f"/ad_accounts/{account.id}/product_groups/analytics"


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"product_group_ids": None}, "product_group_ids"),
        ({"product_group_ids": ",".join(str(i) for i in range(1, 252))}, "at most 250"),
        ({"product_group_ids": "12a"}, "must match the pattern"),
        ({"columns": "SPEND_IN_DOLLAR,NOT_A_COLUMN"}, "NOT_A_COLUMN"),
        ({"start_date": "2025-02-01"}, "start_date"),  # more than 90 days before today
        ({"start_date": "2025-03-03", "end_date": "2025-06-01"}, "maximum of 90 days"),
        ({"granularity": "YEAR"}, "granularity"),
    ],
)
def test_product_group_analytics_refuses_what_the_api_refuses(api, emu, change, needle):
    params = {**RANGE, "product_group_ids": emu.state.ds.product_groups[0].id, **change}
    r = api.get(_product_groups_path(emu.state.ds.accounts[0]), {k: v for k, v in params.items() if v is not None})
    assert r.status_code == 400 and needle in r.json()["message"], r.text


def test_product_group_analytics_rows_are_the_truth_of_the_account_owners_listed_product_groups(api, emu):
    account = emu.state.ds.accounts[0]  # the partner's: its catalog is listed through it
    listed = [g["id"] for g in api.all_items("/catalogs/product_groups", {"ad_account_id": account.id})]
    columns = ",".join(sorted(MODELLED_COLUMNS & live_columns()))

    live = api.get(_product_groups_path(account), {**RANGE, "columns": columns, "product_group_ids": listed}).json()

    query = {"level": "PRODUCT_GROUP", "start_date": "2025-05-01", "end_date": "2025-06-01"}
    truth = [r for r in api.admin("truth/analytics", query)["rows"] if r["PRODUCT_GROUP_ID"] in listed]
    assert live and live == truth
    assert {r["PRODUCT_GROUP_ID"] for r in live} <= set(listed)


def test_product_group_analytics_of_an_account_that_promotes_none_has_no_rows(api, emu):
    ds = emu.state.ds
    no_catalog = ds.get("account", ds.no_catalog_account)
    assert not [g for g in ds.product_groups if g.extra == no_catalog.id]

    r = api.get(_product_groups_path(no_catalog), {**RANGE, "product_group_ids": [g.id for g in ds.product_groups]})

    assert r.status_code == 200 and r.json() == []
    assert api.get("/catalogs/product_groups", {"ad_account_id": no_catalog.id}).json()["code"] == 4182


def test_metrics_ready_state_says_which_days_are_final_and_pending_conversions_are_partial(api, emu):
    path = f"/ad_accounts/{emu.state.ds.accounts[0].id}/analytics"
    recent = {**RANGE, "start_date": "2025-05-25"}
    final_rows = {r["DATE"]: r for r in api.get(path, recent).json()}

    def ready(day: str) -> tuple:
        body = api.get("/resources/metrics_ready_state", {"date": day}).json()
        return body["conversion_metrics_ready"], body["non_conversion_metrics_ready"]

    assert ready("2025-06-01") == (True, True)
    emu.configure(conversions_pending_days=2)
    try:
        assert [ready(d) for d in ("2025-05-30", "2025-05-31", "2025-06-01")] == [
            (True, True),
            (False, True),
            (False, False),
        ]
        pending_rows = {r["DATE"]: r for r in api.get(path, recent).json()}
    finally:
        emu.configure(conversions_pending_days=0)
    assert pending_rows["2025-05-30"] == final_rows["2025-05-30"]
    for day in ("2025-05-31", "2025-06-01"):
        assert pending_rows[day]["IMPRESSION_1"] == final_rows[day]["IMPRESSION_1"]
        assert pending_rows[day]["TOTAL_CONVERSIONS"] < final_rows[day]["TOTAL_CONVERSIONS"]
    assert api.get("/resources/metrics_ready_state", {"date": "2025-6-1"}).status_code == 400
    assert api.get("/resources/metrics_ready_state").status_code == 400
