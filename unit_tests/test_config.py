"""Config parsing: each bad field is a config error naming the field and what it accepts; nothing reaches the API."""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from airbyte_cdk.models import FailureType, Status, TraceType
from airbyte_cdk.test import entrypoint_wrapper
from airbyte_cdk.test.models import ExpectedOutcome
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest import SourcePinterest
from source_pinterest.config import EntityStatus, parse_config
from source_pinterest.run import PinterestEntrypoint
from unit_tests.conftest import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, make_config, read_streams

REPORT = {"name": "Spend", "columns": ["SPEND_IN_DOLLAR"]}
TOMORROW = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
WINDOWS = "0, 1, 7, 14, 30 or 60"


def credentials(**overrides: Any) -> dict[str, Any]:
    creds = {
        "auth_method": "oauth2.0",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
    }
    creds.update(overrides)
    return {key: value for key, value in creds.items() if value is not ...}


def report(**overrides: Any) -> dict[str, Any]:
    entry = {**REPORT, **overrides}
    return {key: value for key, value in entry.items() if value is not ...}


# id, config, the field named in the message, what the message says is allowed (or why it is refused)
BAD_CONFIGS = [
    ("credentials missing", {}, "credentials", "Field required"),
    ("credentials null", make_config(credentials=None), "credentials", "Input should be an object"),
    ("credentials a string", make_config(credentials="oauth2.0"), "credentials", "Input should be an object"),
    ("client_id missing", {"credentials": credentials(client_id=...)}, "credentials.client_id", "Field required"),
    (
        "client_secret missing",
        {"credentials": credentials(client_secret=...)},
        "credentials.client_secret",
        "Field required",
    ),
    (
        "refresh_token missing",
        {"credentials": credentials(refresh_token=...)},
        "credentials.refresh_token",
        "Field required",
    ),
    ("client_id empty", {"credentials": credentials(client_id="")}, "credentials.client_id", "at least 1 character"),
    (
        "client_secret empty",
        {"credentials": credentials(client_secret="")},
        "credentials.client_secret",
        "at least 1 character",
    ),
    (
        "refresh_token empty",
        {"credentials": credentials(refresh_token="")},
        "credentials.refresh_token",
        "at least 1 character",
    ),
    (
        "client_secret blank",
        {"credentials": credentials(client_secret="   ")},
        "credentials.client_secret",
        "not be blank",
    ),
    (
        "refresh_token blank",
        {"credentials": credentials(refresh_token="\t")},
        "credentials.refresh_token",
        "not be blank",
    ),
    ("client_id is an int", {"credentials": credentials(client_id=1234)}, "credentials.client_id", "valid string"),
    (
        "refresh_token is a list",
        {"credentials": credentials(refresh_token=[REFRESH_TOKEN])},
        "credentials.refresh_token",
        "valid string",
    ),
    (
        "auth_method unknown",
        {"credentials": credentials(auth_method="api_key")},
        "credentials.auth_method",
        "'oauth2.0'",
    ),
    ("start_date month 13", make_config(start_date="2024-13-01"), "start_date", "YYYY-MM-DD"),
    ("start_date US format", make_config(start_date="01/02/2024"), "start_date", "YYYY-MM-DD"),
    ("start_date a word", make_config(start_date="yesterday"), "start_date", "YYYY-MM-DD"),
    ("start_date a number", make_config(start_date=20240101), "start_date", "YYYY-MM-DD"),
    ("start_date with words", make_config(start_date="2024-01-01 noon"), "start_date", "YYYY-MM-DD"),
    ("start_date Feb 30", make_config(start_date="2024-02-30"), "start_date", "YYYY-MM-DD"),
    ("start_date tomorrow", make_config(start_date=TOMORROW), "start_date", "on or before today"),
    ("start_date far future", make_config(start_date="2999-01-01"), "start_date", "on or before today"),
    (
        "status unknown",
        make_config(status=["BOGUS"]),
        "status.0",
        "'ACTIVE', 'PAUSED', 'ARCHIVED', 'DRAFT' or 'DELETED_DRAFT'",
    ),
    ("status second unknown", make_config(status=["ACTIVE", "LIVE"]), "status.1", "'ARCHIVED'"),
    ("status lowercase", make_config(status=["active"]), "status.0", "'ACTIVE'"),
    ("status a string", make_config(status="ACTIVE"), "status", "Input should be a list"),
    ("account_id a number", make_config(account_id=123), "account_id", "valid string"),
    ("account_id not numeric", make_config(account_id="act_123"), "account_id", r"^\d{1,18}$"),
    ("account_id 19 digits", make_config(account_id="1" * 19), "account_id", r"^\d{1,18}$"),
    ("ad_account_ids with a name", make_config(ad_account_ids=["123", "shop"]), "ad_account_ids", "at most 18 digits"),
    ("num_workers 0", make_config(num_workers=0), "num_workers", "greater than or equal to 1"),
    ("num_workers 41", make_config(num_workers=41), "num_workers", "less than or equal to 40"),
    ("num_workers a word", make_config(num_workers="three"), "num_workers", "valid integer"),
    ("num_workers a fraction", make_config(num_workers=2.5), "num_workers", "valid integer"),
    ("num_workers true", make_config(num_workers=True), "num_workers", "valid integer"),
    (
        "lookback negative",
        make_config(attribution_lookback_days=-1),
        "attribution_lookback_days",
        "greater than or equal",
    ),
    (
        "lookback 91 days",
        make_config(attribution_lookback_days=91),
        "attribution_lookback_days",
        "less than or equal to 90",
    ),
    ("custom_reports an object", make_config(custom_reports=REPORT), "custom_reports", "Input should be a list"),
    ("report a string", make_config(custom_reports=["Spend"]), "custom_reports.0", "Input should be an object"),
    ("report without name", make_config(custom_reports=[report(name=...)]), "custom_reports.0.name", "Field required"),
    (
        "report name empty",
        make_config(custom_reports=[report(name="")]),
        "custom_reports.0.name",
        "at least 1 character",
    ),
    (
        "report name 101 characters",
        make_config(custom_reports=[report(name="x" * 101)]),
        "custom_reports.0.name",
        "at most 100 characters",
    ),
    (
        "report name with a slash",
        make_config(custom_reports=[report(name="spend/day")]),
        "custom_reports.0.name",
        "[A-Za-z0-9_ -]",
    ),
    (
        "report level unknown",
        make_config(custom_reports=[report(level="PIN")]),
        "custom_reports.0.level",
        "'PIN_PROMOTION'",
    ),
    (
        "report granularity unknown",
        make_config(custom_reports=[report(granularity="YEAR")]),
        "custom_reports.0.granularity",
        "'TOTAL', 'DAY', 'HOUR', 'WEEK' or 'MONTH'",
    ),
    (
        "report without columns",
        make_config(custom_reports=[report(columns=...)]),
        "custom_reports.0.columns",
        "Field required",
    ),
    (
        "report columns a string",
        make_config(custom_reports=[report(columns="SPEND_IN_DOLLAR")]),
        "custom_reports.0.columns",
        "Input should be a list",
    ),
    (
        "report empty columns",
        make_config(custom_reports=[report(columns=[])]),
        "custom_reports.0.columns",
        "at least 1 item",
    ),
    (
        "report unknown column",
        make_config(custom_reports=[report(columns=["SPEND_IN_DOLLAR", "SPEND_IN_EUROS"])]),
        "custom_reports.0.columns",
        "unknown column(s) SPEND_IN_EUROS; allowed are the async report columns",
    ),
    (
        "report duplicate column",
        make_config(custom_reports=[report(columns=["TOTAL_IMPRESSION", "TOTAL_IMPRESSION"])]),
        "custom_reports.0.columns",
        "listed twice",
    ),
    (
        "second report click window 2",
        make_config(custom_reports=[report(), report(name="Other", click_window_days=2)]),
        "custom_reports.1.click_window_days",
        WINDOWS,
    ),
    (
        "report view window 90",
        make_config(custom_reports=[report(view_window_days=90)]),
        "custom_reports.0.view_window_days",
        WINDOWS,
    ),
    (
        "report engagement window -1",
        make_config(custom_reports=[report(engagement_window_days=-1)]),
        "custom_reports.0.engagement_window_days",
        WINDOWS,
    ),
    (
        "report conversion time unknown",
        make_config(custom_reports=[report(conversion_report_time="NOW")]),
        "custom_reports.0.conversion_report_time",
        "'TIME_OF_AD_ACTION' or 'TIME_OF_CONVERSION'",
    ),
    (
        "report attribution type unknown",
        make_config(custom_reports=[report(attribution_types=["INDIVIDUAL", "DEVICE"])]),
        "custom_reports.0.attribution_types.1",
        "'INDIVIDUAL' or 'HOUSEHOLD'",
    ),
    (
        "report start_date Feb 30",
        make_config(custom_reports=[report(start_date="2024-02-30")]),
        "custom_reports.0.start_date",
        "YYYY-MM-DD",
    ),
    (
        "report start_date US format",
        make_config(custom_reports=[report(start_date="03/01/2024")]),
        "custom_reports.0.start_date",
        "YYYY-MM-DD",
    ),
    (
        "report view window a string",
        make_config(custom_reports=[report(view_window_days="7")]),
        "custom_reports.0.view_window_days",
        WINDOWS,
    ),
    (
        "report names differ only by case",
        make_config(custom_reports=[report(name="Spend"), report(name="spend")]),
        "custom_reports",
        "share the stream name custom_spend",
    ),
    (
        "report names differ only by dash",
        make_config(custom_reports=[report(name="daily spend"), report(name="daily-spend")]),
        "custom_reports",
        "share the stream name custom_daily_spend",
    ),
    (
        "targeting type of campaigns only, for advertisers",
        make_config(targeting_types={"advertiser_targeting_report": ["GENDER", "AUDIENCE_MULTIPLIER"]}),
        "targeting_types.advertiser_targeting_report",
        "AUDIENCE_MULTIPLIER is not a targeting type of ADVERTISER_TARGETING reports; it takes KEYWORD, APPTYPE",
    ),
    (
        "targeting type of live analytics only",
        make_config(targeting_types={"campaign_targeting_report": ["CREATIVE_TYPE"]}),
        "targeting_types.campaign_targeting_report",
        "CREATIVE_TYPE is not a targeting type of CAMPAIGN_TARGETING reports; it takes KEYWORD, APPTYPE",
    ),
    (
        "targeting type twice",
        make_config(targeting_types={"ad_group_targeting_report": ["GEO", "GEO"]}),
        "targeting_types.ad_group_targeting_report",
        "listed twice: GEO",
    ),
    (
        "report targeting type its level does not take",
        make_config(custom_reports=[report(level="CAMPAIGN_TARGETING", targeting_types=["MEDIA_TYPE"])]),
        "custom_reports.0",
        "targeting_types: MEDIA_TYPE is not a targeting type of CAMPAIGN_TARGETING reports",
    ),
    (
        "report targeting types at a level without targeting",
        make_config(custom_reports=[report(level="CAMPAIGN", targeting_types=["GENDER"])]),
        "custom_reports.0",
        "targeting_types: targeting types apply to *_TARGETING levels only, not to CAMPAIGN",
    ),
]


