"""End-to-end fixtures: an emulator per test module, and the real CLI run as a subprocess against it."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional

import pytest

from pinterest_emulator import Emulator, sample_config
from pinterest_emulator.sync_runner import ConnectorRun, configured_catalog, run_connector

ENTITY_STREAMS = (
    "user_account",
    "boards",
    "board_sections",
    "board_pins",
    "board_section_pins",
    "pins",
    "ad_accounts",
    "campaigns",
    "ad_groups",
    "ads",
    "audiences",
    "customer_lists",
    "conversion_tags",
    "keywords",
    "catalogs",
    "catalogs_feeds",
    "catalogs_product_groups",
)


class Connector:
    """The CLI bound to one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.config = sample_config()
        self._catalog: Optional[dict] = None

    def run(self, command: str, config: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> ConnectorRun:
        return run_connector(command, self.emulator.base_url, config or self.config, **kwargs)

    def catalog(self, streams=ENTITY_STREAMS, incremental: bool = True) -> dict:
        if self._catalog is None:
            self._catalog = configured_catalog(self.run("discover"), incremental=True)
        chosen = [s for s in self._catalog["streams"] if s["stream"]["name"] in set(streams)]
        if not incremental:
            chosen = [{**s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in chosen]
        return {"streams": chosen}

    def read(self, streams=ENTITY_STREAMS, state=None, incremental: bool = True, **kwargs: Any) -> ConnectorRun:
        return self.run("read", catalog=self.catalog(streams, incremental), state=state, **kwargs)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(seed=7, size="small") as emu:
        yield emu


@pytest.fixture
def fresh_emulator() -> Iterator[Emulator]:
    """For tests that mutate data or change faults."""
    with Emulator(seed=11, size="small") as emu:
        yield emu


@pytest.fixture(scope="module")
def connector(emulator: Emulator) -> Connector:
    return Connector(emulator)


def truth(emulator: Emulator, stream: str, **params: Any) -> list[dict]:
    return emulator.truth(stream, **params)["records"]


def assert_records_match_truth(records: list[dict], expected: list[dict], stream: str) -> None:
    """Same ids, no duplicates, none missing, and every field the API returned carried through unchanged."""
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), f"{stream}: duplicate records"
    by_id = {r["id"]: r for r in records}
    expected_by_id = {str(e["id"]): e for e in expected}
    assert set(by_id) == set(expected_by_id), (
        f"{stream}: missing {set(expected_by_id) - set(by_id)}, extra {set(by_id) - set(expected_by_id)}"
    )
    for record_id, expected_record in expected_by_id.items():
        for field, value in expected_record.items():
            got = by_id[record_id].get(field)
            if field == "id" or field.endswith("_id"):
                value = None if value is None else str(value)
            assert got == value, f"{stream} {record_id}.{field}: {got!r} != {value!r}"
