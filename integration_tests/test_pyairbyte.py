"""source-pinterest run by PyAirbyte (the `airbyte` package) as a local executable, into its local DuckDB cache.

PyAirbyte runs the installed console script `source-pinterest` as a subprocess, so the emulator's URL reaches the
connector through the inherited environment variable, as it would for a user's own API root. Offline mode keeps
PyAirbyte from looking the connector up in Airbyte's registry and from sending telemetry.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from pinterest_emulator import Emulator, sample_config
from source_pinterest.limits import BASE_URL_ENV

STREAMS = ["ad_accounts", "campaigns", "ad_groups", "boards"]


def _local_executable() -> Path:
    """The `source-pinterest` script of the environment running the tests (the project's .venv in CI)."""
    script = Path(sys.executable).parent / "source-pinterest"
    if script.exists():
        return script
    found = shutil.which("source-pinterest")
    if found is None:
        pytest.fail("the source-pinterest console script is not installed: run `bash scripts/dev.sh setup`")
    return Path(found)


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> Iterator[tuple[Emulator, object, object]]:
    """One PyAirbyte sync of STREAMS into a DuckDB cache in a temporary directory: (emulator, cache, result)."""
    root = tmp_path_factory.mktemp("pyairbyte")
    with pytest.MonkeyPatch.context() as patch, Emulator(seed=5, size="small") as emulator:
        patch.setenv(BASE_URL_ENV, emulator.base_url)
        patch.setenv("AIRBYTE_OFFLINE_MODE", "true")
        patch.setenv("DO_NOT_TRACK", "1")
        patch.setenv("AIRBYTE_CACHE_ROOT", str(root / "cache-root"))
        patch.chdir(root)  # PyAirbyte writes a few working files under the current directory
        import airbyte as ab

        source = ab.get_source("source-pinterest", config=sample_config(), local_executable=_local_executable())
        source.check()
        source.select_streams(STREAMS)
        cache = ab.new_local_cache("source_pinterest_test", cache_dir=root / "duckdb")
        result = source.read(cache=cache)
        yield emulator, cache, result


def test_every_selected_stream_lands_in_duckdb(synced):
    _, cache, result = synced

    assert set(STREAMS) <= set(result.streams)
    assert str(cache.db_path).endswith(".duckdb")


@pytest.mark.parametrize("stream", STREAMS)
def test_synced_table_holds_exactly_the_emulator_truth(synced, stream):
    emulator, cache, _ = synced
    expected_ids = {str(record["id"]) for record in emulator.truth(stream)["records"]}

    table = cache[stream].to_sql_table()
    with cache.get_sql_engine().connect() as connection:
        rows = connection.execute(sqlalchemy.select(table.c.id)).fetchall()

    ids = [str(row[0]) for row in rows]
    assert expected_ids, f"the emulator has no {stream}: the test would prove nothing"
    assert len(ids) == len(expected_ids)
    assert set(ids) == expected_ids


def test_records_read_back_through_pyairbyte_keep_their_fields(synced):
    emulator, cache, _ = synced
    expected = {str(r["id"]): r for r in emulator.truth("campaigns")["records"]}

    frame = cache["campaigns"].to_pandas()

    assert len(frame) == len(expected)
    for row in frame.to_dict("records"):
        assert row["name"] == expected[str(row["id"])]["name"]
        assert str(row["ad_account_id"]) == str(expected[str(row["id"])]["ad_account_id"])
