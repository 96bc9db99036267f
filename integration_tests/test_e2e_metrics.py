"""Metrics streams through the real CLI against the emulator: live analytics, async reports and custom reports.

One full sync of every metrics stream (a three-week window, so the module stays quick) is compared row by row and
value by value with the emulator's ground truth; archived entities' spend is counted although the status filter
hides the entities themselves; an incremental sync after restated conversions re-emits the restated rows inside
the look-back; report jobs that fail, expire or hang are re-created a bounded number of times, then fail only
their own stream with a clear message.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from integration_tests.conftest import Connector, truth
from pinterest_emulator import Emulator, sample_config
from pinterest_emulator.sync_runner import ConnectorRun, state_for_next_run
from source_pinterest.config import parse_config
from source_pinterest.metrics.specs import ReportSpec, configured_report_streams

DAYS_BACK = 20  # start_date is today - 20: three weeks of metrics per stream

LIVE_LEVELS = {
    "ad_account_analytics": "AD_ACCOUNT",
    "campaign_analytics": "CAMPAIGN",
    "ad_group_analytics": "AD_GROUP",
    "ad_analytics": "AD",
    "product_group_analytics": "PRODUCT_GROUP",
}
# The id columns of live rows: the connector asks for every live column, these included.
LIVE_ID_COLUMNS = "AD_ACCOUNT_ID,ADVERTISER_ID,CAMPAIGN_ID,AD_GROUP_ID,AD_ID,PIN_ID,PIN_PROMOTION_ID"
REPORT_LEVELS = {
    "campaign_analytics_report": "CAMPAIGN",
    "campaign_targeting_report": "CAMPAIGN_TARGETING",
    "advertiser_report": "ADVERTISER",
    "advertiser_targeting_report": "ADVERTISER_TARGETING",
    "ad_group_report": "AD_GROUP",
    "ad_group_targeting_report": "AD_GROUP_TARGETING",
    "pin_promotion_report": "PIN_PROMOTION",
    "pin_promotion_targeting_report": "PIN_PROMOTION_TARGETING",
    "product_group_report": "PRODUCT_GROUP",
    "product_group_targeting_report": "PRODUCT_GROUP_TARGETING",
    "product_item_report": "PRODUCT_ITEM",
    "keyword_report": "KEYWORD",
}
CUSTOM_REPORTS = [
    {
        "name": "Daily campaign conversions",
        "level": "CAMPAIGN",
        "columns": ["SPEND_IN_MICRO_DOLLAR", "TOTAL_IMPRESSION", "TOTAL_CONVERSIONS", "TOTAL_CHECKOUT"],
        "click_window_days": 7,
    },
    {
        "name": "hourly-ad-groups",
        "level": "AD_GROUP",
        "granularity": "HOUR",
        "columns": ["SPEND_IN_MICRO_DOLLAR", "TOTAL_CLICKTHROUGH", "AD_GROUP_ID"],
    },
]
CUSTOM_DAILY, CUSTOM_HOURLY = "custom_daily_campaign_conversions", "custom_hourly_ad_groups"
METRICS_STREAMS = ("user_account_analytics", *LIVE_LEVELS, *REPORT_LEVELS, CUSTOM_DAILY, CUSTOM_HOURLY)
HOURLY_DAYS_BACK = 8  # HOUR reports reach 8 days back: today and the 7 days before it

# The operator setting (source_pinterest/metrics/jobs.py) that abandons a hung report job after 1.5 s, not 30 min;
# all attempts of one report then get 6 s, ample for a third job that finishes at its first poll.
FAST_REPORTS = {"PINTEREST_REPORT_JOB_DEADLINE_SECONDS": "1.5"}


def days_ago(today: dt.date, days: int) -> str:
    return (today - dt.timedelta(days=days)).isoformat()


def metrics_config(today: dt.date, **extra: Any) -> dict:
    return {**sample_config(), "start_date": days_ago(today, DAYS_BACK), "custom_reports": CUSTOM_REPORTS, **extra}


def every_targeting_type(spec: ReportSpec) -> str:
    """What a targeting stream asks for over its reports of one window (one per 5 types): the truth is their union."""
    return ",".join(t for group in spec.targeting_groups for t in group)


def expected_rows(emulator: Emulator, stream: str, start: str, end: str, config: dict | None = None) -> list[dict]:
    """The emulator's ground truth for one metrics stream and date range, shaped like the connector's records;
    targeting reports with the targeting types `config` (default: the module's) gives them."""
    specs = {s.name: s for s in configured_report_streams(parse_config(config or metrics_config(emulator.state.today)))}
    if stream == "user_account_analytics":
        return emulator.truth(stream, start_date=start, end_date=end)["all"]["daily_metrics"]
    if stream in LIVE_LEVELS:
        query = {"level": LIVE_LEVELS[stream], "id_columns": LIVE_ID_COLUMNS}
    elif stream in REPORT_LEVELS:
        # Which columns a report stream asks for is the connector's choice; the truth is asked for the same ones.
        spec = specs[stream]
        query = {"level": REPORT_LEVELS[stream], "columns": ",".join(spec.request_columns)}
        if spec.targeting:
            query["targeting_types"] = every_targeting_type(spec)
    else:
        spec = specs[stream]
        query = {"level": spec.level.value, "columns": ",".join(spec.columns), "granularity": spec.granularity.value}
        if spec.targeting:
            query["targeting_types"] = every_targeting_type(spec)
    rows = emulator.truth("analytics" if stream in LIVE_LEVELS else "report", start_date=start, end_date=end, **query)
    rows = [{key: str(v) if key.endswith("_ID") else v for key, v in row.items()} for row in rows["rows"]]
    if query.get("granularity") == "HOUR":
        rows = [{**row, "HOUR": int(row["DATE"][11:13])} for row in rows]  # the connector keys hours by HOUR
    return rows


def keyed(rows: list[dict], primary_key: list[str], stream: str) -> dict[tuple, dict]:
    by_key: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row.get(field) for field in primary_key)
        assert None not in key, f"{stream}: a row lacks a primary key field {primary_key}: {row}"
        assert key not in by_key, f"{stream}: duplicate rows for {dict(zip(primary_key, key, strict=True))}"
        by_key[key] = row
    return by_key


