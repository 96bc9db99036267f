"""The `Sync summary:` lines through the real CLI: read side by side from the pool (num_workers 3) or one partition at
a time (num_workers 1), every stream is credited with its own slices, one per parent it was read for."""

from __future__ import annotations

import pytest

from integration_tests.conftest import Connector, truth
from pinterest_emulator import Emulator

STREAMS = ("ad_accounts", "campaigns", "boards", "board_pins", "ad_groups", "keywords")


def summary_slices(run) -> dict[str, int]:
    slices = {}
    for line in run.logs():
        if line.startswith("Sync summary: stream="):
            fields = dict(part.split("=", 1) for part in line.removeprefix("Sync summary: ").split())
            slices[fields["stream"]] = int(fields["slices"])
    return slices


@pytest.fixture(scope="module")
def runs() -> dict[int, dict[str, int]]:
    with Emulator(seed=3, size="small") as emulator:
        connector = Connector(emulator)
        found = {}
        for workers in (1, 3):
            run = connector.read(STREAMS, config={**connector.config, "num_workers": workers})
            assert run.returncode == 0, run.errors()
            found[workers] = summary_slices(run)
        accounts = len(truth(emulator, "ad_accounts"))
        boards = len(truth(emulator, "boards"))
        every_status = "ACTIVE,PAUSED,ARCHIVED,DRAFT,DELETED_DRAFT"
        campaigns = len(truth(emulator, "campaigns", statuses=every_status))
        ad_groups = len(truth(emulator, "ad_groups", statuses=every_status))
    found[0] = {
        "ad_accounts": 1,
        "campaigns": accounts,
        "boards": 1,
        "board_pins": boards,
        "ad_groups": accounts,
        # account-level keywords, then each campaign's and ad group's, of every status
        "keywords": accounts + campaigns + ad_groups,
    }
    return found


def test_given_one_worker_then_each_stream_has_one_slice_per_parent(runs):
    assert runs[1] == runs[0]


def test_given_streams_read_side_by_side_then_the_slice_counts_are_those_of_a_sequential_read(runs):
    assert runs[3] == runs[1]
