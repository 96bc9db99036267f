"""The benchmark's minimum-call arithmetic: pages, date windows, id batches, report jobs and the wall-time bound."""

import datetime as dt

import pytest

from pinterest_emulator.bench_minimum import (
    DOWNLOAD,
    READINESS,
    TOKEN,
    Metrics,
    SyncRange,
    lower_bound_seconds,
    minimum_calls,
    pages,
    window_ends,
)

TODAY = dt.date(2025, 6, 1)
EPOCH_TODAY = int(dt.datetime(2025, 6, 1, tzinfo=dt.UTC).timestamp())


@pytest.mark.parametrize("count, expected", [(0, 1), (1, 1), (250, 1), (251, 2), (500, 2), (60_000, 240)])
def test_pages_of_250_and_one_call_for_an_empty_list(count, expected):
    assert pages(count) == expected


@pytest.mark.parametrize(
    "days, max_days, expected_windows",
    [(1, 90, 1), (90, 90, 1), (91, 90, 2), (90, 31, 3), (31, 31, 1), (32, 31, 2), (914, 186, 5)],
)
def test_windows_cover_the_range_in_requests_of_at_most_max_days(days, max_days, expected_windows):
    start = TODAY - dt.timedelta(days=days - 1)
    ends = window_ends(start, TODAY, max_days)
    assert len(ends) == expected_windows and ends[-1] == TODAY


def fake_truth(campaigns: int = 251, new_campaigns: int = 0, **overrides):
    """One ad account, two boards (one with 260 pins and a section of 3), 300 pins, a catalog."""
    old, new = EPOCH_TODAY - 86_400 * 100, EPOCH_TODAY + 86_400
    records = {
        "user_account": [{"id": "u1"}],
        "boards": [{"id": "b1"}, {"id": "b2"}],
        "board_sections": [{"id": "s1", "board_id": "b1"}],
        "board_pins": [{"board_id": "b1"}] * 260,
        "board_section_pins": [{"board_section_id": "s1"}] * 3,
        "pins": [{"created_at": "2024-01-01T00:00:00"}] * 290 + [{"created_at": "2025-06-02T10:00:00"}] * 10,
        "ad_accounts": [{"id": "a1", "owner": {"id": "u1"}, "permissions": ["OWNER"]}],
        "campaigns": [{"id": f"c{n}", "ad_account_id": "a1", "created_time": old} for n in range(campaigns)]
        + [{"id": f"new{n}", "ad_account_id": "a1", "created_time": new} for n in range(new_campaigns)],
        "ad_groups": [{"id": "g1", "ad_account_id": "a1", "created_time": old}],
        "ads": [],
        "audiences": [{"ad_account_id": "a1", "ownership_type": "OWNED"}] * 3,
        "customer_lists": [],
        "lead_forms": [{"ad_account_id": "a1"}] * 251,
        "keywords": [{"parent_id": "a1"}, {"parent_id": "g1"}, {"parent_id": "g1"}, {"parent_id": "c0"}],
        "catalogs": [{}],
        "catalogs_feeds": [{}, {}],
        "catalogs_product_groups": [],
        **overrides,
    }
    return lambda stream, statuses: records[stream]


METRICS = Metrics(
    analytics={"ad_account_analytics": None, "campaign_analytics": "campaigns"},
    reports={"campaign_report": ("CAMPAIGN", 1), "item_report": ("PRODUCT_ITEM", 1), "targeting": ("CAMPAIGN", 2)},
)
NINETY_DAYS = SyncRange(TODAY, TODAY - dt.timedelta(days=89))


def test_full_sync_minimum_per_stream():
    plan = minimum_calls(fake_truth(), METRICS, NINETY_DAYS, report_polls=1)
    assert plan.per_stream() == {
        TOKEN: 1,
        "user_account": 1,
        "boards": 1,
        "board_sections": 2,  # one call per board, even for a board without sections
        "board_pins": 2 + 1,
        "board_section_pins": 1,
        "pins": 2,
        "ad_accounts": 1,
        "campaigns": 2,
        "ad_groups": 1,
        "ads": 1,
        "audiences": 1 + 1,  # owned, then received (an empty listing still costs its call)
        "customer_lists": 1,
        "lead_forms": 2,
        "conversion_tags": 1,
        "keywords": 1 + 251 + 1,  # the account's own, then every campaign's (of every status), then the ad group's
        "catalogs": 1,
        "catalogs_feeds": 1,
        "catalogs_product_groups": 1,
        "user_account_analytics": 1,
        "pin_analytics": 3,  # 290 pins existed by the window's end, 100 a call; 10 are created after it
        "user_account_top_pins": 5,  # one call per sort_by
        "user_account_top_video_pins": 9,
        "ad_account_analytics": 1,
        "campaign_analytics": 2,  # 251 ids in batches of 250
        # create + 2 polls (the second answers FINISHED) + the download, per report
        "campaign_report": 1 * 4,
        "item_report": 3 * 4,  # 90 days in windows of 31
        "targeting": 2 * 4,  # two targeting-type groups per window
        READINESS: 1,  # once per sync for every ads metrics stream: today is final
    }
    assert plan.per_category()[DOWNLOAD] == 1 + 3 + 2
    # token, then the pins listing (2 pages) or boards (1) + board b1's pins (2) are the longest chains
    assert plan.chain == 1 + max(2, 1 + 2, 1 + 4)


