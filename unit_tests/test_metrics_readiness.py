"""Ads metrics of days Pinterest has not closed yet (GET /resources/metrics_ready_state) are emitted, but the cursors
stay before them, so the next sync reads them again whatever its look-back."""

from __future__ import annotations

import datetime as dt

import pytest
from airbyte_cdk.models import SyncMode

from source_pinterest import limits
from source_pinterest.metrics import readiness
from unit_tests.conftest import all_output_text, final_state, make_config, query, read_streams, records_of

TODAY = dt.date(2024, 6, 30)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(limits, "today", lambda: TODAY)


def day(offset: int) -> str:
    return (TODAY - dt.timedelta(days=offset)).isoformat()


def accounts(api, *ids: str) -> None:
    api.pages("ad_accounts", [[{"id": i, "name": f"Account {i}", "updated_time": 1, "created_time": 1} for i in ids]])
    for i in ids:
        api.json(
            f"ad_accounts/{i}/analytics",
            [{"AD_ACCOUNT_ID": i, "DATE": day(n), "TOTAL_CONVERSIONS": n} for n in (0, 1, 2, 3)],
        )


def asked_dates(api) -> list[str]:
    return [query(r)["date"][0] for r in api.requests_to(readiness.PATH)]


def test_given_two_days_not_final_when_read_then_they_are_emitted_and_the_cursor_stays_before_them(api):
    accounts(api, "1", "2")
    api.metrics_ready(not_final_from=day(1))
    saved = {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": day(3)}}]}

    output = read_streams(
        make_config(attribution_lookback_days=0),
        ["ad_account_analytics"],
        SyncMode.incremental,
        {"ad_account_analytics": saved},
    )

    assert {(r["AD_ACCOUNT_ID"], r["DATE"]) for r in records_of(output)} == {
        (a, day(n)) for a in ("1", "2") for n in (0, 1, 2, 3)
    }
    # One walk back from today for the whole sync, both accounts: it stops at the first final day.
    assert asked_dates(api) == [day(0), day(1), day(2)]
    assert final_state(output, "ad_account_analytics")["states"] == [
        {"partition": {"ad_account_id": a}, "cursor": {"DATE": day(2)}} for a in ("1", "2")
    ]
    assert f"Ads metrics of {day(1)}..{day(0)} are not final yet" in all_output_text(output)


def test_given_the_provisional_days_when_the_next_sync_reads_without_look_back_then_it_starts_at_them(api):
    accounts(api, "1")
    saved = {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"DATE": day(2)}}]}

    output = read_streams(
        make_config(attribution_lookback_days=0),
        ["ad_account_analytics"],
        SyncMode.incremental,
        {"ad_account_analytics": saved},
    )

    assert query(api.requests_to("ad_accounts/1/analytics")[0])["start_date"] == [day(2)]
    assert asked_dates(api) == [day(0)]  # today is final: one call
    assert final_state(output, "ad_account_analytics")["states"][0]["cursor"] == {"DATE": day(0)}


def test_given_one_answer_for_several_streams_then_each_date_is_asked_once(api):
    accounts(api, "1")
    api.pages("ad_accounts/1/campaigns", [[{"id": 7, "ad_account_id": "1", "status": "ACTIVE", "created_time": 1}]])
    api.json("ad_accounts/1/campaigns/analytics", [{"CAMPAIGN_ID": 7, "DATE": day(0)}])
    api.metrics_ready(not_final_from=day(0))

    output = read_streams(make_config(), ["ad_account_analytics", "campaign_analytics"], SyncMode.incremental)

    assert asked_dates(api) == [day(0), day(1)]
    for stream in ("ad_account_analytics", "campaign_analytics"):
        assert final_state(output, stream)["states"][0]["cursor"] == {"DATE": day(1)}


@pytest.mark.parametrize(
    "answer, status, says",
    [
        ({"code": 3, "message": "boom"}, 500, "the request failed"),
        ({"conversion_metrics_ready": "yes"}, 200, "unexpected answer"),
    ],
)
def test_given_readiness_cannot_be_had_then_today_is_taken_as_provisional_and_the_sync_goes_on(
    api, answer, status, says
):
    accounts(api, "1")
    api.json(readiness.PATH, answer, status)

    output = read_streams(make_config(), ["ad_account_analytics"], SyncMode.incremental)

    assert len(records_of(output)) == 4
    assert final_state(output, "ad_account_analytics")["states"][0]["cursor"] == {"DATE": day(1)}
    text = all_output_text(output)
    assert "Could not tell which days' ads metrics are final" in text and says in text


def test_given_only_organic_metrics_then_readiness_is_not_asked(api):
    api.json(
        "user_account/analytics",
        {"all": {"daily_metrics": [{"date": day(0), "data_status": "READY", "metrics": {"IMPRESSION": 1}}]}},
    )

    read_streams(make_config(), ["user_account_analytics"], SyncMode.incremental)

    assert api.requests_to(readiness.PATH) == []
    assert api.requests_to("user_account/analytics")