@pytest.mark.parametrize(
    "config,field,allowed", [case[1:] for case in BAD_CONFIGS], ids=[case[0] for case in BAD_CONFIGS]
)
def test_bad_config_is_a_config_error_naming_the_field_and_what_is_allowed(config, field, allowed):
    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(config)

    error = raised.value
    assert error.failure_type == FailureType.config_error
    assert f"{field}: " in error.message
    assert allowed in error.message
    for secret in (CLIENT_SECRET, REFRESH_TOKEN):
        assert secret not in error.message
        assert secret not in (error.internal_message or "")


@pytest.mark.parametrize("config", [case[1] for case in BAD_CONFIGS], ids=[case[0] for case in BAD_CONFIGS])
def test_given_bad_config_when_check_through_the_entrypoint_then_failed_with_no_http_call_and_no_traceback(api, config):
    output = run_check(config)

    assert api.mocker.request_history == []
    (status,) = [m.connectionStatus for m in output.connection_status_messages]
    assert status.status == Status.FAILED
    assert not any("Traceback" in text for text in printed_texts(output))
    assert not any(secret in text for text in printed_texts(output) for secret in (CLIENT_SECRET, REFRESH_TOKEN))


def test_given_config_the_spec_rejects_when_check_then_the_message_still_names_the_field_and_what_is_allowed(api):
    unclear = []
    for name, config, field, allowed in BAD_CONFIGS:
        (status,) = [m.connectionStatus for m in run_check(config).connection_status_messages]
        if f"{field}: " not in status.message or allowed not in status.message:
            unclear.append(f"{name}: {status.message}")

    assert unclear == []