def assert_rows_equal_truth(stream: str, records: list[dict], expected: list[dict], primary_key: list[str]) -> None:
    """Same primary keys (none missing, none extra, no duplicates) and, per key, exactly the same fields and values."""
    got, want = keyed(records, primary_key, stream), keyed(expected, primary_key, stream)
    missing, extra = set(want) - set(got), set(got) - set(want)
    assert not missing and not extra, (
        f"{stream}: {len(missing)} missing, e.g. {sorted(missing)[:2]}; {len(extra)} extra"
    )
    for key, row in want.items():
        assert got[key] == row, f"{stream} {key}: {got[key]} != {row}"


def primary_keys(connector: Connector, streams=METRICS_STREAMS) -> dict[str, list[str]]:
    """Each stream's primary key as the connector declares it in its catalog (one field per key part)."""
    return {s["stream"]["name"]: [p[0] for p in s["primary_key"]] for s in connector.catalog(streams)["streams"]}


# -- one full sync of every metrics stream ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def metrics_emulator() -> Iterator[Emulator]:
    # Reports finish at the first poll here; the fault tests below make them wait (report_polls, report_hang).
    with Emulator(seed=7, size="small", report_polls=0) as emu:
        yield emu


@pytest.fixture(scope="module")
def connector(metrics_emulator: Emulator) -> Connector:
    connector = Connector(metrics_emulator)
    connector.config = metrics_config(metrics_emulator.state.today)
    return connector


@pytest.fixture(scope="module")
def full_sync(metrics_emulator: Emulator, connector: Connector) -> tuple[ConnectorRun, dict]:
    """The sync and the emulator's stats for it (taken before any test injects faults)."""
    metrics_emulator.reset_stats()
    run = connector.read(METRICS_STREAMS)
    return run, metrics_emulator.stats()


@pytest.fixture(scope="module")
def sync(full_sync) -> ConnectorRun:
    return full_sync[0]


def test_given_every_metrics_stream_when_synced_then_the_sync_completes_and_saves_state_per_stream(sync):
    assert sync.returncode == 0, (sync.errors(), sync.stderr[-2000:])
    assert sync.errors() == []
    for stream in METRICS_STREAMS:
        assert sync.stream_statuses(stream)[-1] == "COMPLETE", stream
        assert sync.final_states().get(stream), f"{stream}: no state emitted"


