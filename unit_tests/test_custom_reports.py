"""Custom reports from the config: stream naming, schema, request body, HOUR granularity, validation at check."""

from __future__ import annotations

import logging

import pytest
from airbyte_cdk.models import Status, SyncMode

from source_pinterest import SourcePinterest, limits
from source_pinterest.metrics.specs import ReportSpec
from source_pinterest.metrics.windows import Window
from source_pinterest.source import validated_config
from unit_tests.conftest import make_config, read_streams, records_of
from unit_tests.report_api import TODAY, FakeClock, ReportApi, day, install_fake_clock


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(limits, "today", lambda: TODAY)


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    return install_fake_clock(monkeypatch)


def custom(**overrides) -> dict:
    report = {
        "name": "My Spend-report",
        "level": "CAMPAIGN",
        "granularity": "DAY",
        "columns": ["SPEND_IN_DOLLAR", "CAMPAIGN_NAME", "TOTAL_CONVERSIONS"],
    }
    report.update(overrides)
    return report


def accounts(api, *ids: str) -> None:
    api.pages("ad_accounts", [[{"id": i, "name": i, "updated_time": 1} for i in ids]])


def streams_by_name(config) -> dict:
    return {s.name: s for s in SourcePinterest().streams(config)}


def test_custom_report_becomes_a_stream_named_after_it_with_a_schema_from_its_columns():
    stream = streams_by_name(make_config(custom_reports=[custom()]))["custom_my_spend_report"]

    assert stream.primary_key == ["DATE", "AD_ACCOUNT_ID", "CAMPAIGN_ID"]
    assert stream.cursor_field == "DATE"
    properties = stream.get_json_schema()["properties"]
    assert properties == {
        "DATE": {"type": ["null", "string"], "format": "date"},
        "AD_ACCOUNT_ID": {"type": ["null", "string"]},
        "CAMPAIGN_ID": {"type": ["null", "string"]},
        "SPEND_IN_DOLLAR": {"type": ["null", "number"]},
        "CAMPAIGN_NAME": {"type": ["null", "string"]},
        "TOTAL_CONVERSIONS": {"type": ["null", "number"]},
    }


def test_custom_report_body_carries_the_users_windows_including_zero_and_attribution_types(api, fake_clock):
    accounts(api, "1")
    reports = ReportApi(api, "1")
    report = custom(
        click_window_days=0,
        engagement_window_days=7,
        view_window_days=0,
        conversion_report_time="TIME_OF_CONVERSION",
        attribution_types=["HOUSEHOLD"],
        start_date=day(20),
    )

    output = read_streams(make_config(custom_reports=[report]), ["custom_my_spend_report"], SyncMode.incremental)

    (body,) = reports.bodies
    assert body == {
        "start_date": day(20),
        "end_date": day(0),
        "granularity": "DAY",
        "level": "CAMPAIGN",
        "columns": ["SPEND_IN_DOLLAR", "CAMPAIGN_NAME", "TOTAL_CONVERSIONS"],
        "click_window_days": 0,
        "engagement_window_days": 7,
        "view_window_days": 0,
        "conversion_report_time": "TIME_OF_CONVERSION",
        "attribution_types": ["HOUSEHOLD"],
        "report_format": "JSON",
    }
    (record,) = records_of(output, "custom_my_spend_report")
    assert record["CAMPAIGN_ID"] == "111" and record["AD_ACCOUNT_ID"] == "1"