def test_entities_created_after_a_window_need_no_analytics_call_for_it():
    plan = minimum_calls(fake_truth(campaigns=250, new_campaigns=5), METRICS, NINETY_DAYS, report_polls=1)
    assert plan.per_stream()["campaign_analytics"] == 1


def test_incremental_reads_the_lookback_only_and_the_goal_prices_a_listing_at_one_page():
    incremental = SyncRange(TODAY, TODAY - dt.timedelta(days=89), incremental=True, lookback_days=30)
    plan = minimum_calls(fake_truth(), METRICS, incremental, report_polls=1)
    goal = minimum_calls(fake_truth(), METRICS, incremental, report_polls=1, one_page_per_listing=True)
    assert plan.per_stream()["item_report"] == 1 * 4  # 31 days: one PRODUCT_ITEM window
    assert plan.per_stream()["pins"] == 2 and goal.per_stream()["pins"] == 1
    assert plan.per_stream()["pin_analytics"] == 3  # one 31-day window of the look-back
    assert plan.per_stream()["user_account_top_pins"] == 5  # a full refresh: the same every sync
    assert goal.per_stream()["campaign_analytics"] == plan.per_stream()["campaign_analytics"]


PRODUCT_GROUP_METRICS = Metrics(
    analytics={"product_group_analytics": "catalogs_product_groups"}, reports={}, user_account_analytics=False
)


def test_each_ad_account_is_asked_about_its_owners_product_groups_250_a_call():
    accounts = [
        {"id": "a1", "owner": {"id": "u1"}, "permissions": ["OWNER"]},
        {"id": "a2", "owner": {"id": "u1"}, "permissions": ["OWNER"]},
        {"id": "p1", "owner": {"id": "partner"}, "permissions": ["ADMIN"]},
    ]
    groups = [{"id": f"g{n}", "business_access_ad_account_id": None} for n in range(300)]
    groups += [{"id": f"pg{n}", "business_access_ad_account_id": "p1"} for n in range(3)]
    truth = fake_truth(ad_accounts=accounts, catalogs_product_groups=groups)

    plan = minimum_calls(truth, PRODUCT_GROUP_METRICS, NINETY_DAYS, report_polls=1)

    assert plan.per_stream()["product_group_analytics"] == 2 + 2 + 1  # the user's two accounts, then the partner's


def test_without_a_catalog_product_group_analytics_need_no_call():
    plan = minimum_calls(fake_truth(catalogs_product_groups=[]), PRODUCT_GROUP_METRICS, NINETY_DAYS, report_polls=1)

    assert plan.per_stream().get("product_group_analytics", 0) == 0


@pytest.mark.parametrize(
    "calls, limit, latency, chain, expected",
    [
        ({"ads_read": 1000}, 1000, 0.1, 5, 60 * 0 + 0.1 * 5),  # fits in the first window: the chain decides
        ({"ads_read": 1001}, 1000, 0.1, 5, 60 * 1 + 0.1),  # the 1001st call waits for the second window
        ({"ads_read": 3100}, 1000, 0.0, 5, 60 * 3),
        ({"download": 10_000}, 1000, 0.1, 2, 0.2),  # downloads have no rate limit
    ],
)
def test_lower_bound(calls, limit, latency, chain, expected):
    seconds, _ = lower_bound_seconds(calls, {"ads_read": limit}, chain, latency)
    assert seconds == pytest.approx(expected)


def test_a_start_beyond_what_an_endpoint_reaches_counts_today_among_its_days():
    today = dt.date(2026, 12, 2)
    dates = SyncRange(today, today - dt.timedelta(days=185))

    assert dates.first_day(90) == today - dt.timedelta(days=89)
    assert len(window_ends(dates.first_day(90), today, 90)) == 1  # the whole live history is one 90-day call
    assert len(window_ends(dates.first_day(914), today, 186)) == 1


def test_an_incremental_sync_after_a_finished_one_reads_the_look_back_of_every_metrics_stream_again():
    incremental = SyncRange(TODAY, TODAY - dt.timedelta(days=89), incremental=True)
    full = SyncRange(TODAY, TODAY - dt.timedelta(days=89))

    plan = minimum_calls(fake_truth(), METRICS, incremental, report_polls=1)

    assert incremental.first_day(90) == TODAY - dt.timedelta(days=30)
    assert (
        plan.per_stream()["campaign_analytics"]
        == minimum_calls(fake_truth(), METRICS, full, report_polls=1).per_stream()["campaign_analytics"]
    )  # one call per id batch and window, however many days the window has
    assert plan.per_stream()["pins"] == 2  # the listings are read again all the same