@pytest.mark.parametrize(
    "config,field,allowed", [case[1:] for case in BAD_CONFIGS], ids=[case[0] for case in BAD_CONFIGS]
)
def test_given_bad_config_when_read_through_the_entrypoint_then_one_config_error_trace_and_no_http_call(
    api, config, field, allowed
):
    output = read_streams(config, ["boards", "campaigns"], expect_failure=True)

    assert api.mocker.request_history == [] and output.records == []
    (error,) = [m.trace.error for m in output.errors]
    assert error.failure_type == FailureType.config_error
    assert f"{field}: " in error.message and allowed in error.message
    assert not any("Traceback" in text for text in printed_texts(output))


@pytest.mark.parametrize(
    "config,expected_start",
    [
        (make_config(start_date="2015-01-01"), dt.date(2015, 1, 1)),
        (make_config(start_date=""), None),
        (make_config(start_date=None), None),
    ],
    ids=["older than any endpoint allows", "empty", "null"],
)
def test_start_dates_the_docs_promise_to_accept(config, expected_start):
    # Too old is not an error: each stream moves it up to what its endpoint allows, with a warning (see
    # test_analytics_streams and test_report_streams). Empty means "as far back as allowed".
    assert parse_config(config).start_date == expected_start


def test_an_old_custom_report_start_date_is_accepted_for_the_stream_to_clamp():
    (spend,) = parse_config(make_config(custom_reports=[report(start_date="2010-01-01")])).custom_reports

    assert spend.start_date == dt.date(2010, 1, 1)


