"""Runs the real connector CLI (`python main.py ...`) as a subprocess against an emulator and reads its output.

Shared by the end-to-end tests, the README demo and the benchmark, so all three exercise the product exactly as a
user's shell or the Airbyte platform does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
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

    def logs(self, level: str | None = None) -> list[str]:
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
    catalog: Mapping[str, Any] | None = None,
    state: Any | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> ConnectorRun:
    """`python main.py <command> --config ... [--catalog ...] [--state ...]` with the emulator as the API."""
    with tempfile.TemporaryDirectory() as tmp:
        args = _command_line(tmp, command, config, catalog, state)
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
    return _observed(ConnectorRun(args, process.returncode, _parse(lines), lines, stderr, seconds, peak_rss_kb))


def _command_line(
    folder: str, command: str, config: Mapping[str, Any], catalog: Mapping[str, Any] | None, state: Any | None
) -> list[str]:
    args = [sys.executable, str(REPO_ROOT / "main.py"), command]
    if command != "spec":
        args += ["--config", _write(folder, "config.json", config)]
    if catalog is not None:
        args += ["--catalog", _write(folder, "catalog.json", catalog)]
    if state is not None:
        args += ["--state", _write(folder, "state.json", state)]
    return args


def _parse(lines: list[str]) -> list[dict[str, Any]]:
    messages = []
    for line in lines:
        try:
            messages.append(json.loads(line))
        except ValueError:
            messages.append({"type": "NOT_JSON", "line": line})
    return messages


# Called with every finished run, killed ones included: the end-to-end tests register their secret scan here.
RUN_OBSERVERS: list[Callable[[ConnectorRun], None]] = []


def finished_run(args: list[str], returncode: int, stdout: str, stderr: str, seconds: float) -> ConnectorRun:
    """A run made some other way (a `docker run`, hand-written files), parsed and shown to the observers like ours."""
    lines = stdout.splitlines()
    return _observed(ConnectorRun(args, returncode, _parse(lines), lines, stderr, seconds))


def _observed(run: ConnectorRun) -> ConnectorRun:
    for observer in RUN_OBSERVERS:
        observer(run)
    return run


def _child_peak_rss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def _write(folder: str, name: str, content: Any) -> str:
    path = Path(folder) / name
    path.write_text(json.dumps(content))
    return str(path)


def configured_catalog(
    discover_run: ConnectorRun, streams: Iterable[str] | None = None, incremental: bool = True
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


def run_connector_until(
    command: str,
    base_url: str,
    config: Mapping[str, Any],
    kill_when: Callable[[dict[str, Any]], bool] | None = None,
    catalog: Mapping[str, Any] | None = None,
    state: Any | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 600,
    on_start: Callable[[int], None] | None = None,
) -> ConnectorRun:
    """`run_connector` for a connector that dies mid-sync, as a crashed pod or an OOM kill would: it is SIGKILLed as
    soon as `kill_when(message)` holds for a message it printed, or by whoever `on_start(pid)` handed its pid to
    (e.g. an emulator watcher, to kill it while it waits for one exact request). The run keeps every line the
    connector had written to its stdout before it died, as the platform would; what it still held in its own
    buffers (the CDK flushes every 0.1 s) is lost, as it would be. A run that is never killed ends normally."""
    with tempfile.TemporaryDirectory() as tmp:
        args = _command_line(tmp, command, config, catalog, state)
        env = {**os.environ, BASE_URL_ENV: base_url, **(extra_env or {})}
        started = time.monotonic()
        with open(Path(tmp) / "stderr.txt", "w+") as stderr_file:
            # stderr goes to a file, so a chatty connector can never block on a full pipe while stdout is read.
            process = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=stderr_file, env=env, cwd=REPO_ROOT, text=True
            )
            watchdog = threading.Timer(timeout, process.kill)
            watchdog.start()
            if on_start is not None:
                on_start(process.pid)
            lines: list[str] = []
            try:
                killed = False
                for raw in process.stdout:
                    line = raw.rstrip("\n")
                    lines.append(line)
                    if killed or kill_when is None:
                        continue  # once the signal is out, the lines still in the pipe reached the platform too
                    try:
                        message = json.loads(line)
                    except ValueError:
                        continue
                    if kill_when(message):
                        process.kill()  # SIGKILL: no handler, no flush, no final state
                        killed = True
                process.wait()
            finally:
                watchdog.cancel()
                if process.poll() is None:
                    process.kill()
                    process.wait()
                process.stdout.close()
            stderr_file.seek(0)
            stderr = stderr_file.read()
        seconds = time.monotonic() - started
    return _observed(ConnectorRun(args, process.returncode, _parse(lines), lines, stderr, seconds))


@dataclass
class MeasuredRun:
    """A run whose records were counted, not kept (a large sync prints millions), with the child's own resources."""

    run: ConnectorRun  # every message except the records
    record_counts: Counter
    cpu_seconds: float  # user + system time of the connector process alone, all its threads
    peak_rss_kb: int  # the connector's own high-water mark, not its parent's (see _peak_rss_watcher)
    rss_profile: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, VmRSS KB) samples
    # The first SAMPLED_RECORDS records' data of each stream, as emitted: what a record of that stream looks like.
    samples: dict[str, list[dict]] = field(default_factory=dict)


RECORD_PREFIX = '{"type":"RECORD","record":{"stream":"'
SAMPLED_RECORDS = 200