@pytest.mark.parametrize("stream", METRICS_STREAMS)
def test_given_three_weeks_of_metrics_when_synced_then_every_row_and_value_equals_the_ground_truth(
    metrics_emulator, connector, sync, stream
):
    today = metrics_emulator.state.today
    # HOUR reports reach 8 days back: the configured start_date is moved up for the hourly custom report.
    start = days_ago(today, HOURLY_DAYS_BACK - 1 if stream == CUSTOM_HOURLY else DAYS_BACK)
    expected = expected_rows(metrics_emulator, stream, start, today.isoformat())
    records = sync.records(stream)

    assert expected, f"the emulator has no {stream} rows: the comparison would prove nothing"
    assert_rows_equal_truth(stream, records, expected, primary_keys(connector)[stream])
    not_strings = [
        (k, v) for record in records for k, v in record.items() if k.endswith("_ID") and not isinstance(v, str)
    ]
    assert not not_strings, f"{stream}: ids that are not strings, e.g. {not_strings[:3]}"


def test_given_metric_states_when_full_sync_ends_then_every_ad_account_cursor_is_today(metrics_emulator, sync):
    accounts = {str(a["id"]) for a in truth(metrics_emulator, "ad_accounts")}
    today = metrics_emulator.state.today.isoformat()
    generations = set()
    for stream in METRICS_STREAMS:
        state = dict(sync.final_states()[stream])
        generations.add(state.pop("pass_generation"))
        if stream == "user_account_analytics":
            assert state == {"date": today}
            continue
        cursors = {s["partition"]["ad_account_id"]: s["cursor"]["DATE"] for s in state["states"]}
        assert cursors == dict.fromkeys(accounts, today), stream
        assert not any("pass_start" in entry for entry in state["states"]), stream  # every pass is complete
    assert len(generations) == 1  # one sync, one generation for every metrics stream


def test_given_hourly_custom_report_older_than_8_days_then_one_clear_warning_and_reading_starts_7_days_back(
    metrics_emulator, sync
):
    warnings = [line for line in sync.logs("WARN") if line.startswith(f"Stream {CUSTOM_HOURLY}: start_date")]

    assert len(warnings) == 1, warnings
    assert f"reading from {days_ago(metrics_emulator.state.today, 7)} instead" in warnings[0]


def test_given_report_downloads_then_none_carries_the_authorization_header(full_sync):
    _run, stats = full_sync

    assert stats["downloads"] >= stats["reports_created"] > 0
    assert stats["downloads_with_authorization_header"] == 0


# -- targeting breakdowns ----------------------------------------------------------------------------------------

# Seven types (two reports a window), two of them level-specific or beta; and a custom report of a level-only type.
CAMPAIGN_TYPES = ["GENDER", "AUDIENCE_MULTIPLIER", "KEYWORD", "GEO", "REGION", "AGE_BUCKET_AND_GENDER", "LOCATION"]
ITEM_REPORT = {
    "name": "item breakdowns",
    "level": "PRODUCT_ITEM_TARGETING",
    "columns": ["SPEND_IN_MICRO_DOLLAR", "TOTAL_IMPRESSION"],
    "targeting_types": ["MEDIA_TYPE", "APPTYPE"],
}
TARGETING_STREAMS = (
    "ad_accounts",
    "campaign_targeting_report",
    "advertiser_targeting_report",
    "custom_item_breakdowns",
)


