"""The CDK floor: a bare CDK source emitting in-memory rows, to show what the CDK alone costs a record.

`FloorSource` is an `AbstractSource` with one plain `Stream` whose `read_records` yields rows handed over in a JSON
file: the emulator's truth records of the streams the connector's zero-latency entity sync emitted, as many of each
as it emitted, with the keys and value types of its records. It runs as the connector does in the benchmark: the
CDK's `launch` (`read` with a catalog, one JSON line per message on stdout) in a subprocess whose stdout goes to a
file (as run_connector_measured does, so no reader competes for CPU), the child's user+sys CPU from `os.wait4`.

For a full sync, whose records are mostly metrics rows of 20-180 fields, `mix_rows` builds the rows from what that
sync emitted (the first records of each stream, in the proportions of its record counts) instead of the truth.

The rows are emitted in whole copies of that mix, at least `MIN_RECORDS` of them, so that the floor's CPU stands
well above a start-up's variation; a second run with no records measures the start-up (imports, config, catalog,
the rows file), and both figures are per record after start-up (the connector's start-up is its `spec` run). The
benchmark prints the floor by default, after the connector's zero-latency figure: its two runs cost about 7 s of
CPU per size.

`python pinterest_emulator/cdk_floor.py read --config CONFIG --catalog CATALOG`, the config holding `rows_path` and
`records`; `measure_floor(rows)` does both runs.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airbyte_cdk.entrypoint import launch
from airbyte_cdk.models import ConnectorSpecification, SyncMode
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream

STREAM = "floor"
MIN_RECORDS = 200_000
# Rows of a full sync's mix handed to the floor (mix_rows): enough that a stream of 0.1% of the records shows.
MIX_ROWS = 5_000
# Below this much CPU after start-up, the start-up's own variation (a few tenths of a second) swamps a figure.
MIN_MEASURED_CPU = 1.0
REPO_ROOT = Path(__file__).resolve().parent.parent

# -- the source (runs in the child) ------------------------------------------------------------------------------


class FloorStream(Stream):
    """No endpoint: yields the given rows, over and over, until `records` were emitted."""

    primary_key = None

    def __init__(self, rows: list[dict[str, Any]], records: int) -> None:
        self.rows, self.records = rows, records

    @property
    def name(self) -> str:
        return STREAM

    def get_json_schema(self) -> Mapping[str, Any]:
        return {"type": "object", "properties": {}, "additionalProperties": True}

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        rows, count = self.rows, len(self.rows)
        for index in range(self.records if count else 0):
            yield rows[index % count]


class FloorSource(AbstractSource):
    """One stream, no API: everything a record costs here is the CDK's (message building, serialization, print)."""

    def spec(self, logger: Any) -> ConnectorSpecification:
        properties = {"rows_path": {"type": "string"}, "records": {"type": "integer", "minimum": 0}}
        return ConnectorSpecification(
            connectionSpecification={"type": "object", "required": list(properties), "properties": properties}
        )

    def check_connection(self, logger: Any, config: Mapping[str, Any]) -> tuple[bool, Any]:
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        rows = json.loads(Path(config["rows_path"]).read_text())
        return [FloorStream(rows, config["records"])]


