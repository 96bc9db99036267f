"""A connection moved from Airbyte's own Pinterest connector, through the real CLI against the emulator: its saved
state in each shape that connector wrote resumes where it was, a connection that synced boards and pins
incrementally on created_at (as this connector once did) reads them whole, and bad state or catalog files are
config errors that name the file before any API call.

The Airbyte states below are written from the shapes that connector's users see saved (see saved_state.py), with
the cursors a finished sync of this emulator's data would have left: each ad account's latest `updated_time` for
the entity streams, and a day a few days back for the metrics streams (per campaign for its analytics, per ad
account for its reports)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration_tests.conftest import Connector, truth
from pinterest_emulator import Emulator, sample_config
from pinterest_emulator.sync_runner import ConnectorRun, finished_run
from source_pinterest.limits import BASE_URL_ENV

REPO = Path(__file__).resolve().parent.parent

ENTITIES = ("campaigns", "ad_groups", "ads")
METRICS = ("campaign_analytics", "campaign_analytics_report")
LOOKBACK_DAYS = 2
SAVED_DAYS_AGO = 4  # the metrics cursors Airbyte's connector saved
START_DAYS_AGO = 20


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(seed=3, size="small", report_polls=0) as emu:
        yield emu


@pytest.fixture(scope="module")
def connector(emulator: Emulator) -> Connector:
    connector = Connector(emulator)
    today = emulator.state.today
    connector.config = {
        **sample_config(),
        "start_date": (today - dt.timedelta(days=START_DAYS_AGO)).isoformat(),
        "attribution_lookback_days": LOOKBACK_DAYS,
    }
    return connector


def stream_state(name: str, state: Any) -> dict:
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}}


def account_partition(account_id: str) -> dict:
    return {"id": account_id, "parent_slice": {}}


def latest_updates(emulator: Emulator, stream: str) -> dict[str, int]:
    """Each ad account's latest updated_time among the stream's records (what Airbyte's connector saved)."""
    latest: dict[str, int] = {}
    for record in truth(emulator, stream):
        account = str(record["ad_account_id"])
        latest[account] = max(latest.get(account, 0), int(record["updated_time"]))
    return latest


def airbyte_manifest_state(emulator: Emulator) -> list[dict]:
    """The 2.x shape: partitions by `id` and `parent_slice`, epochs as text, a global fallback and its flags."""
    saved_day = (emulator.state.today - dt.timedelta(days=SAVED_DAYS_AGO)).isoformat()
    messages = []
    for stream in ENTITIES:
        latest = latest_updates(emulator, stream)
        messages.append(
            stream_state(
                stream,
                {
                    "states": [
                        {"partition": account_partition(a), "cursor": {"updated_time": str(t)}}
                        for a, t in latest.items()
                    ],
                    "state": {"updated_time": str(min(latest.values()))},
                    "lookback_window": 1,
                    "use_global_cursor": False,
                    "parent_state": {"ad_accounts": {"updated_time": str(max(latest.values()))}},
                },
            )
        )
    campaigns = truth(emulator, "campaigns", statuses=["ACTIVE", "PAUSED", "ARCHIVED"])
    messages.append(
        stream_state(
            "campaign_analytics",
            {
                "states": [
                    {
                        "partition": {"id": str(c["id"]), "parent_slice": account_partition(str(c["ad_account_id"]))},
                        "cursor": {"DATE": saved_day},
                    }
                    for c in campaigns
                ],
                "use_global_cursor": False,
                "lookback_window": 0,
            },
        )
    )
    accounts = [str(a["id"]) for a in truth(emulator, "ad_accounts")]
    messages.append(
        stream_state(
            "campaign_analytics_report",
            {"states": [{"partition": account_partition(a), "cursor": {"DATE": saved_day}} for a in accounts]},
        )
    )
    return messages


def legacy_state_object(emulator: Emulator) -> dict:
    """The 0.x shape: one object, stream name -> flat state."""
    saved_day = (emulator.state.today - dt.timedelta(days=SAVED_DAYS_AGO)).isoformat()
    state: dict[str, Any] = {s: {"updated_time": min(latest_updates(emulator, s).values())} for s in ENTITIES}
    state.update({s: {"DATE": saved_day} for s in METRICS})
    return state


def assert_resumed(emulator: Emulator, run: ConnectorRun, per_account_cursor: bool) -> None:
    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])
    records = run.records_by_stream()
    for stream in ENTITIES:
        latest = latest_updates(emulator, stream)
        floor = min(latest.values())
        # Per-account cursors re-emit only each account's latest records; a flat one those of the oldest account on.
        expected = {
            str(r["id"])
            for r in truth(emulator, stream)
            if int(r["updated_time"]) >= (latest[str(r["ad_account_id"])] if per_account_cursor else floor)
        }
        got = [str(r["id"]) for r in records.get(stream, [])]
        assert sorted(got) == sorted(expected), f"{stream}: emitted {len(got)}, expected {len(expected)}"
        if per_account_cursor:
            assert len(got) <= 2 * len(latest), f"{stream}: more than about one record per parent came again"
    first_day = (emulator.state.today - dt.timedelta(days=SAVED_DAYS_AGO + LOOKBACK_DAYS)).isoformat()
    for stream in METRICS:
        days = {r["DATE"][:10] for r in records.get(stream, [])}
        assert days, f"{stream}: nothing re-read"
        assert min(days) >= first_day, f"{stream}: re-read from {min(days)}, before the look-back ({first_day})"
    for message in run.state_messages():
        state = message["stream"]["stream_state"]
        text = json.dumps(state)
        assert "parent_slice" not in text and "lookback_window" not in text and "use_global_cursor" not in text, text
        for entry in state.get("states", []):
            assert set(entry["partition"]) <= {"ad_account_id"}, entry