def test_custom_report_look_back_defaults_to_its_largest_attribution_window(api, fake_clock):
    accounts(api, "1")
    reports = ReportApi(api, "1")
    report = custom(click_window_days=7, engagement_window_days=1, view_window_days=0)
    state = {"custom_my_spend_report": {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": day(3)}}]}}

    read_streams(make_config(custom_reports=[report]), ["custom_my_spend_report"], SyncMode.incremental, state)

    assert reports.bodies[0]["start_date"] == day(10)


def test_hourly_custom_report_reads_8_days_in_3_day_reports_with_the_hour_in_the_key(api, fake_clock):
    accounts(api, "1")

    def rows(body):
        return {"111": [{"DATE": f"{body['start_date']} 05:00:00", "SPEND_IN_DOLLAR": 0.5}]}

    reports = ReportApi(api, "1", rows=rows)
    config = make_config(custom_reports=[custom(granularity="HOUR", start_date="2024-01-01")])

    output = read_streams(config, ["custom_my_spend_report"])

    assert sorted((b["start_date"], b["end_date"], b["granularity"]) for b in reports.bodies) == [
        (day(7), day(5), "HOUR"),
        (day(4), day(2), "HOUR"),
        (day(1), day(0), "HOUR"),
    ]
    record = records_of(output, "custom_my_spend_report")[0]
    assert (record["DATE"], record["HOUR"]) == (f"{day(7)} 05:00:00", 5)
    stream = streams_by_name(config)["custom_my_spend_report"]
    assert stream.primary_key == ["DATE", "HOUR", "AD_ACCOUNT_ID", "CAMPAIGN_ID"]
    assert stream.get_json_schema()["properties"]["DATE"] == {"type": ["null", "string"]}
    assert any(
        "start_date 2024-01-01 is older than CAMPAIGN reports allow (8 days back)" in log.log.message
        for log in output.logs
    )


def test_targeting_custom_report_is_keyed_on_the_targeting_value(api, fake_clock):
    stream = streams_by_name(make_config(custom_reports=[custom(level="AD_GROUP_TARGETING")]))["custom_my_spend_report"]
    assert stream.primary_key == ["DATE", "AD_ACCOUNT_ID", "AD_GROUP_ID", "TARGETING_TYPE", "TARGETING_VALUE"]


@pytest.mark.parametrize(
    "types, expected_groups",
    [
        (
            ["MEDIA_TYPE", "GENDER", "KEYWORD", "GEO", "REGION", "LOCAL_ADS_STORE_CODE"],
            [["MEDIA_TYPE", "GENDER", "KEYWORD", "GEO", "REGION"], ["LOCAL_ADS_STORE_CODE"]],
        ),
        ([], None),  # every type the level takes, beta ones aside
    ],
    ids=["configured", "default"],
)
def test_targeting_custom_report_sends_its_types_in_reports_of_five(api, fake_clock, types, expected_groups):
    accounts(api, "1")
    reports = ReportApi(api, "1")
    report = custom(level="PRODUCT_ITEM_TARGETING", columns=["SPEND_IN_DOLLAR"], targeting_types=types)

    read_streams(make_config(start_date=day(3), custom_reports=[report]), ["custom_my_spend_report"])

    sent = [b["targeting_types"] for b in reports.bodies]
    if expected_groups is None:
        taken = [t for t in limits.TARGETING_TYPES_BY_LEVEL["PRODUCT_ITEM_TARGETING"] if t != "AGE_BUCKET_AND_GENDER"]
        assert sorted(t for group in sent for t in group) == sorted(taken) and "MEDIA_TYPE" in taken
        assert all(len(group) <= 5 for group in sent) and len(sent) == 3
    else:
        assert sorted(sent) == sorted(expected_groups)


@pytest.mark.parametrize(
    "report,expected",
    [
        (
            custom(level="PRODUCT_ITEM", columns=["SPEND_IN_DOLLAR", "AD_ID"]),
            "does not accept ad or Pin-promotion columns (AD_ID)",
        ),
        (custom(columns=["SPEND_IN_DOLLAR", "NOT_A_COLUMN"]), "unknown column(s) NOT_A_COLUMN"),
        (custom(click_window_days=3), "click_window_days"),
        (custom(start_date="2099-01-01"), "start_date 2099-01-01 is in the future"),
        (custom(level="SOMEWHERE"), "custom_reports.0.level"),
        (
            custom(level="AD_GROUP_TARGETING", targeting_types=["AUDIENCE_MULTIPLIER"]),
            "AUDIENCE_MULTIPLIER is not a targeting type of AD_GROUP_TARGETING reports",
        ),
    ],
)
def test_given_invalid_custom_report_when_check_then_config_error_before_any_api_call(api, report, expected):
    status = SourcePinterest().check(logging.getLogger("airbyte"), make_config(custom_reports=[report]))

    assert status.status == Status.FAILED
    assert expected in status.message
    assert api.mocker.request_history == []


def test_two_custom_reports_with_the_same_stream_name_are_refused(api):
    config = make_config(custom_reports=[custom(name="Spend"), custom(name="spend")])

    status = SourcePinterest().check(logging.getLogger("airbyte"), config)

    assert status.status == Status.FAILED
    assert "custom_spend" in status.message


def test_given_status_filters_then_the_report_request_carries_them_and_no_empty_filter():
    config = make_config(
        custom_reports=[
            custom(campaign_statuses=["RUNNING"], ad_group_statuses=None, ad_statuses=["PAUSED", "PENDING"])
        ]
    )
    (report,) = validated_config(config).custom_reports

    body = ReportSpec.from_custom(report).request_body(Window(TODAY, TODAY))

    assert body["campaign_statuses"] == ["RUNNING"]
    assert body["ad_statuses"] == ["PAUSED", "PENDING"]
    assert "ad_group_statuses" not in body and "product_group_statuses" not in body


def test_given_ad_statuses_on_a_product_item_report_then_check_names_the_report_and_the_field():
    config = make_config(
        custom_reports=[custom(level="PRODUCT_ITEM", columns=["SPEND_IN_DOLLAR"], ad_statuses=["PAUSED"])]
    )

    status, message = SourcePinterest().check_connection(logging.getLogger("test"), config)

    assert status is False
    assert "custom_reports.0" in message and "ad_statuses" in message