def test_every_bad_field_of_one_config_is_listed_in_one_message():
    config = make_config(start_date="yesterday", num_workers=0, status=["NOPE"])

    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(config)

    assert all(f"{field}: " in raised.value.message for field in ("start_date", "num_workers", "status.0"))


def test_a_secret_with_the_wrong_type_is_not_echoed_back():
    secret_number = 987654321987
    with pytest.raises(AirbyteTracedException) as raised:
        parse_config({"credentials": credentials(client_secret=secret_number)})

    assert "credentials.client_secret" in raised.value.message
    assert str(secret_number) not in raised.value.message


def test_minimal_config_gets_the_documented_defaults():
    config = parse_config(make_config(custom_reports=[REPORT]))

    assert config.status == (EntityStatus.ACTIVE, EntityStatus.PAUSED)
    assert config.start_date is None
    assert config.num_workers == 20
    assert config.selected_ad_account_ids == ()
    (spend,) = config.custom_reports
    assert (spend.view_window_days, spend.click_window_days, spend.engagement_window_days) == (1, 30, 30)
    assert spend.level.value == "ADVERTISER" and spend.granularity.value == "DAY"
    assert spend.stream_name == "custom_spend"


@pytest.mark.parametrize("empty", [None, []], ids=["null", "empty list"])
def test_empty_status_means_active_and_paused(empty):
    assert parse_config(make_config(status=empty)).status == (EntityStatus.ACTIVE, EntityStatus.PAUSED)