def test_given_targeting_types_configured_when_synced_then_one_report_per_five_types_and_rows_equal_the_truth(
    metrics_emulator,
):
    today = metrics_emulator.state.today
    connector = Connector(metrics_emulator)
    connector.config = metrics_config(
        today, targeting_types={"campaign_targeting_report": CAMPAIGN_TYPES}, custom_reports=[ITEM_REPORT]
    )
    keys = primary_keys(connector, TARGETING_STREAMS)
    metrics_emulator.reset_stats()

    run = connector.read(TARGETING_STREAMS)
    stats = metrics_emulator.stats()

    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])
    for stream in TARGETING_STREAMS[1:]:
        expected = expected_rows(
            metrics_emulator, stream, days_ago(today, DAYS_BACK), today.isoformat(), connector.config
        )
        assert expected, f"the emulator has no {stream} rows: the comparison would prove nothing"
        assert_rows_equal_truth(stream, run.records(stream), expected, keys[stream])
        assert keys[stream][-2:] == ["TARGETING_TYPE", "TARGETING_VALUE"]
    assert {r["TARGETING_TYPE"] for r in run.records("campaign_targeting_report")} == set(CAMPAIGN_TYPES)
    assert {r["TARGETING_TYPE"] for r in run.records("custom_item_breakdowns")} == {"MEDIA_TYPE", "APPTYPE"}
    advertiser_types = {r["TARGETING_TYPE"] for r in run.records("advertiser_targeting_report")}
    assert len(advertiser_types) == 14 and "AGE_BUCKET_AND_GENDER" not in advertiser_types  # the level's defaults
    # One 21-day window per account: campaigns 2 reports (7 types), advertisers 3 (14), the custom report 1.
    accounts = len(truth(metrics_emulator, "ad_accounts"))
    assert stats["reports_created"] == accounts * (2 + 3 + 1)


def test_given_report_jobs_that_fail_twice_when_a_targeting_stream_reads_two_reports_a_window_then_every_row_once(
    metrics_emulator,
):
    today = metrics_emulator.state.today
    connector = Connector(metrics_emulator)
    connector.config = metrics_config(today, targeting_types={"campaign_targeting_report": CAMPAIGN_TYPES})
    streams = ("ad_accounts", "campaign_targeting_report")
    keys = primary_keys(connector, streams)

    run, stats = read_with_faults(connector, "report_fail:1.0x2", streams)

    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])
    accounts = len(truth(metrics_emulator, "ad_accounts"))
    assert stats["reports_created"] == 3 * 2 * accounts  # each of the two reports a window: 2 failed jobs, then 1
    expected = expected_rows(
        metrics_emulator, "campaign_targeting_report", days_ago(today, DAYS_BACK), today.isoformat(), connector.config
    )
    # keyed() fails on a duplicate key, so no row of a re-created job comes twice. (That a window whose second report
    # never finishes emits none of the first's rows is unit_tests/test_report_streams.py's.)
    assert_rows_equal_truth(
        "campaign_targeting_report",
        run.records("campaign_targeting_report"),
        expected,
        keys["campaign_targeting_report"],
    )


@pytest.mark.parametrize(
    "targeting_types, custom_reports, says",
    [
        (
            {"ad_group_targeting_report": ["GENDER", "MEDIA_TYPE"]},
            [],
            "targeting_types.ad_group_targeting_report: MEDIA_TYPE is not a targeting type of AD_GROUP_TARGETING "
            "reports; it takes KEYWORD, APPTYPE",
        ),
        (
            {},
            [{**ITEM_REPORT, "level": "CAMPAIGN_TARGETING"}],
            "targeting_types: MEDIA_TYPE is not a targeting type of CAMPAIGN_TARGETING reports",
        ),
    ],
    ids=["built-in stream", "custom report"],
)
def test_given_a_targeting_type_the_level_does_not_take_when_check_then_a_config_error_names_it_before_any_call(
    metrics_emulator, targeting_types, custom_reports, says
):
    connector = Connector(metrics_emulator)
    config = metrics_config(
        metrics_emulator.state.today, targeting_types=targeting_types, custom_reports=custom_reports
    )
    metrics_emulator.reset_stats()

    run = connector.run("check", config=config)

    (status,) = run.of_type("CONNECTION_STATUS")
    assert status["connectionStatus"]["status"] == "FAILED"
    assert says in status["connectionStatus"]["message"], status["connectionStatus"]["message"]
    assert metrics_emulator.stats()["requests_total"] == 0


# -- archived entities ---------------------------------------------------------------------------------------------

ARCHIVED_CASES = [
    # metrics stream, the entity stream whose ARCHIVED records must still count, the id column
    ("campaign_analytics", "campaigns", "CAMPAIGN_ID"),
    ("campaign_analytics_report", "campaigns", "CAMPAIGN_ID"),
    ("ad_group_analytics", "ad_groups", "AD_GROUP_ID"),
    ("ad_group_report", "ad_groups", "AD_GROUP_ID"),
    ("ad_analytics", "ads", "AD_ID"),
    ("pin_promotion_report", "ads", "PIN_PROMOTION_ID"),
]


