"""The benchmark's CDK floor: the rows it emits, the copies it makes, its per-record figures and its line."""

import pytest
from airbyte_cdk.models import SyncMode

from pinterest_emulator.cdk_floor import (
    FloorFigures,
    FloorRun,
    FloorStream,
    copies_for,
    floor_line,
    floor_rows,
    measure_floor,
    mix_rows,
    per_record_us,
)

TRUTH = {
    "boards": [{"id": "1", "name": "a", "description": None}, {"id": "2", "name": "b", "description": "x"}],
    "pins": [{"id": "9", "note": None}],
    "keywords": [],
}


def test_floor_rows_take_as_many_of_each_stream_as_the_connector_emitted_without_null_fields():
    rows = floor_rows(TRUTH.__getitem__, {"boards": 3, "pins": 2, "keywords": 0})
    assert rows == [
        {"id": "1", "name": "a"},
        {"id": "2", "name": "b", "description": "x"},
        {"id": "1", "name": "a"},
        {"id": "9"},
        {"id": "9"},
    ]


def test_floor_rows_skip_a_stream_without_truth_and_do_not_ask_for_a_stream_with_no_records():
    asked = []

    def truth(stream):
        asked.append(stream)
        return TRUTH[stream]

    assert floor_rows(truth, {"keywords": 4, "pins": 0}) == []
    assert asked == ["keywords"]


def test_a_full_syncs_mix_keeps_the_proportions_of_its_record_counts_drawing_each_streams_samples_in_turn():
    samples = {"ads_analytics": [{"AD_ID": "1"}, {"AD_ID": "2"}], "boards": [{"id": "7"}], "pins": []}
    counts = {"ads_analytics": 9_000, "boards": 1_000, "pins": 50, "keywords": 5}
    rows = mix_rows(samples, counts, size=10)
    # 9,000 and 1,000 of the 10,000 records with samples; pins and keywords emitted no sample, so no rows.
    assert rows == [{"AD_ID": "1"}, {"AD_ID": "2"}] * 4 + [{"AD_ID": "1"}] + [{"id": "7"}]


def test_a_stream_with_few_records_still_gets_one_row_of_the_mix():
    rows = mix_rows({"ads_analytics": [{"AD_ID": "1"}], "boards": [{"id": "7"}]}, {"ads_analytics": 10**6, "boards": 3})
    assert rows.count({"id": "7"}) == 1
    assert rows.count({"AD_ID": "1"}) == 5_000


@pytest.mark.parametrize(
    "rows, minimum, expected", [(0, 100, 0), (1, 100, 100), (30, 100, 4), (100, 100, 1), (250, 100, 1)]
)
def test_whole_copies_reach_the_minimum(rows, minimum, expected):
    assert copies_for(rows, minimum) == expected


def test_the_stream_cycles_through_its_rows_until_it_emitted_the_count():
    stream = FloorStream([{"id": "1"}, {"id": "2"}], 5)
    assert [r["id"] for r in stream.read_records(SyncMode.full_refresh)] == ["1", "2", "1", "2", "1"]
    assert list(FloorStream([], 5).read_records(SyncMode.full_refresh)) == []
    assert stream.name == "floor"


@pytest.mark.parametrize(
    "records, cpu, startup, expected",
    [(1_000_000, 12.0, 2.0, 10.0), (500, 2.5, 2.0, 1000.0), (0, 3.0, 2.0, None), (100, 2.0, 2.0, None)],
)
def test_per_record_cpu_after_start_up(records, cpu, startup, expected):
    assert per_record_us(records, cpu, startup) == (pytest.approx(expected) if expected else None)


def floor(records=400_000, cpu=6.0, startup_cpu=2.0, returncode=0) -> FloorFigures:
    return FloorFigures(FloorRun(records, cpu, returncode), FloorRun(0, startup_cpu, 0))


def test_the_line_gives_both_rates_and_the_ratio():
    # Floor: 4 s for 400,000 records = 10 us a record; connector: 2 s for 20,000 = 100 us a record.
    line = floor_line(20_000, 4.5, 2.5, floor())
    assert "= 100,000 records per CPU-second after start-up (10.0 us a record)" in line
    assert "connector 10,000 (100.0 us a record); connector/floor 0.100x" in line
    assert "the connector spends 10.0x the floor's CPU a record" in line
    assert "rough" not in line


def test_the_line_says_when_a_figure_rests_on_less_than_a_second_of_cpu():
    line = floor_line(1_000, 3.0, 2.5, floor())
    assert "connector 2,000 (500.0 us a record) (rough: under 1 s of CPU after start-up)" in line


def test_the_line_says_what_could_not_be_measured():
    assert floor_line(1_000, 2.0, 2.5, floor()).endswith("connector: nothing measured after start-up")
    assert floor_line(1_000, 4.0, 2.0, floor(cpu=1.5)).endswith("nothing measured after start-up")
    assert floor_line(1_000, 4.0, 2.0, floor(returncode=1)) == "CDK floor: failed (exit codes 0, 1)"


def test_the_floor_runs_through_the_cdk_entrypoint_and_emits_every_record():
    figures = measure_floor([{"id": "1", "name": "a"}, {"id": "2", "count": 3}], minimum=7)
    assert figures.ok
    assert (figures.run.records, figures.startup.records) == (8, 0)
    assert figures.run.cpu_seconds > 0
