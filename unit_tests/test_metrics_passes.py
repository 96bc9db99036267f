"""Metrics passes across attempts: a pass under way is continued (no second look-back); a completed pass reads
nothing while the read resumes an unfinished generation of today, and begins a new look-back otherwise; id batches
are checkpointed one by one; state shapes stay readable."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from airbyte_cdk.models import SyncMode

from source_pinterest import limits
from source_pinterest.metrics.windows import Window, resumed_windows
from source_pinterest.sync.state import PassCursor, read_generation
from unit_tests.conftest import final_state, make_config, read_streams, records_of

TODAY = dt.date(2024, 6, 30)
A = {"ad_account_id": "1"}


NOW = dt.datetime(2024, 6, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(limits, "today", lambda: TODAY)
    monkeypatch.setattr(limits, "now", lambda: NOW)


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


def generation(offset_days: int = 0) -> str:
    return f"{day(offset_days)}T08:00:00Z"


def test_given_a_pass_under_way_when_read_then_it_continues_without_a_second_look_back(api):
    accounts_api(api)
    entry = {"partition": A, "cursor": {"DATE": day(20)}, "pass_start": day(50), "pass_done_through": day(5)}

    state = {"ad_account_analytics": {"states": [entry], "pass_generation": generation()}}

    output = read_streams(make_config(), ["ad_account_analytics"], SyncMode.incremental, state)

    assert start_dates(api) == [day(4)]
    assert final_state(output, "ad_account_analytics", with_generation=True) == {
        "states": [{"partition": A, "cursor": {"DATE": day(0)}}],
        "pass_generation": generation(),
    }


def test_given_a_generation_of_today_unfinished_in_another_stream_when_read_then_completed_passes_read_nothing(api):
    accounts_api(api)
    api.json("user_account/analytics", {"all": {"daily_metrics": []}})
    state = {
        "ad_account_analytics": {
            "states": [{"partition": A, "cursor": {"DATE": day(0)}}],
            "pass_generation": generation(),
        },
        "user_account_analytics": {
            "date": day(3),
            "pass_start": day(40),
            "pass_done_through": day(3),
            "pass_generation": generation(),
        },
    }

    output = read_streams(
        make_config(), ["ad_account_analytics", "user_account_analytics"], SyncMode.incremental, state
    )

    assert start_dates(api) == []
    assert records_of(output, "ad_account_analytics") == []
    user_starts = [parse_qs(urlsplit(r.url).query)["start_date"][0] for r in api.requests_to("user_account/analytics")]
    assert user_starts == [day(2)]


def test_given_a_generation_of_today_that_every_stream_finished_when_read_again_today_then_a_new_pass_refreshes(api):
    accounts_api(api)
    state = {
        "ad_account_analytics": {
            "states": [{"partition": A, "cursor": {"DATE": day(0)}}],
            "pass_generation": generation(),
        }
    }

    output = read_streams(make_config(), ["ad_account_analytics"], SyncMode.incremental, state)

    assert start_dates(api) == [day(30)]
    final = final_state(output, "ad_account_analytics", with_generation=True)
    assert final["pass_generation"].startswith(TODAY.isoformat()) and final["pass_generation"] != generation()


def test_given_a_completed_pass_of_an_older_connector_version_when_read_then_a_new_pass_pays_the_look_back(api):
    accounts_api(api)
    state = {"ad_account_analytics": {"states": [{"partition": A, "cursor": {"DATE": day(1)}}]}}

    read_streams(make_config(), ["ad_account_analytics"], SyncMode.incremental, state)

    assert start_dates(api) == [day(31)]


def test_given_an_unfinished_generation_of_yesterday_when_read_then_completed_passes_begin_a_new_one(api):
    accounts_api(api)
    api.json("user_account/analytics", {"all": {"daily_metrics": []}})
    state = {
        "ad_account_analytics": {
            "states": [{"partition": A, "cursor": {"DATE": day(1)}}],
            "pass_generation": generation(1),
        },
        "user_account_analytics": {"date": day(2), "pass_start": day(40), "pass_done_through": day(2)},
    }

    read_streams(make_config(), ["ad_account_analytics", "user_account_analytics"], SyncMode.incremental, state)

    assert start_dates(api) == [day(31)]


def test_read_generation_resumes_a_generation_of_today_that_some_stream_has_not_finished_or_that_just_began():
    now = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    done = {"states": [{"partition": A, "cursor": {"DATE": day(0)}}], "pass_generation": generation()}
    under_way = {"states": [{"partition": A, "cursor": {}, "pass_start": day(9), "pass_done_through": day(10)}]}
    just_began = "2024-06-30T11:50:00Z"

    assert read_generation([done, done], NOW) == (now, False)
    assert read_generation([done, None], NOW) == (generation(), True)  # a stream not started yet
    assert read_generation([done, {**under_way, "pass_generation": generation()}], NOW) == (generation(), True)
    assert read_generation([done, {"DATE": day(3), "pass_generation": generation(1)}], NOW) == (generation(), True)
    assert read_generation([{**done, "pass_generation": generation(1)}, None], NOW) == (now, False)
    assert read_generation([None, None], NOW) == (now, False)
    # Every metrics stream finished, ten minutes ago: the entity streams of that sync may not have.
    assert read_generation([{**done, "pass_generation": just_began}], NOW) == (just_began, True)


# -- id batches: a state message after each -------------------------------------------------------------------


def campaigns_api(api, count: int) -> None:
    api.pages("ad_accounts", [[{"id": "1", "name": "one", "updated_time": 1, "created_time": 1}]])
    campaigns = [
        {"id": str(1000 + i), "ad_account_id": "1", "status": "ACTIVE", "created_time": 1} for i in range(count)
    ]
    api.pages("ad_accounts/1/campaigns", [campaigns])
    api.json("ad_accounts/1/campaigns/analytics", [])


def requested_campaign_ids(api) -> list[list[str]]:
    return [
        parse_qs(urlsplit(r.url).query)["campaign_ids"] for r in api.requests_to("ad_accounts/1/campaigns/analytics")
    ]


def test_given_two_id_batches_when_the_first_is_done_then_a_state_message_says_how_far_the_window_got(api):
    campaigns_api(api, 300)

    output = read_streams(make_config(), ["campaign_analytics"], SyncMode.incremental)

    assert [len(ids) for ids in requested_campaign_ids(api)] == [250, 50]
    states = [m.state.stream.stream_state.__dict__ for m in output.state_messages]
    planned, first_batch = states[0]["states"][0], states[1]["states"][0]
    # The first state marks the pass under way before any request; the next says how far the window got.
    assert "pass_window" not in planned and planned["pass_start"] == day(89)
    assert first_batch["pass_window"] == {"end": day(0), "ids_done_through": "1249"}
    assert "pass_window" not in final_state(output, "campaign_analytics")["states"][0]


def test_given_a_window_half_done_when_resumed_then_only_the_ids_after_the_last_one_done_are_requested(api):
    campaigns_api(api, 300)
    entry = {
        "partition": A,
        "cursor": {},
        "pass_start": day(89),
        "pass_done_through": day(90),
        "pass_window": {"end": day(0), "ids_done_through": "1249"},
    }
    state = {"campaign_analytics": {"states": [entry], "pass_generation": generation()}}

    output = read_streams(make_config(), ["campaign_analytics"], SyncMode.incremental, state)

    assert requested_campaign_ids(api) == [[str(1000 + i) for i in range(250, 300)]]
    assert final_state(output, "campaign_analytics")["states"] == [{"partition": A, "cursor": {"DATE": day(0)}}]


# -- full refreshes in a resumed attempt ---------------------------------------------------------------------------

BOARDS_DONE = {"__ab_full_refresh_sync_complete": True}


def boards_api(api) -> None:
    api.pages("boards", [[{"id": "b1", "name": "one", "created_at": "2024-01-01T00:00:00"}]])


def test_given_a_full_refresh_done_in_an_attempt_whose_metrics_pass_is_under_way_then_it_is_not_read_again(api):
    accounts_api(api)
    boards_api(api)
    entry = {"partition": A, "cursor": {"DATE": day(20)}, "pass_start": day(50), "pass_done_through": day(5)}
    state = {
        "ad_account_analytics": {"states": [entry], "pass_generation": generation()},
        "boards": {**BOARDS_DONE, "pass_generation": generation()},
    }

    output = read_streams(make_config(), ["ad_account_analytics", "boards"], SyncMode.incremental, state)

    assert api.requests_to("boards") == []
    assert records_of(output, "boards") == []
    assert final_state(output, "boards", with_generation=True) == {**BOARDS_DONE, "pass_generation": generation()}
    assert start_dates(api) == [day(4)]  # the metrics pass goes on where it was


@pytest.mark.parametrize(
    "boards_generation",
    [
        "2024-06-30T11:30:00Z",  # the last sync finished half an hour ago: the metrics read nothing, boards whole
        generation(1),  # yesterday's
        None,  # a state the platform cleared for a new sync
    ],
)
def test_given_no_pass_under_way_then_a_completed_full_refresh_is_read_whole_again(api, boards_generation):
    accounts_api(api)
    boards_api(api)
    metrics_generation = boards_generation or "2024-06-30T11:30:00Z"
    state = {
        "ad_account_analytics": {
            "states": [{"partition": A, "cursor": {"DATE": day(0)}}],
            "pass_generation": metrics_generation,
        },
        "boards": {**BOARDS_DONE, "pass_generation": boards_generation} if boards_generation else BOARDS_DONE,
    }

    output = read_streams(make_config(), ["ad_account_analytics", "boards"], SyncMode.incremental, state)

    assert [r["id"] for r in records_of(output, "boards")] == ["b1"]
    assert final_state(output, "boards") == BOARDS_DONE


def test_given_a_finished_sync_and_a_full_refresh_completed_in_an_older_one_then_a_new_sync_reads_new_metrics(api):
    accounts_api(api)
    boards_api(api)
    state = {
        # Today's sync finished four hours ago; boards, read whole yesterday, was not selected in it.
        "ad_account_analytics": {
            "states": [{"partition": A, "cursor": {"DATE": day(0)}}],
            "pass_generation": generation(),
        },
        "boards": {**BOARDS_DONE, "pass_generation": generation(1)},
    }

    output = read_streams(make_config(), ["ad_account_analytics", "boards"], SyncMode.incremental, state)

    assert start_dates(api)  # a new generation: the look-back is read again, not skipped as already done
    assert [r["id"] for r in records_of(output, "boards")] == ["b1"]
    assert final_state(output, "boards", with_generation=True)["pass_generation"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