@pytest.mark.parametrize("stream,entity_stream,id_column", ARCHIVED_CASES)
def test_given_default_status_filter_when_synced_then_archived_entities_spend_is_in_the_metrics(
    metrics_emulator, connector, sync, stream, entity_stream, id_column
):
    assert "status" not in connector.config  # the default filter: ACTIVE, PAUSED
    archived = {str(r["id"]) for r in truth(metrics_emulator, entity_stream, statuses=["ARCHIVED"])}
    listed = {str(r["id"]) for r in truth(metrics_emulator, entity_stream)}
    today = metrics_emulator.state.today
    spent = {
        r[id_column]
        for r in expected_rows(metrics_emulator, stream, days_ago(today, DAYS_BACK), today.isoformat())
        if r.get("SPEND_IN_MICRO_DOLLAR")
    }
    archived_spenders = archived & spent
    assert archived_spenders, f"no archived {entity_stream} spent in the window: the test would prove nothing"
    assert not archived & listed  # the entity stream itself leaves them out

    emitted = {r[id_column] for r in sync.records(stream) if r.get("SPEND_IN_MICRO_DOLLAR")}
    assert archived_spenders <= emitted


def test_given_campaigns_of_every_status_then_each_account_days_spend_is_the_sum_of_its_campaigns(sync):
    by_day: dict[tuple, int] = {}
    for row in sync.records("campaign_analytics"):
        key = (row["AD_ACCOUNT_ID"], row["DATE"])
        by_day[key] = by_day.get(key, 0) + row.get("SPEND_IN_MICRO_DOLLAR", 0)
    accounts = sync.records("ad_account_analytics")
    account_spend = {(r["AD_ACCOUNT_ID"], r["DATE"]): r["SPEND_IN_MICRO_DOLLAR"] for r in accounts}

    assert by_day == account_spend


# -- report faults -------------------------------------------------------------------------------------------------

FAULT_STREAMS = ("ad_accounts", "user_account_analytics", "ad_account_analytics", "advertiser_report")


def read_with_faults(connector: Connector, faults: str, streams=FAULT_STREAMS) -> tuple[ConnectorRun, dict]:
    connector.emulator.configure(faults=faults)
    connector.emulator.reset_stats()
    try:
        run = connector.read(streams, extra_env=FAST_REPORTS)
    finally:
        connector.emulator.configure(faults="")
    return run, connector.emulator.stats()


UNRECOVERABLE = [
    # fault spec (every job of every report, however often it is re-created), the reason the error gives
    ("report_fail:1.0xinf", r"last: report status FAILED\.$"),
    ("report_expire:1.0xinf", r"last: report status EXPIRED\.$"),
    ("report_hang:1.0xinf", r"last: still IN_PROGRESS after \d+\.\d s \(limit 1\.5 s\)\.$"),
]


@pytest.mark.parametrize("faults,reason", UNRECOVERABLE, ids=[f[0].split(":")[0] for f in UNRECOVERABLE])
def test_given_report_job_that_never_succeeds_then_three_jobs_and_only_its_stream_fails_clearly(
    connector, sync, faults, reason
):
    run, stats = read_with_faults(connector, faults)

    assert run.returncode != 0
    (error,) = [e for e in run.errors() if e["message"].startswith("Stream advertiser_report")]
    assert "ADVERTISER report (POST /v5/ad_accounts/" in error["message"]
    assert "the report could not be produced after 3 attempt(s)" in error["message"]
    assert re.search(reason, error["message"]), error["message"]
    assert error["failure_type"] == "transient_error"
    assert run.stream_statuses("advertiser_report")[-1] == "INCOMPLETE"
    accounts = len(sync.final_states()["ad_account_analytics"]["states"])
    assert 3 <= stats["reports_created"] <= 3 * accounts  # bounded: 3 jobs per report, then the stream gives up
    assert stats["reports_created"] % 3 == 0
    assert stats["downloads"] == 0
    for stream in ("ad_accounts", "user_account_analytics", "ad_account_analytics"):
        assert run.stream_statuses(stream)[-1] == "COMPLETE", stream
        assert stream in run.final_states(), f"{stream}: no state emitted"
    assert in_any_order(run.records("ad_account_analytics")) == in_any_order(sync.records("ad_account_analytics"))


