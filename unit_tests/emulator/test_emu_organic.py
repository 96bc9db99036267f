"""Organic pin analytics and top pins: what the endpoints refuse (as the OpenAPI does), their shapes, data_status."""

import datetime as dt

import pytest

from pinterest_emulator.endpoints_organic import PIN_METRIC_TYPES, TOP_PINS_METRICS, TOP_VIDEO_METRICS

RANGE = {"start_date": "2025-05-01", "end_date": "2025-06-01", "metric_types": ",".join(PIN_METRIC_TYPES)}


def pin_ids(emu, count: int) -> list[str]:
    return [p.id for p in emu.state.ds.pins[:count]]


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"start_date": "2025-02-01"}, "90 days prior"),
        ({"start_date": "2025-03-04", "end_date": "2025-06-10"}, "maximum of 90 days"),
        ({"end_date": "2025-04-30"}, "end_date"),
        ({"metric_types": None}, "metric_types"),
        ({"metric_types": "IMPRESSION,ENGAGEMENT"}, "ENGAGEMENT"),
        ({"app_types": "PHONE"}, "app_types"),
    ],
)
def test_multi_pin_analytics_refuses_what_the_spec_refuses(api, emu, change, needle):
    params = {**RANGE, "pin_ids": pin_ids(emu, 3), **change}
    r = api.get("/pins/analytics", {k: v for k, v in params.items() if v is not None})
    assert r.status_code == 400 and needle in r.json()["message"], r.text


def test_multi_pin_analytics_takes_at_most_100_pin_ids_and_needs_one(api, emu):
    assert api.get("/pins/analytics", {**RANGE, "pin_ids": pin_ids(emu, 101)}).status_code == 400
    assert api.get("/pins/analytics", RANGE).status_code == 400
    assert api.get("/pins/analytics", {**RANGE, "pin_ids": pin_ids(emu, 100)}).status_code == 200


def test_multi_pin_analytics_is_keyed_by_pin_and_matches_the_single_pin_endpoint(api, emu):
    ids = pin_ids(emu, 3)
    body = api.get("/pins/analytics", {**RANGE, "pin_ids": ids}).json()
    assert sorted(body) == sorted(ids)
    for pin_id in ids:
        single = api.get(f"/pins/{pin_id}/analytics", RANGE).json()
        assert body[pin_id] == single
        days = single["all"]["daily_metrics"]
        assert [d["date"] for d in days] == [
            (dt.date(2025, 5, 1) + dt.timedelta(days=i)).isoformat() for i in range(32)
        ]
        assert {"summary_metrics", "lifetime_metrics"} <= set(single["all"])


def test_single_pin_analytics_needs_metric_types_and_a_known_pin(api, emu):
    pin_id = pin_ids(emu, 1)[0]
    assert api.get(f"/pins/{pin_id}/analytics", {**RANGE, "metric_types": ""}).status_code == 400
    r = api.get("/pins/1/analytics", RANGE)
    assert r.status_code == 404 and r.json()["code"] == 50


def test_beta_multi_pin_endpoint_can_be_closed_to_the_app(api, emu):
    emu.configure(multi_pin_analytics=False)
    try:
        r = api.get("/pins/analytics", {**RANGE, "pin_ids": pin_ids(emu, 2)})
    finally:
        emu.configure(multi_pin_analytics=True)
    assert r.status_code == 403
    assert api.get(f"/pins/{pin_ids(emu, 1)[0]}/analytics", RANGE).status_code == 200


def test_recent_days_are_processing_with_partial_numbers_until_ready(api, emu):
    pin_id = pin_ids(emu, 1)[0]
    ready = api.get(f"/pins/{pin_id}/analytics", RANGE).json()["all"]["daily_metrics"]
    emu.configure(organic_processing_days=2)
    try:
        recent = api.get(f"/pins/{pin_id}/analytics", RANGE).json()["all"]["daily_metrics"]
    finally:
        emu.configure(organic_processing_days=0)
    assert [d["data_status"] for d in recent[-3:]] == ["READY", "PROCESSING", "PROCESSING"]
    assert recent[-3] == ready[-3]
    assert recent[-1]["metrics"]["IMPRESSION"] == ready[-1]["metrics"]["IMPRESSION"] // 2


def test_a_pin_has_no_metrics_before_it_was_created(api, emu):
    newest = max(emu.state.ds.pins, key=lambda p: p.created)
    created = dt.datetime.fromtimestamp(newest.created, dt.UTC).date()
    start = max(created - dt.timedelta(days=3), dt.date(2025, 3, 4))
    params = {**RANGE, "start_date": start.isoformat()}
    days = api.get(f"/pins/{newest.id}/analytics", params).json()["all"]["daily_metrics"]
    before = [d for d in days if d["date"] < created.isoformat()]
    assert before and all(d["data_status"] == "BEFORE_PIN_CREATED" and d["metrics"] == {} for d in before)


@pytest.mark.parametrize(
    "path, change, needle",
    [
        ("top_pins", {"sort_by": None}, "sort_by"),
        ("top_pins", {"sort_by": "VIDEO_START"}, "sort_by"),
        ("top_video_pins", {"sort_by": "PIN_CLICK"}, "sort_by"),
        ("top_pins", {"num_of_pins": "51"}, "num_of_pins"),
        ("top_pins", {"num_of_pins": "0"}, "num_of_pins"),
        ("top_pins", {"metric_types": "VIDEO_START"}, "VIDEO_START"),
        ("top_pins", {"start_date": "2025-02-01"}, "90 days prior"),
        ("top_pins", {"created_in_last_n_days": "7"}, "created_in_last_n_days"),
    ],
)
def test_top_pins_refuse_what_the_spec_refuses(api, path, change, needle):
    params = {"start_date": "2025-05-01", "end_date": "2025-06-01", "sort_by": "IMPRESSION", **change}
    r = api.get(f"/user_account/analytics/{path}", {k: v for k, v in params.items() if v is not None})
    assert r.status_code == 400 and needle in r.json()["message"], r.text


@pytest.mark.parametrize("path, metrics", [("top_pins", TOP_PINS_METRICS), ("top_video_pins", TOP_VIDEO_METRICS)])
def test_top_pins_rank_by_sort_by_with_every_metric_by_default(api, path, metrics):
    params = {"start_date": "2025-05-01", "end_date": "2025-06-01", "sort_by": "SAVE", "num_of_pins": "50"}
    body = api.get(f"/user_account/analytics/{path}", params).json()
    assert body["sort_by"] == "SAVE" and len(body["pins"]) == 50
    saves = [p["metrics"]["SAVE"] for p in body["pins"]]
    assert saves == sorted(saves, reverse=True)
    assert set(body["pins"][0]["metrics"]) == set(metrics)
    assert len(body["pins"][0]["data_status"]) == 32
    default = api.get(f"/user_account/analytics/{path}", {**params, "num_of_pins": None}).json()
    assert len(default["pins"]) == 10  # the spec's default