def test_attribution_windows_accept_zero_days():
    config = parse_config(
        make_config(custom_reports=[report(view_window_days=0, click_window_days=0, engagement_window_days=0)])
    )

    (spend,) = config.custom_reports
    assert (spend.view_window_days, spend.click_window_days, spend.engagement_window_days) == (0, 0, 0)


@pytest.mark.parametrize("silent", [None, [], ...], ids=["null", "empty list", "left out"])
def test_a_window_the_config_is_silent_about_gets_pinterests_default(silent):
    windows = {"view_window_days": silent, "click_window_days": silent, "engagement_window_days": silent}

    (spend,) = parse_config(make_config(custom_reports=[report(**windows)])).custom_reports

    assert (spend.view_window_days, spend.click_window_days, spend.engagement_window_days) == (1, 30, 30)


@pytest.mark.parametrize("silent", [None, {}, {"campaign_targeting_report": None}, {"campaign_targeting_report": []}])
def test_targeting_types_the_config_is_silent_about_are_every_type_of_the_level(silent):
    config = parse_config(make_config(targeting_types=silent))

    assert config.targeting_types.of("campaign_targeting_report") == ()  # the stream's defaults (metrics/specs.py)


def test_targeting_types_a_level_takes_are_kept_in_their_order_and_may_be_more_than_five():
    types = ["MEDIA_TYPE", "GENDER", "KEYWORD", "GEO", "REGION", "AGE_BUCKET_AND_GENDER"]
    config = parse_config(
        make_config(
            targeting_types={"campaign_targeting_report": ["AUDIENCE_MULTIPLIER", "GENDER"]},
            custom_reports=[report(level="PRODUCT_ITEM_TARGETING", targeting_types=types)],
        )
    )

    assert config.targeting_types.of("campaign_targeting_report") == ("AUDIENCE_MULTIPLIER", "GENDER")
    assert config.targeting_types.of("ad_group_targeting_report") == ()
    assert config.custom_reports[0].targeting_types == tuple(types)


def test_good_values_are_parsed_into_types():
    config = parse_config(make_config(start_date="2024-02-29", status=["ARCHIVED"], num_workers=20))

    assert config.start_date == dt.date(2024, 2, 29)
    assert config.status == (EntityStatus.ARCHIVED,)
    assert config.num_workers == 20


def test_unknown_keys_from_other_connector_versions_are_tolerated():
    config = parse_config(
        make_config(
            credentials=credentials(access_token="old", token_expiry_date="2020-01-01T00:00:00Z"),
            some_future_option=True,
            custom_reports=[report(some_report_option="x")],
        )
    )

    assert config.credentials.client_id == CLIENT_ID
    assert config.custom_reports[0].name == "Spend"


@pytest.mark.parametrize(
    "account_id,ad_account_ids,expected",
    [
        (None, [], ()),
        ("1", [], ("1",)),
        (None, ["2", "3"], ("2", "3")),
        ("1", ["2", "3"], ("1", "2", "3")),
        ("2", ["2", "3"], ("2", "3")),
    ],
    ids=["none", "account_id only", "list only", "both merged", "account_id already listed"],
)
def test_selected_ad_accounts_merge_account_id_and_the_list_without_duplicates(account_id, ad_account_ids, expected):
    overrides = {"ad_account_ids": ad_account_ids}
    if account_id:
        overrides["account_id"] = account_id

    assert parse_config(make_config(**overrides)).selected_ad_account_ids == expected


# -- through the real entrypoint ---------------------------------------------------------------------------------

# Bad only by this connector's rules (the spec's JSON schema accepts them), so the connector's own parsing answers.
SPEC_REPORT = {**REPORT, "level": "ADVERTISER", "granularity": "DAY"}  # the spec requires level and granularity
ENTRYPOINT_CASES = [
    ("future start_date", make_config(start_date=TOMORROW), "start_date"),
    (
        "report start_date Feb 30",
        make_config(custom_reports=[{**SPEC_REPORT, "start_date": "2024-02-30"}]),
        "custom_reports.0.start_date",
    ),
    (
        "duplicate report names",
        make_config(custom_reports=[SPEC_REPORT, {**SPEC_REPORT, "name": "spend"}]),
        "custom_reports",
    ),
]


