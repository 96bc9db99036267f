"""Streams are read in lanes side by side: entity streams one lane per rate-limit category, each async report in its
own, the live analytics together. num_workers 1 reads everything in one lane, in catalog order."""

from __future__ import annotations

import threading

from source_pinterest.source import build_context, build_streams, lane_of
from source_pinterest.streams.entity import EntityStream
from unit_tests.conftest import API, make_config, read_streams, records_of

BOARD = {"id": "1", "name": "b", "created_at": "2024-01-01T00:00:00"}
AD_ACCOUNT = {"id": "7", "name": "a", "updated_time": 1700000000}


def test_entity_streams_share_a_lane_per_category_and_every_report_has_its_own():
    streams = {stream.name: stream for stream in build_streams(build_context(make_config()))}
    lanes = {name: lane_of(stream) for name, stream in streams.items()}

    assert lanes["boards"] == lanes["board_pins"] == lanes["pins"] == "org_read"
    assert lanes["ad_accounts"] == lanes["campaigns"] == lanes["keywords"] == "ads_read"
    assert lanes["catalogs"] == "catalogs_read"
    assert lanes["campaign_analytics"] == lanes["ad_analytics"] == lanes["user_account_analytics"] == "analytics"
    assert lanes["ad_group_report"] == "ad_group_report" != lanes["keyword_report"] == "keyword_report"


def test_streams_of_two_lanes_are_read_at_the_same_time(api, monkeypatch):
    # Each listing only answers once the other one has been asked for: a sequential read would break the barrier.
    # (The listing itself is replaced: requests-mock answers one request at a time, whatever the threads.)
    both_asked = threading.Barrier(2, timeout=5)
    listed = {"boards": BOARD, "ad_accounts": AD_ACCOUNT}

    def fetch_from_api(stream, partition):
        both_asked.wait()
        yield dict(listed[stream.name])

    monkeypatch.setattr(EntityStream, "_fetch_from_api", fetch_from_api)

    output = read_streams(make_config(), ["boards", "ad_accounts"])

    assert not output.errors
    assert [r["id"] for r in records_of(output, "boards")] == ["1"]
    assert [r["id"] for r in records_of(output, "ad_accounts")] == ["7"]


def test_given_one_worker_then_streams_are_read_one_after_another_in_catalog_order(api):
    api.pages("boards", [[BOARD]])
    api.pages("ad_accounts", [[AD_ACCOUNT]])

    output = read_streams(make_config(num_workers=1), ["ad_accounts", "boards"])

    assert [m.record.stream for m in output.records] == ["ad_accounts", "boards"]


def test_a_failed_stream_stops_neither_its_lane_nor_the_others_and_the_sync_fails_naming_each(api):
    api.pages("boards", [[]], status_code=400)
    api.pages("pins", [[{"id": "9", "created_at": "2024-01-01T00:00:00"}]])
    api.pages("ad_accounts", [[]], status_code=400)

    output = read_streams(make_config(), ["boards", "pins", "ad_accounts"], expect_failure=True)

    assert [r["id"] for r in records_of(output, "pins")] == ["9"]
    failed = {m.trace.error.stream_descriptor.name for m in output.errors if m.trace.error.stream_descriptor}
    assert failed == {"boards", "ad_accounts"}
    closing = output.errors[-1].trace.error.message
    assert "boards" in closing and "ad_accounts" in closing


def test_a_parent_needed_by_two_lanes_is_listed_once(api):
    # ad_accounts is read in the ads lane and, at the same time, listed by the analytics lane for its partitions;
    # a slow answer makes sure the second lane asks while the first listing is under way.
    def slow_listing(request, context):
        threading.Event().wait(0.3)  # a real wait: time.sleep is patched out in unit tests
        return {"items": [AD_ACCOUNT], "bookmark": None}

    listing = api.mocker.get(API + "ad_accounts", json=slow_listing)
    api.json("ad_accounts/7/analytics", [])

    output = read_streams(make_config(), ["ad_accounts", "ad_account_analytics"])

    assert not output.errors
    assert [r["id"] for r in records_of(output, "ad_accounts")] == ["7"]
    assert listing.call_count == 1
    assert len(api.requests_to("ad_accounts/7/analytics")) == 1