def floor_catalog() -> dict[str, Any]:
    stream = {
        "name": STREAM,
        "json_schema": FloorStream([], 0).get_json_schema(),
        "supported_sync_modes": ["full_refresh"],
    }
    return {"streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}


# -- the measurement (runs in the benchmark) ---------------------------------------------------------------------


@dataclass(frozen=True)
class FloorRun:
    records: int
    cpu_seconds: float  # user + system of the child
    returncode: int


@dataclass(frozen=True)
class FloorFigures:
    """The floor's full run and its start-up (the same run with no records)."""

    run: FloorRun
    startup: FloorRun

    @property
    def ok(self) -> bool:
        return self.run.returncode == 0 and self.startup.returncode == 0


def floor_rows(truth: Callable[[str], list[dict[str, Any]]], counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """As many truth rows of each stream as the connector emitted of it (repeated if the truth holds fewer), with
    their null fields left out as in the connector's records (which keywords also give their ad_account_id)."""
    rows: list[dict[str, Any]] = []
    for stream, count in counts.items():
        records = [{k: v for k, v in r.items() if v is not None} for r in truth(stream)] if count else []
        rows += [records[i % len(records)] for i in range(count)] if records else []
    return rows


def mix_rows(
    samples: Mapping[str, list[dict[str, Any]]], counts: Mapping[str, int], size: int = MIX_ROWS
) -> list[dict[str, Any]]:
    """About `size` rows in the proportions of `counts` (a sync's records per stream), each stream's drawn in turn
    from its `samples` (records it emitted): rows as wide as that sync's on average, without keeping millions. A
    stream with records gets at least one row; one without samples gets none."""
    total = sum(n for name, n in counts.items() if samples.get(name))
    rows: list[dict[str, Any]] = []
    for name, count in counts.items():
        sample = samples.get(name)
        if sample and count:
            rows += [sample[i % len(sample)] for i in range(max(1, round(count / total * size)))]
    return rows


def copies_for(rows: int, minimum: int = MIN_RECORDS) -> int:
    """Whole copies of the rows (so the mix stays the connector's) that reach at least `minimum` records."""
    return max(1, math.ceil(minimum / rows)) if rows else 0


def run_floor(rows_path: Path, records: int, timeout: float = 600) -> FloorRun:
    """One `read` of the floor source in a subprocess, measured as run_connector_measured measures the connector."""
    with tempfile.TemporaryDirectory() as tmp:
        config, catalog = Path(tmp) / "config.json", Path(tmp) / "catalog.json"
        config.write_text(json.dumps({"rows_path": str(rows_path), "records": records}))
        catalog.write_text(json.dumps(floor_catalog()))
        args = [sys.executable, __file__, "read", "--config", str(config), "--catalog", str(catalog)]
        out_path = Path(tmp) / "stdout.jsonl"
        with open(out_path, "w") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.DEVNULL, cwd=REPO_ROOT)
            watchdog = threading.Timer(timeout, process.kill)  # a hung floor ends as a failed run
            watchdog.start()
            try:
                _, status, usage = os.wait4(process.pid, 0)  # this child's rusage only
            except BaseException:
                process.kill()
                process.wait()
                raise
            finally:
                watchdog.cancel()
        with open(out_path) as out:
            emitted = sum(line.startswith('{"type":"RECORD"') for line in out)
    return FloorRun(emitted, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status))


def measure_floor(rows: list[dict[str, Any]], minimum: int = MIN_RECORDS) -> FloorFigures:
    with tempfile.TemporaryDirectory() as tmp:
        rows_path = Path(tmp) / "rows.json"
        rows_path.write_text(json.dumps(rows))
        startup = run_floor(rows_path, 0)
        run = run_floor(rows_path, len(rows) * copies_for(len(rows), minimum))
    return FloorFigures(run, startup)


# -- the figures -------------------------------------------------------------------------------------------------


def per_record_us(records: int, cpu_seconds: float, startup_cpu: float) -> float | None:
    """CPU microseconds per record after start-up, or None when nothing was left after it."""
    cpu = cpu_seconds - startup_cpu
    return cpu / records * 1e6 if records and cpu > 0 else None


def rough(cpu_seconds: float, startup_cpu: float) -> str:
    """A warning for a figure taken from less CPU than the start-up's own variation can hide."""
    return " (rough: under 1 s of CPU after start-up)" if cpu_seconds - startup_cpu < MIN_MEASURED_CPU else ""


def floor_line(connector_records: int, connector_cpu: float, connector_startup: float, floor: FloorFigures) -> str:
    """The floor next to the connector, both in records per CPU-second after their start-up, and their ratio."""
    if not floor.ok:
        return f"CDK floor: failed (exit codes {floor.startup.returncode}, {floor.run.returncode})"
    floor_us = per_record_us(floor.run.records, floor.run.cpu_seconds, floor.startup.cpu_seconds)
    connector_us = per_record_us(connector_records, connector_cpu, connector_startup)
    text = (
        f"CDK floor (bare AbstractSource, one Stream of in-memory rows of the same streams): {floor.run.records:,} "
        f"records, CPU {floor.run.cpu_seconds:.1f} s (start-up {floor.startup.cpu_seconds:.1f} s)"
    )
    if floor_us is None:
        return f"{text}; nothing measured after start-up"
    text += (
        f" = {rate(floor_us)} records per CPU-second after start-up ({floor_us:.1f} us a record)"
        f"{rough(floor.run.cpu_seconds, floor.startup.cpu_seconds)}"
    )
    if connector_us is None:
        return f"{text}; connector: nothing measured after start-up"
    return (
        f"{text}; connector {rate(connector_us)} ({connector_us:.1f} us a record)"
        f"{rough(connector_cpu, connector_startup)}; connector/floor {floor_us / connector_us:.3f}x "
        f"(the connector spends {connector_us / floor_us:.1f}x the floor's CPU a record)"
    )


def rate(us_per_record: float) -> str:
    return f"{1e6 / us_per_record:,.0f}"


def main(argv: list[str]) -> None:
    launch(FloorSource(), argv)


if __name__ == "__main__":
    main(sys.argv[1:])