def test_given_the_state_airbytes_manifest_connector_saved_then_each_account_resumes_where_it_was(emulator, connector):
    run = connector.read(ENTITIES + METRICS, state=airbyte_manifest_state(emulator))

    assert_resumed(emulator, run, per_account_cursor=True)


def test_given_the_legacy_state_object_then_it_is_converted_and_every_stream_resumes(emulator, connector):
    run = connector.read(ENTITIES + METRICS, state=legacy_state_object(emulator))

    assert_resumed(emulator, run, per_account_cursor=False)


def test_given_cursors_in_the_future_then_one_warning_per_stream_and_the_saved_cursors_are_now(emulator, connector):
    state = [
        stream_state("campaign_analytics", {"DATE": "3021-06-09"}),
        stream_state("campaigns", {"updated_time": 9628867244}),
    ]
    before = time.time()

    run = connector.read(("campaigns", "campaign_analytics"), state=state)

    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])
    warnings = [line for line in run.logs("WARN") if "in the future" in line]
    assert sorted(line.split(":")[0] for line in warnings) == ["Stream campaign_analytics", "Stream campaigns"]
    saved = run.final_states()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert {entry["cursor"]["DATE"] for entry in saved["campaign_analytics"]["states"]} == {today}
    campaign_cursors = {entry["cursor"]["updated_time"] for entry in saved["campaigns"]["states"]}
    assert campaign_cursors and all(before - 5 <= value <= time.time() for value in campaign_cursors)


# Incremental on created_at in the connector's earlier versions; full refresh only now (docs, "Streams").
ONCE_ON_CREATED_AT = ("boards", "pins", "board_pins", "board_section_pins")


def created_at_states(emulator: Emulator) -> list[dict]:
    """What a finished sync on created_at left: flat for boards and pins, ours per board, Airbyte's per section."""
    latest = max(str(record["created_at"]) for record in truth(emulator, "pins"))
    boards = [str(board["id"]) for board in truth(emulator, "boards")]
    sections = truth(emulator, "board_sections")
    return [
        stream_state("boards", {"created_at": latest}),
        stream_state("pins", {"created_at": latest}),
        stream_state(
            "board_pins",
            {"states": [{"partition": {"board_id": b}, "cursor": {"created_at": latest}} for b in boards]},
        ),
        stream_state(
            "board_section_pins",
            {
                "states": [
                    {
                        "partition": {
                            "id": str(s["id"]),
                            "parent_slice": {"id": str(s["board_id"]), "parent_slice": {}},
                        },
                        "cursor": {"created_at": latest},
                    }
                    for s in sections
                ],
                "state": {"created_at": latest},
                "use_global_cursor": False,
            },
        ),
    ]


