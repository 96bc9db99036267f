"""Flights: on the large size ad groups deliver in flights of weeks, so 186-day reports stay a few GB in total;
small and medium deliver on every day as before."""

from datetime import date, timedelta

import pytest

from pinterest_emulator import metrics
from pinterest_emulator.analytics_rows import entity_rows
from pinterest_emulator.sizes import SIZES
from pinterest_emulator.state import Settings, State
from pinterest_emulator.truth import report_truth_summary

END = date(2025, 6, 1)
SPAN = [(END - timedelta(days=n)).toordinal() for n in range(186)]


@pytest.fixture(scope="module")
def large():
    return State(Settings(seed=1, size="large", today=END.isoformat()))


def _delivering(ds, node) -> set:
    return {day for day in SPAN if metrics.base_metrics(ds, node, day) is not None}


def _flight_days(ds, node) -> set:
    return {day for day in SPAN if metrics.in_flight(ds, node, day)}


def test_given_large_when_an_ad_delivers_then_only_inside_its_ad_groups_flights(large):
    ds = large.ds
    groups = ds.all_of("ad_group")[::40]
    in_flight = delivered = possible = 0
    for group in groups:
        flight = _flight_days(ds, ds.kids("ad", group.id)[0])
        for node in ds.kids("ad", group.id) + ds.kids("keyword", group.id):
            assert _flight_days(ds, node) == flight  # the ad group's ads and keywords share its flights
            days = _delivering(ds, node)
            assert days <= flight
            live = {d for d in flight if d >= metrics.day_of(node.created)}
            if node.status != "DRAFT":
                possible += len(live)
                delivered += len(days)
        in_flight += len(flight)
    share = in_flight / (len(groups) * len(SPAN))
    assert 0.05 < share < 0.11  # flight_share 0.08, flights of FLIGHT_DAYS at their own phases
    assert 0.75 < delivered / possible < 0.9  # inside a flight about five days in six deliver, as on other sizes


def test_given_large_when_flights_then_each_is_a_run_of_fourteen_to_sixty_days(large):
    ds = large.ds
    for group in ds.all_of("ad_group")[::97]:
        ad = ds.kids("ad", group.id)[0]
        days = [metrics.in_flight(ds, ad, END.toordinal() + n) for n in range(-3000, 1)]
        runs, length = [], 0
        for on in days:
            if on:
                length += 1
            elif length:
                runs.append(length)
                length = 0
        inner = runs[1:]  # the first run may have begun before the range
        assert inner and all(metrics.FLIGHT_DAYS[0] <= n <= metrics.FLIGHT_DAYS[1] for n in inner)
        assert len(set(inner)) == 1


def test_given_large_when_live_analytics_then_an_ad_group_is_still_the_sum_of_its_ads(large):
    ds = large.ds
    start, columns = END - timedelta(days=89), ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1"]
    group = next(g for g in ds.all_of("ad_group")[::10] if _delivering(ds, ds.kids("ad", g.id)[0]))
    whole = entity_rows(ds, "AD_GROUP", group, start, END, "DAY", columns)
    parts: dict = {}
    for ad in ds.kids("ad", group.id):
        for row in entity_rows(ds, "AD", ad, start, END, "DAY", columns):
            parts[row["DATE"]] = parts.get(row["DATE"], 0) + row["SPEND_IN_MICRO_DOLLAR"]
    assert whole and {r["DATE"]: r["SPEND_IN_MICRO_DOLLAR"] for r in whole} == parts


@pytest.mark.parametrize("size, rows", [("small", 12_427), ("medium", 60_178)])
def test_given_small_or_medium_then_no_flights_and_report_rows_as_before(size, rows):
    assert SIZES[size].flight_share is None
    state = State(Settings(seed=1, size=size, today=END.isoformat()))
    ad = next(a for a in state.ds.all_of("ad") if a.status != "DRAFT")
    assert all(metrics.in_flight(state.ds, ad, day) for day in SPAN)
    query = {"level": "PIN_PROMOTION", "start_date": (END - timedelta(days=185)).isoformat(), "end_date": str(END)}
    assert report_truth_summary(state, query)["row_count"] == rows  # the figure before flights existed
