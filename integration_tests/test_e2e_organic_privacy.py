"""Secret and protected organic content through the real CLI: what a token's scopes let it see, and the one warning
when a *:read_secret scope is missing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integration_tests.conftest import Connector, assert_records_match_truth, truth
from pinterest_emulator import Emulator
from pinterest_emulator.auth import SCOPES
from pinterest_emulator.sync_runner import ConnectorRun

ORGANIC = ("boards", "board_sections", "board_pins", "board_section_pins", "pins")
SECRET_SCOPES = ("boards:read_secret", "pins:read_secret")
PUBLIC_SCOPES = ",".join(scope for scope in SCOPES.split(",") if scope not in SECRET_SCOPES)
SEED = 7  # a dataset with public, secret and protected boards


def _privacies(records: list[dict]) -> set[str]:
    return {record["privacy"] for record in records}


@pytest.fixture(scope="module", params=["every scope", "no read_secret"])
def synced(request) -> Iterator[tuple[str, Emulator, ConnectorRun]]:
    scopes = SCOPES if request.param == "every scope" else PUBLIC_SCOPES
    with Emulator(seed=SEED, size="small", scopes=scopes) as emulator:
        yield request.param, emulator, Connector(emulator).read(ORGANIC, incremental=False)


def test_the_sync_succeeds_either_way(synced):
    _, _, run = synced
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.errors() == []
    for stream in ORGANIC:
        assert run.stream_statuses(stream)[-1] == "COMPLETE", stream


@pytest.mark.parametrize("stream", ORGANIC)
def test_every_stream_returns_what_the_token_may_see(synced, stream):
    _, emulator, run = synced
    expected = truth(emulator, stream)
    assert expected
    assert_records_match_truth(run.records(stream), expected, stream)


def test_secret_boards_only_with_the_secret_scopes_and_protected_ones_always(synced):
    scopes, _, run = synced
    boards = run.records("boards")
    expected = {"PUBLIC", "SECRET", "PROTECTED"} if scopes == "every scope" else {"PUBLIC", "PROTECTED"}
    assert _privacies(boards) == expected
    # Pins on protected boards come through GET /pins (include_protected_pins=true).
    protected = {b["id"] for b in boards if b["privacy"] == "PROTECTED"}
    assert {p["board_id"] for p in run.records("pins")} & protected


def test_one_warning_names_the_missing_scopes_and_none_when_granted(synced):
    scopes, _, run = synced
    warnings = [line for line in run.logs("WARN") if "read_secret" in line]
    if scopes == "every scope":
        assert warnings == []
    else:
        (warning,) = warnings
        assert "boards:read_secret" in warning and "pins:read_secret" in warning
