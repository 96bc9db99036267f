"""End to end through the CLI: pin_analytics and the top-pins rankings equal the emulator's truth row by row, full
and incremental, with the multi-pin endpoint and with its per-pin fallback; a PROCESSING day is read again and
becomes READY."""

from __future__ import annotations

import datetime as dt

import pytest

from integration_tests.conftest import Connector
from pinterest_emulator import Emulator
from pinterest_emulator.sync_runner import state_for_next_run

DAYS_BACK = 89  # the 90 days the connector reads when no start_date is set: today and the 89 before
RANKINGS = ("user_account_top_pins", "user_account_top_video_pins")


def span(today: dt.date, days_back: int = DAYS_BACK) -> tuple[str, str]:
    return (today - dt.timedelta(days=days_back)).isoformat(), today.isoformat()


def expected_pin_rows(emulator: Emulator, start: str, end: str) -> dict[tuple[str, str], dict]:
    """Truth as the connector's records: PIN_ID, DATE, DATA_STATUS, one column per metric."""
    rows = emulator.truth("pin_analytics", start_date=start, end_date=end)["rows"]
    return {
        (row["pin_id"], row["date"]): {
            "PIN_ID": row["pin_id"],
            "DATE": row["date"],
            "DATA_STATUS": row["data_status"],
            **row["metrics"],
        }
        for row in rows
    }


def keyed_pin_records(records: list[dict]) -> dict[tuple[str, str], dict]:
    keyed = {(r["PIN_ID"], r["DATE"]): r for r in records}
    assert len(keyed) == len(records), "duplicate (PIN_ID, DATE) rows"
    return keyed


def expected_rankings(emulator: Emulator, stream: str, start: str, end: str) -> list[dict]:
    answers = emulator.truth(stream, start_date=start, end_date=end)
    return [
        {
            "start_date": start,
            "end_date": end,
            "sort_by": sort_by,
            "rank": rank,
            "pin_id": pin["pin_id"],
            "data_status": pin["data_status"],
            **pin["metrics"],
        }
        for sort_by, answer in answers.items()
        for rank, pin in enumerate(answer["pins"], start=1)
    ]


@pytest.fixture(scope="module")
def organic_emulator():
    with Emulator(seed=7, size="small") as emu:
        yield emu


@pytest.fixture(scope="module")
def connector(organic_emulator: Emulator) -> Connector:
    return Connector(organic_emulator)


@pytest.fixture(scope="module")
def full_sync(organic_emulator, connector):
    organic_emulator.reset_stats()
    run = connector.read(("pins", "pin_analytics", *RANKINGS))
    return run, organic_emulator.stats()


def test_given_a_full_sync_then_pin_analytics_equals_the_truth_row_by_row(organic_emulator, full_sync):
    run, stats = full_sync
    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])

    got = keyed_pin_records(run.records("pin_analytics"))
    expected = expected_pin_rows(organic_emulator, *span(organic_emulator.state.today))
    assert set(got) == set(expected)
    assert got == expected
    assert len({pin for pin, _ in got}) == len(run.records("pins"))  # every pin of the user
    assert stats["by_endpoint"]["GET /v5/pins"] == 2  # the pins listing (300 pins, 2 pages) is read once
    assert stats["by_endpoint"]["GET /v5/pins/analytics"] == 3  # 100 pins a call
    assert run.final_states()["pin_analytics"]["DATE"] == organic_emulator.state.today.isoformat()


@pytest.mark.parametrize("stream", RANKINGS)
def test_given_a_full_sync_then_each_ranking_equals_the_truth(organic_emulator, full_sync, stream):
    run, stats = full_sync
    expected = expected_rankings(organic_emulator, stream, *span(organic_emulator.state.today))

    got = sorted(run.records(stream), key=lambda r: (r["sort_by"], r["rank"]))
    assert got == sorted(expected, key=lambda r: (r["sort_by"], r["rank"]))
    assert (
        len(got) == 50 * stats["by_endpoint"][f"GET /v5/user_account/analytics/{stream.removeprefix('user_account_')}"]
    )


def test_given_no_beta_access_then_pin_analytics_reads_each_pin_and_equals_the_truth(fresh_emulator):
    fresh_emulator.configure(multi_pin_analytics=False)
    connector = Connector(fresh_emulator)
    start, end = span(fresh_emulator.state.today, 9)
    connector.config = {**connector.config, "start_date": start}

    run = connector.read(("pin_analytics",))

    assert run.returncode == 0, run.errors()
    assert keyed_pin_records(run.records("pin_analytics")) == expected_pin_rows(fresh_emulator, start, end)
    stats = fresh_emulator.stats()["by_endpoint"]
    assert stats["GET /v5/pins/analytics"] == 1
    assert stats["GET /v5/pins/{pin_id}/analytics"] == len(fresh_emulator.truth("pins")["records"])


def test_given_processing_days_then_they_are_emitted_and_read_again_until_ready(fresh_emulator):
    today = fresh_emulator.state.today
    connector = Connector(fresh_emulator)
    start = (today - dt.timedelta(days=9)).isoformat()
    # No look-back: only readiness brings the PROCESSING days back.
    connector.config = {**connector.config, "start_date": start, "attribution_lookback_days": 0}
    streams = ("pin_analytics", "user_account_analytics")
    fresh_emulator.configure(organic_processing_days=2)

    first = connector.read(streams)

    assert first.returncode == 0, first.errors()
    first_rows = keyed_pin_records(first.records("pin_analytics"))
    assert first_rows == expected_pin_rows(fresh_emulator, start, today.isoformat())
    processing = {day for (_, day), row in first_rows.items() if row["DATA_STATUS"] == "PROCESSING"}
    assert processing == {today.isoformat(), (today - dt.timedelta(days=1)).isoformat()}
    day_before = (today - dt.timedelta(days=2)).isoformat()
    assert first.final_states()["pin_analytics"]["DATE"] == day_before
    assert first.final_states()["user_account_analytics"]["date"] == today.isoformat()  # its days are all READY

    fresh_emulator.configure(organic_processing_days=0)
    fresh_emulator.reset_stats()
    # A sync more than an hour later (state.RESUME_WINDOW) is a new sync, not an attempt of the first one.
    state = state_for_next_run(first)
    for message in state:
        stream_state = message["stream"]["stream_state"]
        if "pass_generation" in stream_state:
            stream_state["pass_generation"] = "2000-01-01T00:00:00Z"
    second = connector.read(streams, state=state)

    assert second.returncode == 0, second.errors()
    second_rows = keyed_pin_records(second.records("pin_analytics"))
    assert {day for _, day in second_rows} == {day_before, *processing}  # from the cursor, not before it
    assert second_rows == expected_pin_rows(fresh_emulator, day_before, today.isoformat())
    assert {row["DATA_STATUS"] for (_, day), row in second_rows.items() if day in processing} == {"READY"}
    reread = [key for key in second_rows if key[1] in processing]
    assert any(second_rows[key]["IMPRESSION"] != first_rows[key]["IMPRESSION"] for key in reread)
    assert second.final_states()["pin_analytics"]["DATE"] == today.isoformat()
