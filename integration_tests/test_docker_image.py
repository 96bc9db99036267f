"""The connector's Docker image, built from ./Dockerfile and run with `docker run`, against the emulator.

`scripts/docker.sh` provides the engine (Debian's docker.io, a daemon with no bridge and no iptables rules) and the
image (FROM Airbyte's python-connector-base when it is in the local image store, else a stand-in base built from
Debian packages). Containers run with `--network host` only and reach nothing but the emulator on loopback, through
PINTEREST_API_BASE_URL, as an operator would point the image at another API root. These tests replace the CDK
standard suite's image tests (see test_standard_suite.py). They skip only when no Docker engine can run here.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from integration_tests.conftest import ENTITY_STREAMS, Connector, assert_records_match_truth, truth
from integration_tests.test_e2e_metrics import (
    CUSTOM_REPORTS,
    METRICS_STREAMS,
    assert_rows_equal_truth,
    expected_rows,
    primary_keys,
)
from pinterest_emulator import Emulator, sample_config
from pinterest_emulator.sync_runner import ConnectorRun, configured_catalog, finished_run
from source_pinterest.limits import BASE_URL_ENV

REPO = Path(__file__).resolve().parent.parent
DOCKER_SH = REPO / "scripts" / "docker.sh"
METRICS_DAYS_BACK = 3  # a few days of every metrics stream: the same code paths as a full history, in seconds


def _docker_sh(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(DOCKER_SH), command], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def image() -> str:
    """The connector image, built (or taken from Docker's build cache) for this run."""
    engine = _docker_sh("up")
    if engine.returncode != 0:
        pytest.skip(f"Docker cannot run on this machine: {engine.stderr.strip()}")
    built = _docker_sh("image")
    assert built.returncode == 0, f"the image did not build:\n{built.stderr[-3000:]}"
    print(built.stderr.strip())  # which base image it was built FROM
    return built.stdout.strip().splitlines()[-1]


def docker_run(
    image: str,
    command: str,
    base_url: str | None = None,
    config: Mapping[str, Any] | None = None,
    catalog: Mapping[str, Any] | None = None,
    entrypoint: list[str] | None = None,
    timeout: float = 600,
) -> ConnectorRun:
    """`docker run --network host IMAGE <command> --config /secrets/config.json ...`, parsed like a CLI run."""
    with tempfile.TemporaryDirectory() as folder:
        args = ["docker", "run", "--rm", "--network", "host", "-v", f"{folder}:/secrets:ro"]
        if base_url:
            args += ["-e", f"{BASE_URL_ENV}={base_url}"]
        if entrypoint:
            args += ["--entrypoint", entrypoint[0]]
        args.append(image)
        args += entrypoint[1:] if entrypoint else [command]
        for name, content in (("config", config), ("catalog", catalog)):
            if content is not None:
                (Path(folder) / f"{name}.json").write_text(json.dumps(content))
                args += [f"--{name}", f"/secrets/{name}.json"]
        started = time.monotonic()
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    # Parsed like a CLI run, and read by the session's secret scan like every run.
    return finished_run(args, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(seed=5, size="small", report_polls=0) as emu:
        yield emu


def test_given_the_image_when_spec_then_it_prints_the_connectors_spec(image):
    run = docker_run(image, "spec")

    assert run.returncode == 0, run.stderr[-2000:]
    (spec,) = run.of_type("SPEC")
    local = json.loads((REPO / "source_pinterest" / "spec.json").read_text())
    assert spec["spec"]["connectionSpecification"] == local["connectionSpecification"]
    assert spec["spec"]["advanced_auth"] == local["advanced_auth"]


def test_given_the_emulator_when_check_then_it_succeeds_and_bad_credentials_fail_as_config_error(image, emulator):
    good = docker_run(image, "check", emulator.base_url, sample_config())
    bad_credentials = {**sample_config()["credentials"], "refresh_token": "not-a-token"}
    bad = docker_run(image, "check", emulator.base_url, {**sample_config(), "credentials": bad_credentials})

    assert [m["connectionStatus"]["status"] for m in good.of_type("CONNECTION_STATUS")] == ["SUCCEEDED"]
    (failed,) = bad.of_type("CONNECTION_STATUS")
    assert failed["connectionStatus"]["status"] == "FAILED"
    assert "not-a-token" not in "\n".join([*bad.stdout_lines, bad.stderr])


def test_given_the_emulator_when_discover_then_every_stream_of_the_local_connector_is_there(image, emulator):
    run = docker_run(image, "discover", emulator.base_url, sample_config())
    local = Connector(emulator).run("discover")

    assert run.returncode == 0, run.stderr[-2000:]
    (catalog,) = run.of_type("CATALOG")
    (local_catalog,) = local.of_type("CATALOG")
    assert catalog["catalog"]["streams"] == local_catalog["catalog"]["streams"]


def test_given_every_stream_when_read_in_the_image_then_records_equal_the_truth_and_state_ends_the_sync(
    image, emulator
):
    today = emulator.state.today
    start = (today - dt.timedelta(days=METRICS_DAYS_BACK)).isoformat()
    config = {**sample_config(), "start_date": start, "custom_reports": CUSTOM_REPORTS}
    discovered = docker_run(image, "discover", emulator.base_url, config)
    catalog = configured_catalog(discovered)

    run = docker_run(image, "read", emulator.base_url, config, catalog)

    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])
    assert run.messages[-1]["type"] == "STATE" or run.of_type("STATE"), "the sync saved no state"
    last_data_message = [m for m in run.messages if m["type"] in ("RECORD", "STATE")][-1]
    assert last_data_message["type"] == "STATE", "records came after the last state message"
    records = run.records_by_stream()
    assert set(records) >= set(ENTITY_STREAMS) | set(METRICS_STREAMS) - {"custom_hourly_ad_groups"}
    for stream in ENTITY_STREAMS:
        assert_records_match_truth(records.get(stream, []), truth(emulator, stream), stream)
    connector = Connector(emulator)
    connector.config = config
    keys = primary_keys(connector)
    for stream in METRICS_STREAMS:
        # HOUR reports start at most 7 days back, later than `start` here, so the same range applies.
        expected = expected_rows(emulator, stream, start, today.isoformat())
        assert_rows_equal_truth(stream, records.get(stream, []), expected, keys[stream])


def test_given_the_image_then_it_holds_the_connector_only(image):
    probe = (
        "import importlib.util, pathlib;"
        "print(importlib.util.find_spec('pinterest_emulator') is None);"
        "print(sorted({p.name for p in pathlib.Path('/').rglob('*') if p.name in"
        " ('pinterest_emulator', 'unit_tests', 'integration_tests') and not str(p).startswith('/proc')}))"
    )
    run = docker_run(image, "", entrypoint=["python", "-c", probe])

    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout_lines == ["True", "[]"], run.stdout_lines
