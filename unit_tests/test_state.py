"""Per-parent incremental state: what a sync emits given the saved state, and how the state advances."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from airbyte_cdk.sources.types import StreamSlice
from hypothesis import given, settings
from hypothesis import strategies as st

from source_pinterest.sync.state import (
    ParentsDoneCursor,
    PerParentCursor,
    id_order,
    in_id_order,
    resumes_a_pass,
)

A, B, C = {"ad_account_id": "1"}, {"ad_account_id": "2"}, {"ad_account_id": "3"}


def rec(record_id: str, updated: Any) -> dict[str, Any]:
    return {"id": record_id, "updated_time": updated}


def sync(
    cursor: PerParentCursor,
    listings: Mapping[str, list[dict[str, Any]]],
    partitions: Mapping[str, Mapping[str, Any]],
    interrupted: Iterable[str] = (),
) -> dict[str, list[str]]:
    """Read each parent's listing the way EntityStream does: filter, observe, and close the parent when complete."""
    emitted: dict[str, list[str]] = {}
    for name, records in listings.items():
        partition = partitions[name]
        emitted[name] = []
        for record in records:
            cursor.observe(partition, record)
            if cursor.is_new(partition, record):
                emitted[name].append(record["id"])
        if name not in interrupted:
            cursor.close(partition)
    return emitted


def per_parent(state: Mapping[str, Any] | None) -> PerParentCursor:
    cursor = PerParentCursor("updated_time", partitioned=True)
    cursor.set_state(state)
    return cursor


def saved(*entries: tuple[Mapping[str, Any], Any]) -> dict[str, Any]:
    return {
        "states": [{"partition": dict(partition), "cursor": {"updated_time": value}} for partition, value in entries]
    }


PARTITIONS = {"A": A, "B": B, "C": C}

SCENARIOS = [
    # id, saved state, listings per parent, expected emitted ids per parent, expected state after the sync
    (
        "first sync emits everything and saves the max",
        None,
        {"A": [rec("a1", 100), rec("a2", 300)], "B": [rec("b1", 50)]},
        {"A": ["a1", "a2"], "B": ["b1"]},
        saved((A, 300), (B, 50)),
    ),
    (
        "next sync emits only records at or after the cursor",
        saved((A, 300)),
        {"A": [rec("a1", 100), rec("a2", 300), rec("a3", 301)]},
        {"A": ["a2", "a3"]},
        saved((A, 301)),
    ),
    (
        "each parent has its own cursor",
        saved((A, 300), (B, 100)),
        {"A": [rec("a1", 200), rec("a2", 400)], "B": [rec("b1", 200)], "C": [rec("c1", 1)]},
        {"A": ["a2"], "B": ["b1"], "C": ["c1"]},
        saved((A, 400), (B, 200), (C, 1)),
    ),
    (
        "the max wins even when it is not the last record",
        None,
        {"A": [rec("a1", 300), rec("a2", 100), rec("a3", 200)]},
        {"A": ["a1", "a2", "a3"]},
        saved((A, 300)),
    ),
    (
        "a parent with nothing new keeps its cursor",
        saved((A, 300)),
        {"A": [rec("a1", 100)]},
        {"A": []},
        saved((A, 300)),
    ),
    ("a parent with no records and no state saves nothing", None, {"A": []}, {"A": []}, {"states": []}),
    (
        "legacy flat state applies to every parent",
        {"updated_time": 200},
        {"A": [rec("a1", 100), rec("a2", 250)], "B": [rec("b1", 199), rec("b2", 200)]},
        {"A": ["a2"], "B": ["b2"]},
        saved((A, 250), (B, 200)),
    ),
    (
        "a per-parent entry wins over the legacy flat value",
        {**saved((A, 50)), "updated_time": 200},
        {"A": [rec("a1", 100)], "B": [rec("b1", 100)]},
        {"A": ["a1"], "B": []},
        saved((A, 100), (B, 200)),
    ),
    (
        "records without the cursor field are kept",
        saved((A, 300)),
        {"A": [{"id": "a1"}, rec("a2", None)]},
        {"A": ["a1", "a2"]},
        saved((A, 300)),
    ),
    (
        "a cursor of another type than the state never drops a record",
        saved((A, "2024-01-01T00:00:00")),
        {"A": [rec("a1", 1700000000), rec("a2", 1)]},
        {"A": ["a1", "a2"]},
        saved((A, "2024-01-01T00:00:00")),
    ),
    (
        "string timestamps compare in time order",
        saved((A, "2024-02-01T00:00:00")),
        {"A": [rec("a1", "2024-01-31T23:59:59"), rec("a2", "2024-02-01T00:00:00"), rec("a3", "2024-03-01T00:00:00")]},
        {"A": ["a2", "a3"]},
        saved((A, "2024-03-01T00:00:00")),
    ),
]


