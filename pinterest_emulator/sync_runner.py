"""Runs the real connector CLI (`python main.py ...`) as a subprocess against an emulator and reads its output.

Shared by the end-to-end tests, the README demo and the benchmark, so all three exercise the product exactly as a
user's shell or the Airbyte platform does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
BASE_URL_ENV = "PINTEREST_API_BASE_URL"


@dataclass
class ConnectorRun:
    command: list[str]
    returncode: int
    messages: list[dict[str, Any]]
    stdout_lines: list[str]
    stderr: str
    seconds: float
    peak_rss_kb: int = 0

    def of_type(self, message_type: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == message_type]

    def records(self, stream: Optional[str] = None) -> list[dict[str, Any]]:
        return [
            m["record"]["data"] for m in self.of_type("RECORD") if stream is None or m["record"]["stream"] == stream
        ]

    def records_by_stream(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for message in self.of_type("RECORD"):
            grouped[message["record"]["stream"]].append(message["record"]["data"])
        return dict(grouped)

    def final_states(self) -> dict[str, Any]:
        """The last state emitted per stream (what the platform would save)."""
        latest: dict[str, Any] = {}
        for message in self.of_type("STATE"):
            stream_state = message["state"].get("stream") or {}
            name = (stream_state.get("stream_descriptor") or {}).get("name")
            if name:
                latest[name] = stream_state.get("stream_state")
        return latest

    def state_messages(self) -> list[dict[str, Any]]:
        return [m["state"] for m in self.of_type("STATE")]

    def logs(self, level: Optional[str] = None) -> list[str]:
        return [m["log"]["message"] for m in self.of_type("LOG") if level is None or m["log"]["level"] == level]

    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"].get("type") == "ERROR"]

    def stream_statuses(self, stream: str) -> list[str]:
        return [
            m["trace"]["stream_status"]["status"]
            for m in self.of_type("TRACE")
            if m["trace"].get("type") == "STREAM_STATUS"
            and m["trace"]["stream_status"]["stream_descriptor"]["name"] == stream
        ]

    def summary_requests(self) -> dict[str, int]:
        """Requests per stream, from the connector's own 'Sync summary' log lines."""
        counts: dict[str, int] = {}
        for line in self.logs():
            if line.startswith("Sync summary: stream="):
                fields = dict(part.split("=", 1) for part in line.removeprefix("Sync summary: ").split())
                counts[fields["stream"]] = int(fields["requests"])
        return counts


def run_connector(
    command: str,
    base_url: str,
    config: Mapping[str, Any],
    catalog: Optional[Mapping[str, Any]] = None,
    state: Optional[Any] = None,
    extra_env: Optional[Mapping[str, str]] = None,
    timeout: float = 600,
) -> ConnectorRun:
    """`python main.py <command> --config ... [--catalog ...] [--state ...]` with the emulator as the API."""
    with tempfile.TemporaryDirectory() as tmp:
        args = [sys.executable, str(REPO_ROOT / "main.py"), command]
        if command != "spec":
            args += ["--config", _write(tmp, "config.json", config)]
        if catalog is not None:
            args += ["--catalog", _write(tmp, "catalog.json", catalog)]
        if state is not None:
            args += ["--state", _write(tmp, "state.json", state)]
        env = {**os.environ, BASE_URL_ENV: base_url, **(extra_env or {})}
        started = time.monotonic()
        # /usr/bin/time is not everywhere; the child's peak RSS comes from wait4's rusage instead.
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT, text=True
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        seconds = time.monotonic() - started
        peak_rss_kb = _child_peak_rss_kb()
    lines = stdout.splitlines()
    messages = []
    for line in lines:
        try:
            messages.append(json.loads(line))
        except ValueError:
            messages.append({"type": "NOT_JSON", "line": line})
    return ConnectorRun(args, process.returncode, messages, lines, stderr, seconds, peak_rss_kb)


def _child_peak_rss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def _write(folder: str, name: str, content: Any) -> str:
    path = Path(folder) / name
    path.write_text(json.dumps(content))
    return str(path)


def configured_catalog(
    discover_run: ConnectorRun, streams: Optional[Iterable[str]] = None, incremental: bool = True
) -> dict:
    """Every discovered stream (or the named ones), incremental wherever the stream supports it."""
    (catalog_message,) = discover_run.of_type("CATALOG")
    wanted = set(streams) if streams is not None else None
    configured = []
    for stream in catalog_message["catalog"]["streams"]:
        if wanted is not None and stream["name"] not in wanted:
            continue
        mode = "incremental" if incremental and "incremental" in stream["supported_sync_modes"] else "full_refresh"
        configured.append(
            {
                "stream": stream,
                "sync_mode": mode,
                "destination_sync_mode": "append_dedup" if mode == "incremental" else "overwrite",
                "cursor_field": stream.get("default_cursor_field") or [],
                "primary_key": stream.get("source_defined_primary_key") or [],
            }
        )
    return {"streams": configured}


def state_for_next_run(run: ConnectorRun) -> list[dict[str, Any]]:
    """The per-stream state messages a platform would hand to the next sync."""
    latest = {}
    for state in run.state_messages():
        name = state["stream"]["stream_descriptor"]["name"]
        latest[name] = state
    return list(latest.values())


def record_counts(run: ConnectorRun) -> Counter:
    return Counter(m["record"]["stream"] for m in run.of_type("RECORD"))
