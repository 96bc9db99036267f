"""Organic analytics (pin_analytics, user_account_top_pins, user_account_top_video_pins) and data readiness, read
through the real entrypoint against a mocked Pinterest API."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from airbyte_cdk.models import SyncMode

from source_pinterest import limits
from source_pinterest.metrics.organic import PIN_METRIC_TYPES, TOP_PINS_STREAMS, is_final, kept_pin, pin_created_by
from source_pinterest.source import build_context, build_streams
from source_pinterest.sync.context import ParentListings
from source_pinterest.sync.state import PassCursor
from unit_tests.conftest import API, final_state, make_config, query, read_streams, records_of

TODAY = dt.date(2024, 6, 30)
EARLIEST = TODAY - dt.timedelta(days=89)  # 90 days including today


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(limits, "today", lambda: TODAY)


def day(offset: int) -> str:
    return (TODAY - dt.timedelta(days=offset)).isoformat()


def pin(n: int, created: str = "2020-01-01T00:00:00") -> dict:
    return {"id": str(394_000_000_000_000_000 + n), "created_at": created, "title": f"Pin {n}"}


def days_of(q: dict, status_of) -> list[dict]:
    dates = dict.fromkeys([q["start_date"][0], q["end_date"][0]])
    return [{"date": d, "data_status": status_of(d), "metrics": {"IMPRESSION": 10, "SAVE_RATE": 0.5}} for d in dates]


def multi_answer(status_of=lambda date: "READY"):
    def answer(request, context):
        q = query(request)
        return {i: {"all": {"daily_metrics": days_of(q, status_of), "summary_metrics": {}}} for i in q["pin_ids"]}

    return answer


def single_answer(request, context):
    return {"all": {"daily_metrics": days_of(query(request), lambda d: "READY"), "lifetime_metrics": {}}}


# -- pin_analytics ------------------------------------------------------------------------------------------------


def test_given_250_pins_when_read_then_batches_of_100_ids_over_90_days_with_every_metric_type(api):
    pins = [pin(n) for n in range(250)]
    api.pages("pins", [pins])
    api.mocker.get(API + "pins/analytics", json=multi_answer())

    output = read_streams(make_config(), ["pin_analytics", "pins"])

    calls = api.requests_to("pins/analytics")
    assert [len(query(c)["pin_ids"]) for c in calls] == [100, 100, 50]
    assert {i for c in calls for i in query(c)["pin_ids"]} == {p["id"] for p in pins}
    for call in calls:
        q = query(call)
        assert (q["start_date"], q["end_date"], q["app_types"]) == ([EARLIEST.isoformat()], [day(0)], ["ALL"])
        assert q["metric_types"] == [",".join(PIN_METRIC_TYPES)]  # explode: false, one value
    assert len(api.requests_to("pins")) == 1  # the pins stream and pin_analytics share one listing
    rows = records_of(output, "pin_analytics")
    assert len(rows) == 250 * 2
    assert rows[0] == {
        "PIN_ID": pins[0]["id"],
        "DATE": EARLIEST.isoformat(),
        "DATA_STATUS": "READY",
        "IMPRESSION": 10,
        "SAVE_RATE": 0.5,
    }
    assert len(records_of(output, "pins")) == 250


def kept_listings(monkeypatch, streams: list[str]) -> dict[str, list]:
    """A read of `streams` through the entrypoint; what it stored of each kept listing, as stored (before any
    stream_done trims it), by listing name."""
    stored: dict[str, list] = {}
    original = ParentListings.store

    def spy(self, stream, partition_key, records):
        stored[stream] = [dict(record) if isinstance(record, dict) else record for record in records]
        original(self, stream, partition_key, records)

    monkeypatch.setattr(ParentListings, "store", spy)
    read_streams(make_config(), streams)
    return stored


def test_given_pins_and_pin_analytics_when_read_then_only_the_id_and_creation_day_of_each_pin_are_kept(
    api, monkeypatch
):
    api.pages("pins", [[pin(n) for n in range(3)]])
    api.mocker.get(API + "pins/analytics", json=multi_answer())

    kept = kept_listings(monkeypatch, ["pins", "pin_analytics"])

    # Never the whole pin (its title here), even while the pins stream is still being read: its id and day.
    assert kept["pins"] == [kept_pin(pin(n)) for n in range(3)]
    assert pin_created_by(kept["pins"], dt.date(2020, 1, 1)) == [pin(n)["id"] for n in range(3)]


def test_given_pins_without_pin_analytics_when_read_then_no_pin_is_kept(api, monkeypatch):
    api.pages("pins", [[pin(n) for n in range(3)]])

    assert "pins" not in kept_listings(monkeypatch, ["pins"])


def test_given_pin_analytics_listed_the_pins_first_then_the_pins_stream_lists_its_whole_records_itself(api):
    api.pages("pins", [[pin(1), pin(2)]])
    ctx = build_context(make_config())
    build_streams(ctx)
    ctx.parents.select(["pins", "pin_analytics"])

    ids = ctx.compact_records_of("pins")  # pin_analytics's look-up, before the pins stream read
    records = list(ctx.streams["pins"].read_records(SyncMode.full_refresh, stream_slice={}))

    assert pin_created_by(ids, dt.date(2020, 1, 1)) == [pin(1)["id"], pin(2)["id"]]
    assert [r["title"] for r in records] == ["Pin 1", "Pin 2"]
    assert len(api.requests_to("pins")) == 2  # the few fields kept are no pins records


def test_given_pins_created_after_a_window_then_they_are_not_asked_for_in_it(api):
    api.pages("pins", [[pin(1), pin(2, created=f"{day(0)}T08:00:00")]])
    api.mocker.get(API + "pins/analytics", json=multi_answer())

    read_streams(make_config(start_date=day(5)), ["pin_analytics"])

    (call,) = api.requests_to("pins/analytics")
    assert query(call)["pin_ids"] == [pin(1)["id"], pin(2)["id"]]  # created today: today is in the window


def test_given_the_multi_pin_endpoint_is_refused_with_403_then_each_pin_is_read_alone_for_the_rest_of_the_sync(api):
    pins = [pin(n) for n in range(150)]
    api.pages("pins", [pins])
    api.json("pins/analytics", {"code": 29, "message": "not available"}, status_code=403)
    for p in pins:
        api.mocker.get(API + f"pins/{p['id']}/analytics", json=single_answer)

    output = read_streams(make_config(), ["pin_analytics"])

    assert len(api.requests_to("pins/analytics")) == 1  # asked once, then never again in this sync
    per_pin = [c for c in api.mocker.request_history if urlsplit(c.url).path.startswith("/v5/pins/39")]
    assert len(per_pin) == 150
    q = query(per_pin[0])
    assert "pin_ids" not in q and q["metric_types"] == [",".join(PIN_METRIC_TYPES)] and q["app_types"] == ["ALL"]
    assert {r["PIN_ID"] for r in records_of(output, "pin_analytics")} == {p["id"] for p in pins}
    warnings = [m.log.message for m in output.logs if "not available to this app" in m.log.message]
    assert len(warnings) == 1 and "GET /v5/pins/{pin_id}/analytics" in warnings[0]


def test_given_a_pin_deleted_since_listed_when_read_alone_then_it_is_skipped_and_the_others_sync(api):
    api.pages("pins", [[pin(1), pin(2)]])
    api.json("pins/analytics", {"code": 29, "message": "not available"}, status_code=403)
    api.mocker.get(API + f"pins/{pin(1)['id']}/analytics", json=single_answer)
    api.json(f"pins/{pin(2)['id']}/analytics", {"code": 50, "message": "Pin not found."}, status_code=404)

    output = read_streams(make_config(), ["pin_analytics"], SyncMode.incremental)

    assert {r["PIN_ID"] for r in records_of(output, "pin_analytics")} == {pin(1)["id"]}
    assert final_state(output, "pin_analytics") == {"DATE": day(0)}


def test_given_a_saved_date_when_read_incrementally_then_one_flat_cursor_with_the_look_back(api):
    api.pages("pins", [[pin(n) for n in range(3)]])
    api.mocker.get(API + "pins/analytics", json=multi_answer())

    output = read_streams(make_config(), ["pin_analytics"], SyncMode.incremental, {"pin_analytics": {"DATE": day(2)}})

    (call,) = api.requests_to("pins/analytics")
    assert (query(call)["start_date"], query(call)["end_date"]) == ([day(32)], [day(0)])  # 30 days look-back
    assert final_state(output, "pin_analytics") == {"DATE": day(0)}  # one date, however many pins


def test_given_a_pass_killed_after_its_first_batch_then_the_next_attempt_reads_only_the_pins_after_it(api):
    pins = [pin(n) for n in range(250)]
    api.pages("pins", [pins])
    api.mocker.get(API + "pins/analytics", json=multi_answer())
    first, last = EARLIEST.isoformat(), day(0)
    state = {
        "pin_analytics": {
            "pass_start": first,
            "pass_done_through": day(90),
            "pass_window": {"end": last, "ids_done_through": pins[99]["id"]},
            "pass_generation": f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}",
        }
    }

    output = read_streams(make_config(), ["pin_analytics"], SyncMode.incremental, state)

    calls = api.requests_to("pins/analytics")
    assert [len(query(c)["pin_ids"]) for c in calls] == [100, 50]
    assert query(calls[0])["pin_ids"][0] == pins[100]["id"]
    assert final_state(output, "pin_analytics") == {"DATE": last}


# -- data readiness -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status,final",
    [
        ("READY", True),
        ("PROCESSING", False),
        ("ESTIMATE", False),
        (None, False),
        ("SOMETHING_NEW", False),
        ("BEFORE_PIN_CREATED", True),
        ("BEFORE_DATA_RETENTION_PERIOD", True),
        ("AUDIENCE_TOTAL_SMALLER_THAN_THRESHOLD", True),
        ("IN_BAD_TAG_DATE", True),
    ],
)
def test_which_data_statuses_are_final(status, final):
    assert is_final(status) is final


def test_given_a_processing_day_then_the_pin_cursor_stops_the_day_before_it_and_the_next_sync_reads_it_again(api):
    api.pages("pins", [[pin(1)]])
    api.mocker.get(API + "pins/analytics", json=multi_answer(lambda d: "PROCESSING" if d == day(0) else "READY"))

    config = make_config(attribution_lookback_days=0)
    output = read_streams(config, ["pin_analytics"], SyncMode.incremental, {"pin_analytics": {"DATE": day(3)}})

    rows = records_of(output, "pin_analytics")
    assert [(r["DATE"], r["DATA_STATUS"]) for r in rows] == [(day(3), "READY"), (day(0), "PROCESSING")]
    assert final_state(output, "pin_analytics") == {"DATE": day(1)}


def test_given_user_account_days_not_final_then_its_cursor_stays_before_the_first_of_them(api):
    body = {
        "all": {
            "daily_metrics": [
                {"date": day(3), "data_status": "READY", "metrics": {"IMPRESSION": 1}},
                {"date": day(2), "data_status": "ESTIMATE", "metrics": {"IMPRESSION": 2}},
                {"date": day(1), "data_status": "READY", "metrics": {"IMPRESSION": 3}},
                {"date": day(0), "data_status": "PROCESSING", "metrics": {"IMPRESSION": 4}},
            ]
        }
    }
    api.json("user_account/analytics", body)

    output = read_streams(make_config(), ["user_account_analytics"], SyncMode.incremental)

    assert [r["data_status"] for r in records_of(output, "user_account_analytics")] == [
        "READY",
        "ESTIMATE",
        "READY",
        "PROCESSING",
    ]
    assert final_state(output, "user_account_analytics") == {"date": day(3)}


def test_given_a_not_ready_day_in_an_unfinished_pass_then_the_state_keeps_it_and_the_resumed_pass_honours_it():
    cursor = PassCursor("DATE", partitioned=True)
    partition = {"ad_account_id": "1"}
    cursor.begin_pass(partition, day(60), day(0))
    cursor.not_ready(partition, day(40))
    cursor.window_done(partition, day(31))
    saved = cursor.get_state()
    (entry,) = saved["states"]
    assert entry["pass_not_ready_from"] == day(40) and entry["cursor"] == {"DATE": day(41)}

    resumed = PassCursor("DATE", partitioned=True)
    resumed.set_state(saved)
    resumed.begin_pass(partition, day(60), day(0))
    resumed.window_done(partition, day(0))

    assert resumed.get_state() == {"states": [{"partition": partition, "cursor": {"DATE": day(41)}}]}


# -- top pins -----------------------------------------------------------------------------------------------------


def ranking(request, context):
    q = query(request)
    return {
        "date_availability": {"is_realtime": False, "latest_available_timestamp": 1719705599000},
        "pins": [
            {
                "pin_id": "394000000000000002",
                "metrics": {"IMPRESSION": 90, "SAVE": 3},
                "data_status": {day(0): "READY"},
            },
            {"pin_id": 394000000000000001, "metrics": {"IMPRESSION": 80, "SAVE": 9}, "data_status": {day(0): "READY"}},
        ],
        "sort_by": q["sort_by"][0],
    }


@pytest.mark.parametrize("spec", TOP_PINS_STREAMS, ids=[s.name for s in TOP_PINS_STREAMS])
def test_given_a_ranking_stream_when_read_then_one_call_per_sort_by_and_one_row_per_pin(api, spec):
    api.mocker.get(API + spec.path, json=ranking)

    output = read_streams(make_config(start_date=day(9)), [spec.name])

    calls = api.requests_to(spec.path)
    assert sorted(query(c)["sort_by"][0] for c in calls) == sorted(spec.sort_by)  # slices run in parallel
    for call in calls:
        q = query(call)
        assert (q["start_date"], q["end_date"], q["num_of_pins"]) == ([day(9)], [day(0)], ["50"])
        assert q["metric_types"] == [",".join(spec.metric_types)]
    rows = records_of(output, spec.name)
    assert len(rows) == 2 * len(spec.sort_by)
    (second,) = [r for r in rows if r["sort_by"] == spec.sort_by[0] and r["rank"] == 2]
    assert second == {
        "start_date": day(9),
        "end_date": day(0),
        "sort_by": spec.sort_by[0],
        "rank": 2,
        "pin_id": "394000000000000001",  # a numeric id from the API becomes a string
        "data_status": {day(0): "READY"},
        "IMPRESSION": 80,
        "SAVE": 9,
    }
    assert final_state(output, spec.name) == {"__ab_full_refresh_sync_complete": True}


def test_given_no_start_date_then_the_ranking_window_is_the_90_days_the_api_allows(api):
    spec = TOP_PINS_STREAMS[0]
    api.mocker.get(API + spec.path, json=ranking)

    read_streams(make_config(), [spec.name])

    q = query(api.requests_to(spec.path)[0])
    assert (q["start_date"], q["end_date"]) == ([EARLIEST.isoformat()], [day(0)])


def test_given_an_attempt_that_ranked_some_sort_orders_then_the_next_attempt_asks_only_for_the_others(api):
    spec = TOP_PINS_STREAMS[0]
    api.mocker.get(API + spec.path, json=ranking)
    done = [
        {"partition": {"sort_by": s}, "cursor": {"__ab_full_refresh_sync_complete": True}} for s in spec.sort_by[:2]
    ]

    read_streams(make_config(), [spec.name], state={spec.name: {"states": done}})

    assert sorted(query(c)["sort_by"][0] for c in api.requests_to(spec.path)) == sorted(spec.sort_by[2:])


def test_a_pin_is_kept_as_its_id_and_creation_day_and_one_created_at_no_one_can_read_counts_as_always_there():
    listed = [
        pin(1),
        {"id": 7, "created_at": "yesterday"},
        {"created_at": "2020-01-01"},
        {"id": "0123", "created_at": "2019-06-01"},  # not a plain number: kept as it is, not as 123
        {"id": "pin-abc", "created_at": "2021-03-04T10:00:00"},
        {"id": str(2**70), "created_at": "9999-12-31"},  # beyond 64 bits and the last day there is
    ]
    kept = [kept_pin(p) for p in listed]

    assert pin_created_by(kept, dt.date(2019, 12, 31)) == ["7", "0123"]  # pin 1 did not exist yet; no id is no pin
    assert pin_created_by(kept, dt.date(2020, 1, 1)) == [pin(1)["id"], "7", "0123"]
    assert pin_created_by(kept, dt.date(9999, 12, 31)) == [pin(1)["id"], "7", "0123", "pin-abc", str(2**70)]
    # A numeric id and its day are one int (what 60,000 pins cost): the same pin, a third of a tuple's bytes.
    assert (
        isinstance(kept[0], int) and isinstance(kept[1], int) and kept[3] == ("0123", dt.date(2019, 6, 1).toordinal())
    )