@pytest.mark.parametrize(
    "state,listings,expected_emitted,expected_state", [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
def test_per_parent_sync(state, listings, expected_emitted, expected_state):
    cursor = per_parent(state)

    emitted = sync(cursor, listings, PARTITIONS)

    assert emitted == expected_emitted
    assert cursor.get_state() == expected_state


def test_state_only_advances_when_the_parent_is_closed():
    cursor = per_parent(saved((A, 100)))

    sync(cursor, {"A": [rec("a1", 500)], "B": [rec("b1", 600)]}, PARTITIONS, interrupted={"A", "B"})

    assert cursor.get_state() == saved((A, 100))
    cursor.close(B)
    assert cursor.get_state() == saved((A, 100), (B, 600))


def test_given_interrupted_parent_when_next_sync_then_its_records_come_again():
    cursor = per_parent(saved((A, 100)))
    sync(cursor, {"A": [rec("a1", 500)]}, PARTITIONS, interrupted={"A"})

    again = per_parent(cursor.get_state())

    assert sync(again, {"A": [rec("a1", 500), rec("a0", 99)]}, PARTITIONS) == {"A": ["a1"]}


def test_state_round_trips_through_get_and_set():
    first = per_parent(None)
    sync(first, {"A": [rec("a1", 10)], "B": [rec("b1", 20)]}, PARTITIONS)

    second = per_parent(first.get_state())

    assert second.get_state() == first.get_state()
    assert second.start_of(A) == 10 and second.start_of(B) == 20 and second.start_of(C) is None


def test_legacy_flat_value_is_not_carried_on_to_parents_that_were_not_read():
    cursor = per_parent({"updated_time": 200})

    sync(cursor, {"A": [rec("a1", 300)]}, PARTITIONS)

    # B was not listed this sync: next time it is read from the start rather than from an inherited value.
    assert cursor.get_state() == saved((A, 300))


def test_set_state_forgets_what_an_earlier_state_said():
    cursor = per_parent(saved((A, 300)))

    cursor.set_state(None)

    assert cursor.start_of(A) is None
    assert cursor.get_state() == {"states": []}


PARENTLESS = [
    ("first sync", None, [rec("1", "2024-01-01"), rec("2", "2024-03-01")], ["1", "2"], {"updated_time": "2024-03-01"}),
    (
        "next sync",
        {"updated_time": "2024-02-01"},
        [rec("1", "2024-01-01"), rec("2", "2024-03-01")],
        ["2"],
        {"updated_time": "2024-03-01"},
    ),
    ("nothing read, no state", None, [], [], {}),
    (
        "nothing new keeps the state",
        {"updated_time": "2024-02-01"},
        [rec("1", "2024-01-01")],
        [],
        {"updated_time": "2024-02-01"},
    ),
]


@pytest.mark.parametrize(
    "state,records,expected_emitted,expected_state", [p[1:] for p in PARENTLESS], ids=[p[0] for p in PARENTLESS]
)
def test_parentless_stream_keeps_a_flat_state(state, records, expected_emitted, expected_state):
    cursor = PerParentCursor("updated_time", partitioned=False)
    cursor.set_state(state)

    emitted = sync(cursor, {"all": records}, {"all": {}})

    assert emitted == {"all": expected_emitted}
    assert cursor.get_state() == expected_state


# -- no record is ever lost between two syncs --------------------------------------------------------------------


@st.composite
def two_syncs(draw):
    """Per parent, record versions stamped with times; the first sync sees those up to a cut-off (maybe interrupted
    part-way), the second sees every version. Listings come in any order, as Pinterest sorts by id."""
    parents = draw(st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3, unique=True))
    plan = {}
    for parent in parents:
        times = draw(st.lists(st.integers(min_value=0, max_value=50), max_size=15))
        versions = [rec(f"{parent}{i}", t) for i, t in enumerate(times)]
        cut = draw(st.integers(min_value=0, max_value=51))
        first = draw(st.permutations([v for v in versions if v["updated_time"] <= cut]))
        interrupted_after = draw(st.none() | st.integers(min_value=0, max_value=len(first)))
        plan[parent] = (versions, first, interrupted_after, draw(st.permutations(versions)))
    legacy = draw(st.none() | st.integers(min_value=0, max_value=50))
    return plan, legacy


@settings(max_examples=300, deadline=None)
@given(two_syncs())
def test_union_of_two_syncs_holds_every_record_updated_after_the_starting_state(scenario):
    plan, legacy = scenario
    first = per_parent({"updated_time": legacy} if legacy is not None else None)
    first_listings = {
        p: first_seen if cut_at is None else first_seen[:cut_at] for p, (_, first_seen, cut_at, _) in plan.items()
    }
    interrupted = {p for p, (_, _, cut_at, _) in plan.items() if cut_at is not None}
    emitted_first = sync(first, first_listings, PARTITIONS, interrupted=interrupted)

    second = per_parent(first.get_state())
    emitted_second = sync(second, {p: second_seen for p, (_, _, _, second_seen) in plan.items()}, PARTITIONS)

    for parent, (versions, *_rest) in plan.items():
        emitted = set(emitted_first[parent]) | set(emitted_second[parent])
        wanted = {v["id"] for v in versions if legacy is None or v["updated_time"] >= legacy}
        assert wanted <= emitted, f"parent {parent} lost {sorted(wanted - emitted)}"


# -- resumable full refresh per parent ---------------------------------------------------------------------------

DONE = {"__ab_full_refresh_sync_complete": True}


def close(cursor: ParentsDoneCursor, partition: Mapping[str, Any]) -> None:
    cursor.close_slice(StreamSlice(partition=dict(partition), cursor_slice={}))


def test_parents_done_are_skipped_and_the_pass_ends_complete():
    cursor = ParentsDoneCursor()
    cursor.set_initial_state({"states": [{"partition": A, "cursor": DONE}]})

    assert cursor.to_read([A, B, C]) == [B, C]
    close(cursor, B)
    assert cursor.get_stream_state() == {"states": [{"partition": A, "cursor": DONE}, {"partition": B, "cursor": DONE}]}
    close(cursor, C)
    assert cursor.get_stream_state() == DONE
    assert cursor.select_state(StreamSlice(partition=C, cursor_slice={})) == DONE


@pytest.mark.parametrize("saved", [None, {}, DONE])
def test_a_completed_pass_or_no_state_reads_every_parent(saved):
    cursor = ParentsDoneCursor()
    cursor.set_initial_state(saved)

    assert cursor.to_read([A, B]) == [A, B]
    assert cursor.get_stream_state() == {"states": []}


def test_the_plan_survives_the_state_being_set_again_after_the_first_slices():
    cursor = ParentsDoneCursor()
    cursor.set_initial_state({"states": [{"partition": A, "cursor": DONE}]})
    cursor.to_read([A, B])

    cursor.set_initial_state(cursor.get_stream_state())  # what the CDK does once it drew the first slices
    close(cursor, B)

    assert cursor.get_stream_state() == DONE


def test_a_pass_with_no_parent_left_is_complete_at_once():
    cursor = ParentsDoneCursor()
    cursor.set_initial_state({"states": [{"partition": A, "cursor": DONE}]})

    assert cursor.to_read([A]) == []
    assert cursor.get_stream_state() == DONE


G = "2024-06-30T10:00:00Z"


@pytest.mark.parametrize(
    "resumes, saved_generation, expected",
    [
        (True, G, []),  # an attempt of the same sync, some pass still under way: nothing to read again
        (False, G, [A, B]),  # no pass under way (e.g. the last sync just finished): a new pass
        (True, "2024-06-29T10:00:00Z", [A, B]),  # completed in another generation
        (True, None, [A, B]),  # a state written before generations were saved
    ],
)
def test_a_completed_pass_is_read_again_unless_an_attempt_of_its_generation_resumes_a_pass(
    resumes, saved_generation, expected
):
    cursor = ParentsDoneCursor("boards")
    cursor.join_generation(G, resumes)
    cursor.set_initial_state({**DONE, "pass_generation": saved_generation} if saved_generation else DONE)

    assert cursor.to_read([A, B]) == expected
    if not expected:
        assert cursor.get_stream_state() == {**DONE, "pass_generation": G}


def test_the_state_names_its_generation_under_way_and_complete():
    cursor = ParentsDoneCursor("boards")
    cursor.join_generation(G, False)
    cursor.set_initial_state(None)
    cursor.to_read([A, B])
    close(cursor, A)

    assert cursor.get_stream_state() == {"states": [{"partition": A, "cursor": DONE}], "pass_generation": G}
    close(cursor, B)
    assert cursor.get_stream_state() == {**DONE, "pass_generation": G}


def test_a_pass_resumed_is_one_of_this_generation_under_way_in_a_metrics_or_full_refresh_state():
    metrics_under_way = {"states": [{"partition": A, "cursor": {}, "pass_start": "2024-06-01"}], "pass_generation": G}
    metrics_done = {"states": [{"partition": A, "cursor": {"DATE": "2024-06-30"}}], "pass_generation": G}
    full_refresh_under_way = {"states": [{"partition": A, "cursor": DONE}], "pass_generation": G}
    complete = {**DONE, "pass_generation": G}

    assert resumes_a_pass([metrics_under_way], [complete], G)
    assert resumes_a_pass([metrics_done], [complete, full_refresh_under_way], G)
    assert resumes_a_pass([], [{"states": [], "pass_generation": G}], G)  # begun, no parent done yet
    assert not resumes_a_pass([metrics_done, {"states": [], "pass_generation": G}], [complete], G)
    assert not resumes_a_pass([{**metrics_under_way, "pass_generation": "2024-06-29T10:00:00Z"}], [complete], G)
    assert not resumes_a_pass([None], [complete, None], G)


def test_ids_in_id_order_are_distinct_and_numeric_in_order_shorter_first():
    ids = ["1200", "999", "1200", "35", "1199", "abc"]

    assert in_id_order(ids) == sorted(set(ids), key=id_order) == ["35", "999", "abc", "1199", "1200"]
