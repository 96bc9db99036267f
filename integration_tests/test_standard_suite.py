"""Airbyte's CDK standard tests (spec, check, discover, basic read) run in-process against the Pinterest emulator.

The scenarios come from acceptance-test-config.yml at the repo root. The configs carry only the emulator's fake
credentials: the emulator is reached through PINTEREST_API_BASE_URL, set for the whole session below, exactly as
a user would point the connector at another API root.

Also here: the committed integration_tests/configured_catalog.json and expected_records.jsonl are checked against
what the connector discovers and reads today. Regenerate both with
`.venv/bin/python -m integration_tests.test_standard_suite` after a stream or the emulator changes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer
from airbyte_cdk.test import entrypoint_wrapper
from airbyte_cdk.test.standard_tests import ConnectorTestScenario, SourceTestSuiteBase

from pinterest_emulator import Emulator
from source_pinterest.limits import BASE_URL_ENV
from source_pinterest.source import SourcePinterest

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

HERE = Path(__file__).resolve().parent
SAMPLE_CONFIG = HERE / "sample_config.json"
CONFIGURED_CATALOG = HERE / "configured_catalog.json"
EXPECTED_RECORDS = HERE / "expected_records.jsonl"

EMULATOR_SEED = 1
EMULATOR_SIZE = "small"
# expected_records.jsonl is reproducible only with the same emulator data: every generated date is relative to
# the emulator's "today", so it is pinned for them instead of following the calendar. Metrics streams are left
# out of the expected records: the connector's date windows end on the real UTC date, which no config can pin,
# so their rows against a pinned emulator would change (and then vanish) as the calendar moves on.
EMULATOR_TODAY = "2026-11-01"
# The standard suite's reads cover only the last few days of metrics: a full history is ~750k report rows and
# three minutes, the last 3 days are a few thousand rows and seconds. The report jobs finish on the first poll.
SUITE_METRICS_DAYS = 3
EXPECTED_RECORDS_PER_STREAM = 3
EXPECTED_EMITTED_AT = 1793491200000  # 2026-11-01T00:00:00Z; Airbyte's comparisons ignore emitted_at


# The CDK's image tests build their own image FROM Airbyte's base (which cannot be pulled here), run it without
# --network host or the emulator's base URL, and compare the spec with the public registry's: none of that can run
# offline. integration_tests/test_docker_image.py builds our Dockerfile and runs spec, check, discover and a read of
# every stream in it instead, so the inherited tests are removed from this class rather than skipped.
CDK_IMAGE_TESTS = (
    "test_docker_image_build_and_spec",
    "test_docker_image_spec_backward_compatibility",
    "test_docker_image_build_and_check",
    "test_docker_image_build_and_config_matches_spec",
    "test_docker_image_build_and_discover",
    "test_docker_image_build_and_read",
)


@pytest.fixture(scope="module", autouse=True)
def emulator_api() -> Iterator[Emulator]:
    """The suite's API: today's data (the metrics windows follow the real date), report jobs ready at once."""
    with (
        Emulator(seed=EMULATOR_SEED, size=EMULATOR_SIZE, report_polls=0) as emulator,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv(BASE_URL_ENV, emulator.base_url)
        yield emulator


class TestSourcePinterestStandardSuite(SourceTestSuiteBase):
    """Every standard test of the CDK's source suite, with the scenarios of acceptance-test-config.yml."""

    connector = SourcePinterest

    @classmethod
    def get_scenarios(cls) -> list[ConnectorTestScenario]:
        """The file's scenarios; the sample config also gets a start_date a few days back (see SUITE_METRICS_DAYS).

        A start_date cannot be committed in sample_config.json: a fixed date drifts out of the metrics endpoints'
        look-back and the connector then reads their whole history again.
        """
        start_date = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=SUITE_METRICS_DAYS)).isoformat()
        scenarios = []
        for scenario in super().get_scenarios():
            if scenario.config_path and scenario.config_path.name == SAMPLE_CONFIG.name:
                scenario = scenario.model_copy(update={"config_dict": {**_config(), "start_date": start_date}})
            scenarios.append(scenario)
        return scenarios


for _name in CDK_IMAGE_TESTS:
    setattr(TestSourcePinterestStandardSuite, _name, None)  # pytest collects no test under a None attribute


# -- the committed catalog and expected records ---------------------------------------------------------------


def _config() -> dict:
    return json.loads(SAMPLE_CONFIG.read_text())


