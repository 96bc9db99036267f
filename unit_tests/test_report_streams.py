"""Async report streams read through the real entrypoint: creation body, polling, unauthenticated download, rows."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import SyncMode

from source_pinterest import limits
from source_pinterest.config import TARGETING_STREAM_LEVELS
from source_pinterest.metrics.specs import REPORT_STREAMS
from unit_tests.conftest import final_state, make_config, read_streams, records_of
from unit_tests.report_api import TODAY, FakeClock, ReportApi, day, install_fake_clock


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(limits, "today", lambda: TODAY)


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    return install_fake_clock(monkeypatch)


def accounts(api, *ids: str) -> None:
    api.pages("ad_accounts", [[{"id": i, "name": i, "updated_time": 1} for i in ids]])


def test_given_first_sync_when_read_campaign_report_then_914_days_in_186_day_reports_and_rows_typed(api, fake_clock):
    accounts(api, "1")
    reports = ReportApi(api, "1")

    output = read_streams(make_config(), ["campaign_analytics_report"], SyncMode.incremental)

    # The next windows' jobs are created in parallel, so creation order is thread timing; the set of windows is not.
    windows = sorted((b["start_date"], b["end_date"]) for b in reports.bodies)
    assert windows == [
        (day(913), day(728)),
        (day(727), day(542)),
        (day(541), day(356)),
        (day(355), day(170)),
        (day(169), day(0)),
    ]
    body = reports.bodies[0]
    assert {k: v for k, v in body.items() if k not in ("start_date", "end_date", "columns")} == {
        "granularity": "DAY",
        "level": "CAMPAIGN",
        "click_window_days": 30,
        "engagement_window_days": 30,
        "view_window_days": 1,
        "conversion_report_time": "TIME_OF_AD_ACTION",
        "report_format": "JSON",
    }
    assert {"CAMPAIGN_ID", "AD_ACCOUNT_ID", "SPEND_IN_DOLLAR"} <= set(body["columns"])
    assert set(body["columns"]) <= limits.REPORT_COLUMNS
    downloads = reports.downloads()
    assert len(downloads) == 5
    assert all("Authorization" not in d.headers for d in downloads)
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in api.requests_to("ad_accounts/1/reports"))
    records = records_of(output, "campaign_analytics_report")
    assert records[0] == {
        "DATE": day(913),
        "SPEND_IN_DOLLAR": 1.5,
        "TOTAL_IMPRESSION": 7,
        "CAMPAIGN_ID": "111",
        "AD_ACCOUNT_ID": "1",
    }
    assert len(records) == 5
    assert final_state(output, "campaign_analytics_report") == {
        "states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": TODAY.isoformat()}}]
    }


def test_given_saved_state_when_second_sync_then_one_report_from_the_look_back(api, fake_clock):
    accounts(api, "1")
    reports = ReportApi(api, "1")
    state = {"advertiser_report": {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": day(2)}}]}}

    read_streams(make_config(attribution_lookback_days=14), ["advertiser_report"], SyncMode.incremental, state)

    assert [(b["start_date"], b["end_date"], b["level"]) for b in reports.bodies] == [(day(16), day(0), "ADVERTISER")]


def test_given_report_in_progress_when_polled_then_waits_grow_on_the_injected_clock(api, fake_clock, no_sleep):
    accounts(api, "1")
    ReportApi(api, "1", statuses=("IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "FINISHED"))

    output = read_streams(make_config(start_date=day(10)), ["ad_group_report"])

    assert len(records_of(output, "ad_group_report")) == 1
    assert fake_clock.slept == [5, 10, 20, 40]
    assert no_sleep == []  # no HTTP retries either


def test_given_targeting_level_when_read_then_targeting_types_are_sent_and_keyed(api, fake_clock):
    accounts(api, "1")

    def rows(body):
        return {
            "222": [
                {
                    "DATE": body["start_date"],
                    "AD_GROUP_ID": 222,
                    "TARGETING_TYPE": "GENDER",
                    "TARGETING_VALUE": "female",
                    "SPEND_IN_DOLLAR": 1,
                }
            ]
        }

    reports = ReportApi(api, "1", rows=rows)

    config = make_config(start_date=day(10), targeting_types={"ad_group_targeting_report": ["GENDER"]})
    output = read_streams(config, ["ad_group_targeting_report"])

    (body,) = reports.bodies
    assert body["level"] == "AD_GROUP_TARGETING"
    assert body["targeting_types"] == ["GENDER"]
    (record,) = records_of(output, "ad_group_targeting_report")
    assert record == {
        "DATE": day(10),
        "AD_GROUP_ID": "222",
        "TARGETING_TYPE": "GENDER",
        "TARGETING_VALUE": "female",
        "SPEND_IN_DOLLAR": 1,
        "AD_ACCOUNT_ID": "1",
    }
    spec = {s.name: s for s in REPORT_STREAMS}["ad_group_targeting_report"]
    assert spec.key_fields == ["DATE", "AD_ACCOUNT_ID", "AD_GROUP_ID", "TARGETING_TYPE", "TARGETING_VALUE"]


def test_product_item_report_reaches_92_days_back_in_31_day_reports(api, fake_clock):
    accounts(api, "1")
    reports = ReportApi(api, "1", rows=lambda body: {"9001": [{"DATE": body["start_date"], "PRODUCT_GROUP_ID": 5}]})

    output = read_streams(make_config(start_date="2020-01-01"), ["product_item_report"])

    assert sorted((b["start_date"], b["end_date"]) for b in reports.bodies) == [
        (day(91), day(61)),
        (day(60), day(30)),
        (day(29), day(0)),
    ]
    assert not any(c.startswith("PIN_PROMOTION") or c in ("AD_ID", "AD_NAME") for c in reports.bodies[0]["columns"])
    assert records_of(output, "product_item_report")[0]["PRODUCT_ITEM_ID"] == "9001"
    assert any("older than PRODUCT_ITEM reports allow" in log.log.message for log in output.logs)


def test_given_expired_download_url_when_read_then_a_fresh_url_is_polled_and_fetched(api, fake_clock):
    accounts(api, "1")
    reports = ReportApi(api, "1", expired_downloads=2)

    output = read_streams(make_config(start_date=day(5)), ["keyword_report"])

    assert len(reports.bodies) == 1  # the same report, not a new one
    assert len(reports.downloads()) == 3
    assert len({d.url for d in reports.downloads()}) == 3
    assert records_of(output, "keyword_report")[0]["KEYWORD_ID"] == "111"


def test_given_a_report_that_always_fails_then_only_its_stream_fails_with_a_clear_message(api, fake_clock):
    accounts(api, "1")
    reports = ReportApi(api, "1", statuses_by_level={"CAMPAIGN": ("FAILED",)})

    output = read_streams(
        make_config(start_date=day(5)), ["campaign_analytics_report", "advertiser_report"], expect_failure=True
    )

    assert len([b for b in reports.bodies if b["level"] == "CAMPAIGN"]) == 3  # created, then re-created twice
    assert len(records_of(output, "advertiser_report")) == 1
    assert records_of(output, "campaign_analytics_report") == []
    messages = [e.trace.error.message for e in output.errors]
    assert any(
        f"Stream campaign_analytics_report, CAMPAIGN report (POST /v5/ad_accounts/1/reports), ad account 1, "
        f"{day(5)}..{day(0)}: the report could not be produced after 3 attempt(s); last: report status FAILED." in m
        for m in messages
    )


def test_given_account_forbidden_when_create_report_then_skipped_and_other_accounts_sync(api, fake_clock):
    accounts(api, "1", "2")
    api.mocker.post(
        "https://api.pinterest.com/v5/ad_accounts/1/reports",
        status_code=403,
        json={"code": 29, "message": "not permitted"},
    )
    ReportApi(api, "2")

    output = read_streams(make_config(start_date=day(5)), ["pin_promotion_report"], SyncMode.incremental)

    assert [r["AD_ACCOUNT_ID"] for r in records_of(output, "pin_promotion_report")] == ["2"]
    assert final_state(output, "pin_promotion_report")["states"] == [
        {"partition": {"ad_account_id": "2"}, "cursor": {"DATE": day(0)}}
    ]


@pytest.mark.parametrize("spec", REPORT_STREAMS, ids=[s.name for s in REPORT_STREAMS])
def test_every_report_spec_asks_for_valid_columns_and_keys_its_rows(spec):
    assert set(spec.request_columns) <= limits.REPORT_COLUMNS
    assert spec.key_fields[:2] == ["DATE", "AD_ACCOUNT_ID"]
    assert spec.id_column in spec.key_fields
    assert ("TARGETING_TYPE" in spec.key_fields) == spec.level.value.endswith("_TARGETING")
    assert all(len(group) <= 5 for group in spec.targeting_groups)


def targeting_rows(body: dict) -> dict:
    """One row per targeting type of the report, for its first day."""
    return {
        "111": [
            {"DATE": body["start_date"], "TARGETING_TYPE": t, "TARGETING_VALUE": "v", "SPEND_IN_DOLLAR": 1.0}
            for t in body["targeting_types"]
        ]
    }


def test_the_config_offers_a_targeting_types_list_for_each_built_in_targeting_stream_at_its_level():
    # The config model (which cannot import the report table) names the streams and levels again; they must agree.
    assert {spec.name: spec.level.value for spec in REPORT_STREAMS if spec.targeting} == TARGETING_STREAM_LEVELS


@pytest.mark.parametrize("spec", [s for s in REPORT_STREAMS if s.targeting], ids=lambda s: s.name)
def test_given_no_targeting_types_configured_when_read_then_every_type_of_the_level_in_reports_of_five(
    api, fake_clock, spec
):
    accounts(api, "1")
    reports = ReportApi(api, "1", rows=targeting_rows)

    output = read_streams(make_config(start_date=day(5)), [spec.name])

    sent = [tuple(b["targeting_types"]) for b in reports.bodies]
    taken = set(limits.TARGETING_TYPES_BY_LEVEL[spec.level.value]) - limits.BETA_TARGETING_TYPES
    assert sorted(t for group in sent for t in group) == sorted(taken)  # each once, the beta type left out
    assert [len(group) for group in sent] == [5, 5, len(taken) - 10]
    assert sent[0] == ("APPTYPE", "COUNTRY", "GENDER", "AGE_BUCKET", "PLACEMENT")  # what was sent before, first
    assert {(b["start_date"], b["end_date"]) for b in reports.bodies} == {(day(5), day(0))}  # one window, 3 jobs
    records = records_of(output, spec.name)
    assert sorted(r["TARGETING_TYPE"] for r in records) == sorted(taken)
    assert all(r["TARGETING_VALUE"] == "v" for r in records)


def test_given_configured_targeting_types_when_read_then_one_report_per_five_types_and_every_row_kept(api, fake_clock):
    types = ["GENDER", "AUDIENCE_MULTIPLIER", "KEYWORD", "GEO", "REGION", "AGE_BUCKET_AND_GENDER", "LOCATION"]
    accounts(api, "1")
    reports = ReportApi(api, "1", rows=targeting_rows)
    config = make_config(start_date=day(200), targeting_types={"campaign_targeting_report": types})

    output = read_streams(config, ["campaign_targeting_report", "ad_group_targeting_report"], SyncMode.incremental)

    campaign = [b for b in reports.bodies if b["level"] == "CAMPAIGN_TARGETING"]
    # Two windows (200 days), two reports each, in the configured order.
    assert sorted((b["start_date"], b["targeting_types"]) for b in campaign) == sorted(
        (start, group) for start in (day(200), day(14)) for group in (types[:5], types[5:])
    )
    records = records_of(output, "campaign_targeting_report")
    keys = [(r["DATE"], r["CAMPAIGN_ID"], r["TARGETING_TYPE"], r["TARGETING_VALUE"]) for r in records]
    assert len(keys) == len(set(keys)) == 2 * len(types)  # the groups' rows never collide in the primary key
    # A stream whose types are not configured keeps its level's defaults.
    ad_group = {t for b in reports.bodies if b["level"] == "AD_GROUP_TARGETING" for t in b["targeting_types"]}
    assert ad_group == set(limits.TARGETING_TYPES_BY_LEVEL["AD_GROUP_TARGETING"]) - limits.BETA_TARGETING_TYPES
    assert final_state(output, "campaign_targeting_report")["states"] == [
        {"partition": {"ad_account_id": "1"}, "cursor": {"DATE": day(0)}}
    ]


def test_given_the_second_report_of_a_window_fails_then_no_row_of_the_window_is_emitted_and_its_state_stays(
    api, fake_clock
):
    accounts(api, "1")
    reports = ReportApi(
        api,
        "1",
        rows=targeting_rows,
        statuses_of=lambda body: ("FAILED",) if "KEYWORD" in body["targeting_types"] else ("FINISHED",),
    )
    state = {
        "campaign_targeting_report": {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": day(3)}}]}
    }
    config = make_config(
        attribution_lookback_days=2,
        targeting_types={"campaign_targeting_report": ["GENDER", "APPTYPE", "COUNTRY", "AGE_BUCKET", "GEO", "KEYWORD"]},
    )

    output = read_streams(config, ["campaign_targeting_report"], SyncMode.incremental, state, expect_failure=True)

    assert records_of(output, "campaign_targeting_report") == []  # the first report's rows wait for the window
    assert len([b for b in reports.bodies if "KEYWORD" in b["targeting_types"]]) == 3  # re-created, then failed
    saved = final_state(output, "campaign_targeting_report")
    # The pass is under way and nothing of its one window is done: the next attempt reads the whole window again.
    assert saved["states"] == [
        {
            "partition": {"ad_account_id": "1"},
            "cursor": {"DATE": day(3)},
            "pass_start": day(5),
            "pass_done_through": day(6),
        }
    ]


def test_given_a_failing_window_when_read_then_the_later_windows_are_never_requested_and_the_read_returns_at_once(
    api, monkeypatch
):
    import threading
    import time

    from source_pinterest.metrics.jobs import PollPolicy, ReportJobRunner
    from source_pinterest.streams import reports as report_streams

    # Real waits (no injected sleep): the oldest window fails at once; any later one would stay IN_PROGRESS for a
    # minute, polled every 50 ms.
    policy = PollPolicy(first_wait=0.05, max_wait=0.05, job_deadline=60, total_deadline=60, max_attempts=1)
    monkeypatch.setattr(report_streams, "job_runner_factory", lambda: ReportJobRunner(policy))
    accounts(api, "1")
    oldest = day(913)
    reports = ReportApi(
        api, "1", statuses_of=lambda body: ("FAILED",) if body["start_date"] == oldest else ("IN_PROGRESS",)
    )

    threads_before = set(threading.enumerate())
    started = time.monotonic()
    output = read_streams(make_config(), ["campaign_analytics_report"], expect_failure=True)
    took = time.monotonic() - started

    assert took < 5
    assert any("last: report status FAILED" in e.trace.error.message for e in output.errors)
    assert len(reports.bodies) == 1  # an account's windows are read in order: none after the failing one
    requests_at_end = len(api.mocker.request_history)
    time.sleep(0.5)
    assert len(api.mocker.request_history) == requests_at_end  # nothing creates or polls any more
    assert not [t for t in set(threading.enumerate()) - threads_before if t.name.startswith("workerpool")]