def test_given_a_created_at_state_and_an_incremental_catalog_then_each_stream_is_read_whole_with_two_lines(
    emulator, connector
):
    catalog = connector.catalog(ONCE_ON_CREATED_AT)
    # The catalog as the connection saved it when these streams were incremental.
    for configured in catalog["streams"]:
        configured["stream"].update(
            supported_sync_modes=["full_refresh", "incremental"], default_cursor_field=["created_at"]
        )
        configured.update(sync_mode="incremental", destination_sync_mode="append_dedup", cursor_field=["created_at"])

    run = connector.run("read", catalog=catalog, state=created_at_states(emulator))

    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])
    records = run.records_by_stream()
    for stream in ONCE_ON_CREATED_AT:
        assert {str(r["id"]) for r in records[stream]} == {str(r["id"]) for r in truth(emulator, stream)}, stream
        assert len([line for line in run.logs("INFO") if line.startswith(f"Stream {stream} is full refresh only")]) == 1
        asked = [line for line in run.logs("WARN") if line.startswith(f"Stream {stream}: the catalog asks")]
        assert len(asked) == 1, stream
        final = run.final_states()[stream]
        assert final == {"__ab_full_refresh_sync_complete": True, "pass_generation": final["pass_generation"]}, stream


BAD_STATE_FILES = [
    ("not JSON", "{'campaigns': 1", "is not valid JSON"),
    ("a list of numbers", "[1]", "message 0 is a JSON int"),
    ("a message without a stream", json.dumps([{"type": "STREAM"}]), "not a per-stream state"),
    ("legacy object with a list", json.dumps({"campaigns": [1]}), "maps stream 'campaigns' to a JSON list"),
]
BAD_CATALOG_FILES = [
    ("not JSON", "streams:", "is not valid JSON"),
    ("no streams", "{}", "has no 'streams' list"),
    (
        "a stream without sync_mode",
        json.dumps({"streams": [{"stream": {"name": "boards", "json_schema": {}}}]}),
        "lacks sync_mode",
    ),
]


def read_with_files(emulator: Emulator, connector: Connector, tmp_path, state=None, catalog=None) -> ConnectorRun:
    """`python main.py read` with the state or catalog file given as a path (written byte for byte by the test)."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps(connector.config))
    if catalog is None:
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps(connector.catalog(("boards",))))
    args = [sys.executable, str(REPO / "main.py"), "read", "--config", str(config), "--catalog", str(catalog)]
    if state is not None:
        args += ["--state", str(state)]
    started = time.monotonic()
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=120, env={**os.environ, BASE_URL_ENV: emulator.base_url}
    )
    return finished_run(args, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


BAD_FILES = [("state", *case) for case in BAD_STATE_FILES] + [("catalog", *case) for case in BAD_CATALOG_FILES]


@pytest.mark.parametrize(
    "kind, content, says", [(c[0], *c[2:]) for c in BAD_FILES], ids=[f"{c[0]} {c[1]}" for c in BAD_FILES]
)
def test_given_a_bad_state_or_catalog_file_then_a_config_error_names_it_before_any_api_call(
    emulator, connector, tmp_path, kind, content, says
):
    emulator.reset_stats()
    path = tmp_path / f"{kind}.json"
    path.write_text(content)

    run = read_with_files(emulator, connector, tmp_path, **{kind: path})

    (error,) = run.errors()
    assert error["failure_type"] == "config_error"
    assert str(path) in error["message"] and says in error["message"], error["message"]
    assert emulator.stats()["requests_total"] == 0