def run_connector_measured(
    command: str,
    base_url: str,
    config: Mapping[str, Any],
    catalog: Mapping[str, Any] | None = None,
    state: Any | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 3600,
) -> MeasuredRun:
    """`run_connector` for benchmarks: stdout goes to a file and is read after the connector exits, so the reader
    takes no CPU from the connector or an in-process emulator while the sync runs."""
    with tempfile.TemporaryDirectory() as tmp:
        args = _command_line(tmp, command, config, catalog, state)
        env = {**os.environ, BASE_URL_ENV: base_url, **(extra_env or {})}
        out_path, err_path = Path(tmp) / "stdout.jsonl", Path(tmp) / "stderr.txt"
        with open(out_path, "w") as out, open(err_path, "w") as err:
            started = time.monotonic()
            process = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=REPO_ROOT)
            watchdog = threading.Timer(timeout, process.kill)
            watchdog.start()
            peak_kb = [0]
            profile: list[tuple[float, int]] = []
            watcher = threading.Thread(
                target=_peak_rss_watcher, args=(process.pid, peak_kb, profile, started), daemon=True
            )
            watcher.start()
            try:
                _, status, usage = os.wait4(process.pid, 0)  # this child's rusage only
            finally:
                watchdog.cancel()
            seconds = time.monotonic() - started
            watcher.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        counts: Counter = Counter()
        lines: list[str] = []
        samples: dict[str, list[dict]] = {}
        with open(out_path) as out:
            for line in out:
                if line.startswith('{"type":"RECORD"'):
                    stream = _record_stream(line)
                    counts[stream] += 1
                    if counts[stream] <= SAMPLED_RECORDS:
                        samples.setdefault(stream, []).append(json.loads(line)["record"]["data"])
                else:
                    lines.append(line.rstrip("\n"))
        stderr = err_path.read_text()
    # Where /proc is missing, rusage it is, though it also counts the parent's memory at fork.
    peak = peak_kb[0] or usage.ru_maxrss
    run = ConnectorRun(args, process.returncode, _parse(lines), lines, stderr, seconds, peak)
    return MeasuredRun(run, counts, usage.ru_utime + usage.ru_stime, peak, profile, samples)


def _peak_rss_watcher(
    pid: int, peak_kb: list[int], profile: list[tuple[float, int]], started: float, interval: float = 0.05
) -> None:
    """Keep the child's VmHWM (KB) while it lives, and a VmRSS sample every half second for the RSS profile.
    Linux folds the parent's resident set at fork into the child's rusage maxrss, so a benchmark that holds an
    emulator in memory would otherwise inflate every figure."""
    status = Path(f"/proc/{pid}/status")
    next_sample = 0.0
    while True:
        try:
            text = status.read_text()
        except OSError:
            return
        now = time.monotonic() - started
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peak_kb[0] = max(peak_kb[0], int(line.split()[1]))
            elif line.startswith("VmRSS:") and now >= next_sample:
                profile.append((round(now, 2), int(line.split()[1])))
                next_sample = now + 0.5
        if "State:\tZ" in text:
            return
        time.sleep(interval)


def _record_stream(line: str) -> str:
    if line.startswith(RECORD_PREFIX):
        return line[len(RECORD_PREFIX) : line.index('"', len(RECORD_PREFIX))]
    return json.loads(line)["record"]["stream"]  # another key order: parse the whole line


# -- chains of attempts: what the platform does after a crash or a daily cap ---------------------------------------


@dataclass
class Chain:
    """The attempts of one sync, each started from the last state every stream emitted in the attempts before it."""

    runs: list[ConnectorRun]

    @property
    def completed(self) -> bool:
        return bool(self.runs) and self.runs[-1].returncode == 0

    @property
    def emitted(self) -> int:
        return sum(len(run.of_type("RECORD")) for run in self.runs)

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [record for run in self.runs for record in run.records(stream)]


class KillAfterRecords:
    """`kill_when` for run_connector_until: the attempt dies once it printed `count` records (any stream)."""

    def __init__(self, count: int) -> None:
        self.count, self.seen = count, 0

    def __call__(self, message: dict[str, Any]) -> bool:
        self.seen += message.get("type") == "RECORD"
        return self.seen >= self.count


def run_chain(
    base_url: str,
    config: Mapping[str, Any],
    catalog: Mapping[str, Any],
    max_attempts: int,
    kill_after_records: int | None = None,
    before_attempt: Callable[[int], None] | None = None,
    state: list[dict[str, Any]] | None = None,
    extra_env: Mapping[str, str] | None = None,
    attempt_timeout: float = 600,
) -> Chain:
    """Attempts of one sync until one completes (exit 0) or `max_attempts` ran. Each attempt is SIGKILLed after
    `kill_after_records` records if given (a crash, an OOM kill), or ends by itself (e.g. failing on a daily cap);
    `before_attempt(number)` runs first (e.g. to move the emulator past the daily reset); an attempt still running
    after `attempt_timeout` seconds is killed. The next attempt gets the last state message of every stream so far,
    as the platform keeps it."""
    saved: dict[str, dict[str, Any]] = {m["stream"]["stream_descriptor"]["name"]: m for m in state or []}
    runs: list[ConnectorRun] = []
    for number in range(max_attempts):
        if before_attempt is not None:
            before_attempt(number)
        kill_when = KillAfterRecords(kill_after_records) if kill_after_records else None
        run = run_connector_until(
            "read",
            base_url,
            config,
            kill_when,
            catalog=catalog,
            state=list(saved.values()) or None,
            extra_env=extra_env,
            timeout=attempt_timeout,
        )
        runs.append(run)
        for message in run.state_messages():
            saved[message["stream"]["stream_descriptor"]["name"]] = message
        if run.returncode == 0:
            break
    return Chain(runs)