def test_an_incremental_sync_just_after_the_last_one_reads_no_metrics():
    just_after = SyncRange(TODAY, TODAY - dt.timedelta(days=89), incremental=True, just_after=True)

    plan = minimum_calls(fake_truth(), METRICS, just_after, report_polls=1)

    assert plan.per_stream().get("campaign_analytics", 0) == 0 and plan.per_stream().get("item_report", 0) == 0
    assert READINESS not in plan.per_stream()  # no ads metrics read: readiness is not asked
    assert plan.per_stream()["pins"] == 2  # the listings are read again all the same


def test_the_rankings_priced_are_the_connectors_sort_orders():
    from pinterest_emulator.bench import connector_metrics
    from pinterest_emulator.bench_minimum import TOP_PINS_CALLS

    assert connector_metrics().top_pins == TOP_PINS_CALLS
    assert "pin_analytics" not in connector_metrics(frozenset({"user_account_top_pins"})).top_pins
    assert connector_metrics(frozenset({"pin_analytics"})).pin_analytics is False


def test_the_benchmark_prices_each_targeting_report_at_one_job_per_five_types_of_its_level():
    from pinterest_emulator import sample_config
    from pinterest_emulator.bench import connector_metrics
    from pinterest_emulator.levels import TARGETING_TYPES

    default = connector_metrics().reports
    configured = connector_metrics(
        config={**sample_config(), "targeting_types": {"campaign_targeting_report": ["GENDER"]}}
    ).reports

    # Every type the emulator (as the OpenAPI) lets the level take, the beta AGE_BUCKET_AND_GENDER aside, 5 a job.
    for name, (level, jobs) in default.items():
        expected = -(-(len(TARGETING_TYPES[level]) - 1) // 5) if level.endswith("_TARGETING") else 1
        assert jobs == expected, name
    assert default["campaign_targeting_report"] == ("CAMPAIGN_TARGETING", 3)  # 15 types
    assert default["campaign_analytics_report"] == ("CAMPAIGN", 1)
    assert configured["campaign_targeting_report"] == ("CAMPAIGN_TARGETING", 1)
    assert configured["ad_group_targeting_report"] == default["ad_group_targeting_report"]


def test_targeting_jobs_multiply_the_report_calls_of_every_window_and_account():
    one = Metrics(analytics={}, reports={"targeting": ("CAMPAIGN_TARGETING", 1)}, user_account_analytics=False)
    three = Metrics(analytics={}, reports={"targeting": ("CAMPAIGN_TARGETING", 3)}, user_account_analytics=False)
    full = SyncRange(TODAY, TODAY - dt.timedelta(days=400))  # 3 windows of 186 days

    calls = [minimum_calls(fake_truth(), m, full, report_polls=1) for m in (one, three)]

    assert [c.per_stream()["targeting"] for c in calls] == [3 * 4, 3 * 3 * 4]  # create, 2 polls, download
    assert [c.per_category()[DOWNLOAD] for c in calls] == [3, 9]


def test_catalogs_cost_one_listing_for_the_user_and_one_per_other_owner_with_a_catalog_role():
    accounts = [
        {"id": "a1", "owner": {"id": "u1"}, "permissions": ["OWNER"]},
        {"id": "a2", "owner": {"id": "p1"}, "permissions": ["ANALYST"]},  # no role that reads catalogs
        {"id": "a3", "owner": {"id": "p1"}, "permissions": ["ADMIN"]},
        {"id": "a4", "owner": {"id": "p1"}, "permissions": ["CATALOGS_MANAGER"]},  # p1 again: listed through a3
        {"id": "a5", "owner": {"id": "p2"}, "permissions": ["CATALOGS_MANAGER"]},
    ]
    catalogs = [{}] + [{"business_access_ad_account_id": "a3"}] * 251
    truth = fake_truth(ad_accounts=accounts, catalogs=catalogs, catalogs_product_groups=[])

    plan = minimum_calls(truth, METRICS, NINETY_DAYS, report_polls=1)

    assert plan.per_stream()["catalogs"] == 1 + 2 + 1  # own, a3's two pages, a5's empty listing
    assert plan.per_stream()["catalogs_product_groups"] == 1 + 1 + 1


def test_received_audiences_cost_pages_per_receiving_account():
    accounts = [{"id": "a1", "owner": {"id": "u1"}}, {"id": "a2", "owner": {"id": "u1"}}]
    received = [{"ad_account_id": "x9", "ownership_type": "RECEIVED", "shared_with_ad_account_id": "a2"}] * 260

    plan = minimum_calls(fake_truth(ad_accounts=accounts, audiences=received), METRICS, NINETY_DAYS, report_polls=1)

    assert plan.per_stream()["audiences"] == (1 + 1) + (1 + 2)  # a1: both empty; a2: none owned, 260 received