def printed_texts(output) -> list[str]:
    """What a user reads: log lines, error and status messages (a trace's stack_trace field is for support)."""
    texts = [m.log.message for m in output.logs]
    for error in (m.trace.error for m in output.errors):
        texts += [error.message, error.internal_message or ""]
    texts += [m.connectionStatus.message or "" for m in output.connection_status_messages]
    return texts


def run_check(config: dict[str, Any]):
    """`check` through the connector's own entrypoint (run.py), as the CLI, the Docker image and PyAirbyte run it."""
    with (
        tempfile.TemporaryDirectory() as directory,
        mock.patch.object(entrypoint_wrapper, "AirbyteEntrypoint", PinterestEntrypoint),
    ):
        path = Path(directory) / "config.json"
        path.write_text(json.dumps(config))
        return entrypoint_wrapper._run_command(
            SourcePinterest(), ["check", "--config", str(path)], expected_outcome=ExpectedOutcome.EXPECT_EXCEPTION
        )


@pytest.mark.parametrize("config,field", [c[1:] for c in ENTRYPOINT_CASES], ids=[c[0] for c in ENTRYPOINT_CASES])
def test_given_bad_config_when_read_then_config_error_trace_and_no_http_call(api, config, field):
    output = read_streams(config, ["campaigns", "boards"], expect_failure=True)

    assert api.mocker.request_history == []
    assert output.records == []
    errors = [m.trace.error for m in output.errors]
    assert errors, "a config error trace is expected"
    assert errors[-1].failure_type == FailureType.config_error
    assert f"{field}: " in errors[-1].message
    assert CLIENT_SECRET not in errors[-1].message


@pytest.mark.parametrize("config,field", [c[1:] for c in ENTRYPOINT_CASES], ids=[c[0] for c in ENTRYPOINT_CASES])
def test_given_bad_config_when_check_then_failed_status_naming_the_field_and_no_http_call(api, config, field):
    output = run_check(config)

    assert api.mocker.request_history == []
    (status,) = [m.connectionStatus for m in output.connection_status_messages]
    assert status.status == Status.FAILED
    assert f"{field}: " in status.message
    assert CLIENT_SECRET not in status.message


def test_given_bad_config_when_check_called_directly_then_failed_without_http(api):
    status = SourcePinterest().check(logging.getLogger("airbyte"), make_config(num_workers=0))

    assert status.status == Status.FAILED
    assert "num_workers: " in status.message
    assert api.mocker.request_history == []


def test_given_config_breaking_the_spec_when_read_then_config_error_naming_the_field_and_no_http_call(api):
    # The connector's own parser answers (not the CDK's JSON-schema check, which would quote the bad value).
    output = read_streams(make_config(num_workers="three"), ["boards"], expect_failure=True)

    assert api.mocker.request_history == []
    traces = [m.trace for m in output.trace_messages if m.trace.type == TraceType.ERROR]
    assert traces and traces[-1].error.failure_type == FailureType.config_error
    assert "num_workers: " in traces[-1].error.message
    assert "three" not in traces[-1].error.message


@pytest.mark.parametrize("content", ["[1, 2]", "{not json", '"a string"'])
def test_given_a_config_file_that_is_not_a_json_object_then_a_config_error_names_the_file(tmp_path, content):
    path = tmp_path / "config.json"
    path.write_text(content)

    with pytest.raises(AirbyteTracedException) as raised:
        SourcePinterest.read_config(str(path))

    assert raised.value.failure_type == FailureType.config_error
    assert raised.value.message.startswith("Invalid configuration file: ") and str(path) in raised.value.message


# -- configs written for Airbyte's own Pinterest connector ---------------------------------------------------------