RECOVERABLE = [
    # fault spec: the first two jobs of each report fail / expire / hang, the third finishes
    "report_fail:1.0x2",
    "report_expire:1.0x2",
    "report_hang:1.0x2",
]


@pytest.mark.parametrize("faults", RECOVERABLE, ids=[f.split(":")[0] for f in RECOVERABLE])
def test_given_report_job_that_fails_twice_then_the_third_job_gives_the_clean_records(connector, sync, faults):
    run, stats = read_with_faults(connector, faults, ("advertiser_report",))

    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])
    assert sum(stats["faults_injected"].values()) == 2 * stats["reports_created"] / 3
    assert in_any_order(run.records("advertiser_report")) == in_any_order(sync.records("advertiser_report"))


def test_given_download_url_that_expires_once_then_a_fresh_url_gives_the_clean_records(connector, sync):
    streams = ("advertiser_report", "campaign_analytics_report")
    connector.emulator.configure(report_polls=1)  # IN_PROGRESS, then FINISHED with a URL that has expired
    try:
        run, stats = read_with_faults(connector, "download_expire:1.0x1", streams)
    finally:
        connector.emulator.configure(report_polls=0)

    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])
    assert stats["faults_injected"]["download_expire"] == stats["reports_created"] > 0  # once per report
    assert stats["downloads"] == 2 * stats["reports_created"]
    accounts = len(sync.final_states()["advertiser_report"]["states"])
    assert stats["reports_created"] == len(streams) * accounts  # no job re-created: the same job, polled again
    assert stats["downloads_with_authorization_header"] == 0
    for stream in streams:
        assert in_any_order(run.records(stream)) == in_any_order(sync.records(stream)), stream


# -- incremental: restated conversions come back inside the look-back ---------------------------------------------

INCREMENTAL_STREAMS = ("ad_account_analytics", "campaign_analytics", "ad_analytics", "campaign_analytics_report")
LOOKBACK_DAYS = 10
STATE_AGE_DAYS = 2
MUTATE_SEED = 4  # with the emulator's seed 11: conversions restated 3, 17 and 29 days ago


def in_any_order(records: list[dict]) -> list[str]:
    """Records as comparable text, sorted: ad accounts are read side by side, so their rows interleave freely."""
    return sorted(json.dumps(record, sort_keys=True) for record in records)


def aged(state_messages: list[dict], days: int) -> list[dict]:
    """The saved state as if the sync that wrote it had run `days` (and two hours) earlier: then the next one is a
    new sync, not an attempt of it started again (state.read_generation)."""
    out = []
    for message in copy.deepcopy(state_messages):
        stream_state = message["stream"]["stream_state"]
        if "pass_generation" in stream_state:
            began = dt.datetime.fromisoformat(stream_state["pass_generation"].replace("Z", "+00:00"))
            earlier = began - dt.timedelta(days=days, hours=2)
            stream_state["pass_generation"] = earlier.strftime("%Y-%m-%dT%H:%M:%SZ")
        for entry in stream_state.get("states", []):
            cursor = dt.date.fromisoformat(entry["cursor"]["DATE"])
            entry["cursor"]["DATE"] = (cursor - dt.timedelta(days=days)).isoformat()
        out.append(message)
    return out