def build_configured_catalog() -> dict:
    """Every discovered stream, incremental where the stream supports it; schemas stay with `discover`."""
    output = entrypoint_wrapper.discover(SourcePinterest(), _config())
    assert not output.errors, output.get_formatted_error_message()
    configured = []
    for stream in output.catalog.catalog.streams:
        modes = [mode.value for mode in stream.supported_sync_modes]
        incremental = "incremental" in modes
        configured.append(
            {
                "stream": {
                    "name": stream.name,
                    "json_schema": {},
                    "supported_sync_modes": modes,
                    "source_defined_cursor": bool(stream.source_defined_cursor),
                    "default_cursor_field": stream.default_cursor_field or [],
                    "source_defined_primary_key": stream.source_defined_primary_key or [],
                },
                "sync_mode": "incremental" if incremental else "full_refresh",
                "destination_sync_mode": "append_dedup" if incremental else "overwrite",
                "cursor_field": stream.default_cursor_field or [],
                "primary_key": stream.source_defined_primary_key or [],
            }
        )
    return {"streams": configured}


def read_records(catalog: dict) -> dict[str, list[dict]]:
    """A read of `catalog` with no state, records grouped by stream in the order they came."""
    configured = ConfiguredAirbyteCatalogSerializer.load(catalog)
    output = entrypoint_wrapper.read(SourcePinterest(), _config(), configured)
    assert not output.errors, output.get_formatted_error_message()
    by_stream: dict[str, list[dict]] = {}
    for message in output.records:
        by_stream.setdefault(message.record.stream, []).append(message.record.data)
    return by_stream


def build_expected_records(records: dict[str, list[dict]], streams: list[str]) -> list[dict]:
    """The first records of each stream by primary key (`id`), in Airbyte's expected-records format."""
    expected = []
    for stream in streams:
        first = sorted(records.get(stream, []), key=lambda record: str(record["id"]))[:EXPECTED_RECORDS_PER_STREAM]
        expected += [{"stream": stream, "data": data, "emitted_at": EXPECTED_EMITTED_AT} for data in first]
    return expected


def _committed_catalog() -> dict:
    return json.loads(CONFIGURED_CATALOG.read_text())


def test_configured_catalog_lists_every_discovered_stream_with_its_best_sync_mode():
    committed = {s["stream"]["name"]: s for s in _committed_catalog()["streams"]}
    current = {s["stream"]["name"]: s for s in build_configured_catalog()["streams"]}

    assert committed == current, (
        "integration_tests/configured_catalog.json is out of date with `discover`: "
        f"missing {sorted(set(current) - set(committed))}, gone {sorted(set(committed) - set(current))}, "
        f"changed {sorted(n for n in set(current) & set(committed) if current[n] != committed[n])}. "
        "Regenerate it with `.venv/bin/python -m integration_tests.test_standard_suite`."
    )


def _entity_catalog(catalog: dict) -> dict:
    """The entity streams of `catalog` (the ones with an `id` key), as full refresh."""
    return {
        "streams": [
            {**s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
            for s in catalog["streams"]
            if s["stream"]["source_defined_primary_key"] == [["id"]]
        ]
    }


def test_expected_records_are_reproduced_by_the_emulator(monkeypatch):
    expected = [json.loads(line) for line in EXPECTED_RECORDS.read_text().splitlines() if line.strip()]
    streams = list(dict.fromkeys(entry["stream"] for entry in expected))
    entity_catalog = _entity_catalog(_committed_catalog())
    assert set(streams) == {s["stream"]["name"] for s in entity_catalog["streams"]}, (
        "every entity stream of the configured catalog needs expected records"
    )

    with Emulator(seed=EMULATOR_SEED, size=EMULATOR_SIZE, today=EMULATOR_TODAY) as pinned:
        monkeypatch.setenv(BASE_URL_ENV, pinned.base_url)
        regenerated = build_expected_records(read_records(entity_catalog), streams)

    assert [(e["stream"], e["data"]) for e in regenerated] == [(e["stream"], e["data"]) for e in expected], (
        "the emulator no longer reproduces integration_tests/expected_records.jsonl; if the change is intended, "
        "regenerate it with `.venv/bin/python -m integration_tests.test_standard_suite`"
    )


def main() -> None:
    """Regenerate configured_catalog.json and expected_records.jsonl from the emulator (pinned today)."""
    import os

    with Emulator(seed=EMULATOR_SEED, size=EMULATOR_SIZE, today=EMULATOR_TODAY) as emulator:
        os.environ[BASE_URL_ENV] = emulator.base_url
        catalog = build_configured_catalog()
        CONFIGURED_CATALOG.write_text(json.dumps(catalog, indent=2) + "\n")
        entity_catalog = _entity_catalog(catalog)
        streams = [s["stream"]["name"] for s in entity_catalog["streams"]]
        expected = build_expected_records(read_records(entity_catalog), streams)
        EXPECTED_RECORDS.write_text("".join(json.dumps(entry, sort_keys=True) + "\n" for entry in expected))
    print(
        f"wrote {CONFIGURED_CATALOG.name} ({len(catalog['streams'])} streams) and {EXPECTED_RECORDS.name} ({len(expected)} records)"
    )


if __name__ == "__main__":
    main()