AIRBYTE_REPORT = {
    "name": "spend by day",
    "level": "ADVERTISER",
    "granularity": "TOTAL",
    "columns": ["SPEND_IN_DOLLAR", "TOTAL_IMPRESSION"],
    "click_window_days": 30,
    "engagement_window_days": [30],  # saved as a list by some of its versions
    "view_window_days": [30],
    "conversion_report_time": "TIME_OF_AD_ACTION",
    "attribution_types": ["INDIVIDUAL", "HOUSEHOLD"],
    "campaign_statuses": ["RUNNING", "PAUSED"],
    "ad_group_statuses": None,
    "ad_statuses": [],
}

# id, the config, what the parsed config holds
AIRBYTE_CONFIGS = [
    ("status null", make_config(status=None), lambda c: c.status == (EntityStatus.ACTIVE, EntityStatus.PAUSED)),
    ("status empty", make_config(status=[]), lambda c: c.status == (EntityStatus.ACTIVE, EntityStatus.PAUSED)),
    ("status archived", make_config(status=["ARCHIVED"]), lambda c: c.status == (EntityStatus.ARCHIVED,)),
    ("account_id", make_config(account_id="549755885175"), lambda c: c.selected_ad_account_ids == ("549755885175",)),
    ("num_workers 40", make_config(num_workers=40), lambda c: c.num_workers == 40),
    ("start_date", make_config(start_date="2022-07-28"), lambda c: c.start_date == dt.date(2022, 7, 28)),
    (
        "start_date with a time",
        make_config(start_date="2022-07-28T00:00:00Z"),
        lambda c: c.start_date == dt.date(2022, 7, 28),
    ),
    (
        "credentials at the top level",
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN},
        lambda c: (c.credentials.client_id, c.credentials.refresh_token) == (CLIENT_ID, REFRESH_TOKEN),
    ),
    (
        "credentials with an access token and its expiry",
        make_config(credentials=credentials(access_token="x", token_expiry_date="2026-01-01T00:00:00Z")),
        lambda c: c.credentials.refresh_token == REFRESH_TOKEN,
    ),
    (
        "a custom report with its defaults, list windows and status filters",
        make_config(custom_reports=[AIRBYTE_REPORT]),
        lambda c: (
            c.custom_reports[0].engagement_window_days,
            c.custom_reports[0].view_window_days,
            c.custom_reports[0].status_filters,
        )
        == (30, 30, {"campaign_statuses": ["RUNNING", "PAUSED"]}),
    ),
]


@pytest.mark.parametrize("config, holds", [c[1:] for c in AIRBYTE_CONFIGS], ids=[c[0] for c in AIRBYTE_CONFIGS])
def test_given_a_config_of_airbytes_connector_then_it_is_accepted_as_meant(config, holds):
    assert holds(parse_config(config))


@pytest.mark.parametrize(
    "overrides, field, says",
    [
        ({"columns": []}, "custom_reports.0.columns", "at least 1 item"),
        ({"campaign_statuses": ["RUNNING"] * 2}, "custom_reports.0.campaign_statuses", "listed twice"),
        ({"ad_statuses": ["RUNNING"]}, "custom_reports.0.ad_statuses.0", "APPROVED"),
        (
            {
                "campaign_statuses": [
                    "RUNNING",
                    "PAUSED",
                    "NOT_STARTED",
                    "COMPLETED",
                    "ARCHIVED",
                    "DRAFT",
                    "DELETED_DRAFT",
                ]
            },
            "custom_reports.0.campaign_statuses",
            "at most 6",
        ),
        ({"view_window_days": [30, 7]}, "custom_reports.0.view_window_days", WINDOWS),
    ],
    ids=["no columns", "a status twice", "an ad status of campaigns", "seven statuses", "two windows"],
)
def test_given_an_airbyte_config_this_connector_cannot_honour_then_the_error_names_the_field(overrides, field, says):
    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(make_config(custom_reports=[{**AIRBYTE_REPORT, **overrides}]))

    assert raised.value.failure_type == FailureType.config_error
    assert f"{field}: " in raised.value.message and says in raised.value.message, raised.value.message