@pytest.mark.parametrize("state_age_days", [STATE_AGE_DAYS, 0], ids=["days later", "the same day"])
def test_given_conversions_restated_when_incremental_sync_then_rows_in_the_look_back_come_again_with_new_values(
    state_age_days,
):
    # The same day too: the first sync finished hours ago, so the second is a new sync (a new pass), not an attempt.
    with Emulator(seed=11, size="small", report_polls=0) as emulator:
        today = emulator.state.today
        connector = Connector(emulator)
        connector.config = metrics_config(today, attribution_lookback_days=LOOKBACK_DAYS)
        keys = primary_keys(connector, INCREMENTAL_STREAMS)
        first = connector.read(INCREMENTAL_STREAMS)
        assert first.returncode == 0, (first.errors(), first.stderr[-2000:])
        restated = emulator.mutate(seed=MUTATE_SEED)["changed"]["analytics_dates"]
        lookback_start = days_ago(today, state_age_days + LOOKBACK_DAYS)
        inside = [d for d in restated if d >= lookback_start]
        outside = [d for d in restated if days_ago(today, DAYS_BACK) <= d < lookback_start]
        assert inside and outside, f"restated {restated}: pick another MUTATE_SEED"

        second = connector.read(INCREMENTAL_STREAMS, state=aged(state_for_next_run(first), state_age_days))

        assert second.returncode == 0, (second.errors(), second.stderr[-2000:])
        for stream in INCREMENTAL_STREAMS:
            records = second.records(stream)
            # Exactly the look-back window again, with today's values (restated conversions, entities created since).
            assert_rows_equal_truth(
                stream, records, expected_rows(emulator, stream, lookback_start, today.isoformat()), keys[stream]
            )
            assert not {r["DATE"] for r in records} & set(outside), f"{stream}: re-read beyond the look-back"
            before = keyed([r for r in first.records(stream) if r["DATE"] in inside], keys[stream], stream)
            after = keyed([r for r in records if r["DATE"] in inside], keys[stream], stream)
            conversions = "TOTAL_CONVERSIONS"
            changed = [k for k in before.keys() & after.keys() if before[k][conversions] != after[k][conversions]]
            assert changed, f"{stream}: no restated conversion was re-emitted with its new value"
            cursors = {s["cursor"]["DATE"] for s in second.final_states()[stream]["states"]}
            assert cursors == {today.isoformat()}, f"{stream}: state did not advance from the aged cursor"


# -- data readiness: days whose conversions are not final come back until they are ---------------------------------

READINESS_STREAMS = ("campaign_analytics", "campaign_analytics_report")
READINESS = "GET /v5/resources/metrics_ready_state"


def test_given_days_not_final_when_synced_again_then_they_are_read_again_and_their_final_numbers_replace_them():
    with Emulator(seed=11, size="small", report_polls=0, conversions_pending_days=2) as emulator:
        today = emulator.state.today
        pending, day_before = {days_ago(today, 1), days_ago(today, 0)}, days_ago(today, 2)
        connector = Connector(emulator)
        # No look-back: only readiness brings the provisional days back.
        connector.config = {**metrics_config(today, attribution_lookback_days=0), "start_date": days_ago(today, 9)}
        keys = primary_keys(connector, READINESS_STREAMS)

        first = connector.read(READINESS_STREAMS)

        assert first.returncode == 0, (first.errors(), first.stderr[-2000:])
        assert emulator.stats()["by_endpoint"][READINESS] == 3  # today, yesterday, then the first final day
        for stream in READINESS_STREAMS:
            expected = expected_rows(emulator, stream, days_ago(today, 9), today.isoformat())
            assert_rows_equal_truth(stream, first.records(stream), expected, keys[stream])
            cursors = {s["cursor"]["DATE"] for s in first.final_states()[stream]["states"]}
            assert cursors == {day_before}, f"{stream}: the cursor went past a day that is not final"
        assert any(f"Ads metrics of {days_ago(today, 1)}..{today.isoformat()} are not final" in m for m in first.logs())

        emulator.configure(conversions_pending_days=0)
        emulator.reset_stats()
        state = state_for_next_run(first)
        for message in state:  # a new sync, not an attempt of the first one (state.read_generation)
            message["stream"]["stream_state"]["pass_generation"] = "2000-01-01T00:00:00Z"
        second = connector.read(READINESS_STREAMS, state=state)

        assert second.returncode == 0, (second.errors(), second.stderr[-2000:])
        assert emulator.stats()["by_endpoint"][READINESS] == 1
        for stream in READINESS_STREAMS:
            records = second.records(stream)
            assert {r["DATE"] for r in records} <= {day_before, *pending}, f"{stream}: read before the cursor"
            expected = expected_rows(emulator, stream, day_before, today.isoformat())
            assert_rows_equal_truth(stream, records, expected, keys[stream])
            before = keyed([r for r in first.records(stream) if r["DATE"] in pending], keys[stream], stream)
            after = keyed([r for r in records if r["DATE"] in pending], keys[stream], stream)
            assert any(
                before[k]["TOTAL_CONVERSIONS"] < after[k]["TOTAL_CONVERSIONS"] for k in before.keys() & after.keys()
            )
            cursors = {s["cursor"]["DATE"] for s in second.final_states()[stream]["states"]}
            assert cursors == {today.isoformat()}, stream
