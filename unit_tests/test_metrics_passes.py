"""Metrics passes across attempts: a pass under way is continued (no second look-back), a pass completed today is
done for the day, and a pass completed on an earlier day starts a new look-back; state shapes stay readable."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from airbyte_cdk.models import SyncMode

from source_pinterest import limits
from source_pinterest.date_windows import Window, resumed_windows
from source_pinterest.state import PassCursor
from unit_tests.conftest import final_state, make_config, read_streams, records_of

TODAY = dt.date(2024, 6, 30)
A = {"ad_account_id": "1"}


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(limits, "today", lambda: TODAY)


def day(offset: int) -> str:
    return (TODAY - dt.timedelta(days=offset)).isoformat()


# -- the cursor ------------------------------------------------------------------------------------------------


def test_given_a_pass_when_a_window_before_its_end_is_done_then_the_entry_says_where_the_pass_is():
    cursor = PassCursor("DATE", partitioned=True)
    cursor.set_state({"states": [{"partition": A, "cursor": {"DATE": day(10)}}]})
    cursor.begin_pass(A, day(40), day(0))

    cursor.window_done(A, day(20))

    assert cursor.get_state() == {
        "states": [{"partition": A, "cursor": {"DATE": day(10)}, "pass_start": day(40), "pass_done_through": day(20)}]
    }
    assert PassCursor("DATE", True).pass_under_way(A) is None


def test_given_a_pass_when_its_last_window_is_done_then_the_entry_is_the_plain_cursor_again():
    cursor = PassCursor("DATE", partitioned=True)
    cursor.set_state(
        {"states": [{"partition": A, "cursor": {"DATE": day(10)}, "pass_start": day(40), "pass_done_through": day(20)}]}
    )
    assert cursor.pass_under_way(A) == (day(40), day(20))
    cursor.begin_pass(A, day(40), day(0))

    cursor.window_done(A, day(0))

    assert cursor.get_state() == {"states": [{"partition": A, "cursor": {"DATE": day(0)}}]}
    assert cursor.pass_under_way(A) is None


def test_a_flat_state_carries_its_pass_at_the_top_level():
    cursor = PassCursor("date", partitioned=False)
    cursor.set_state({"date": day(5)})
    cursor.begin_pass({}, day(35), day(0))

    cursor.window_done({}, day(3))

    assert cursor.get_state() == {"date": day(3), "pass_start": day(35), "pass_done_through": day(3)}
    again = PassCursor("date", partitioned=False)
    again.set_state(cursor.get_state())
    assert again.pass_under_way({}) == (day(35), day(3))


def test_resumed_windows_start_the_day_after_the_last_day_done_and_never_before_the_api_allows():
    assert resumed_windows(TODAY, 90, 90, TODAY - dt.timedelta(days=3)) == [Window(TODAY - dt.timedelta(2), TODAY)]
    assert resumed_windows(TODAY, 90, 90, TODAY) == []
    assert resumed_windows(TODAY, 8, 3, TODAY - dt.timedelta(days=30))[0].start == TODAY - dt.timedelta(days=7)


# -- through the entrypoint -------------------------------------------------------------------------------------


def accounts_api(api) -> None:
    api.pages("ad_accounts", [[{"id": "1", "name": "one", "updated_time": 1, "created_time": 1}]])
    api.json("ad_accounts/1/analytics", [{"AD_ACCOUNT_ID": "1", "DATE": day(1), "SPEND_IN_DOLLAR": 2.0}])


def start_dates(api) -> list[str]:
    return [parse_qs(urlsplit(r.url).query)["start_date"][0] for r in api.requests_to("ad_accounts/1/analytics")]


def test_given_a_pass_under_way_when_read_then_it_continues_without_a_second_look_back(api):
    accounts_api(api)
    entry = {"partition": A, "cursor": {"DATE": day(20)}, "pass_start": day(50), "pass_done_through": day(5)}

    state = {"ad_account_analytics": {"states": [entry]}}

    output = read_streams(make_config(), ["ad_account_analytics"], SyncMode.incremental, state)

    assert start_dates(api) == [day(4)]
    assert final_state(output, "ad_account_analytics") == {"states": [{"partition": A, "cursor": {"DATE": day(0)}}]}


def test_given_a_pass_completed_today_when_read_again_today_then_nothing_is_requested(api):
    accounts_api(api)
    state = {"ad_account_analytics": {"states": [{"partition": A, "cursor": {"DATE": day(0)}}]}}

    output = read_streams(make_config(), ["ad_account_analytics"], SyncMode.incremental, state)

    assert start_dates(api) == []
    assert records_of(output, "ad_account_analytics") == []


def test_given_a_pass_completed_yesterday_when_read_then_a_new_pass_pays_the_look_back(api):
    accounts_api(api)
    state = {"ad_account_analytics": {"states": [{"partition": A, "cursor": {"DATE": day(1)}}]}}

    read_streams(make_config(), ["ad_account_analytics"], SyncMode.incremental, state)

    assert start_dates(api) == [day(31)]
