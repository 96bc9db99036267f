"""The README demo: emulator up, then check, discover and a full read of every stream through the real CLI.

`python -m pinterest_emulator.demo [--size small|medium|large] [--seed N]` prints a per-stream table
(records, final state, requests, seconds) and stops the emulator. Exit code 0 only if everything succeeded."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from pinterest_emulator import Emulator, sample_config
from pinterest_emulator.sync_runner import ConnectorRun, configured_catalog, run_connector


def stream_seconds(run: ConnectorRun) -> dict[str, float]:
    """From each stream's STARTED status to its last status, using the messages' own timestamps."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for message in run.of_type("TRACE"):
        trace = message["trace"]
        if trace.get("type") != "STREAM_STATUS":
            continue
        name = trace["stream_status"]["stream_descriptor"]["name"]
        first.setdefault(name, trace["emitted_at"])
        last[name] = trace["emitted_at"]
    return {name: (last[name] - first[name]) / 1000 for name in first}


def short_state(state: object, width: int = 48) -> str:
    if state is None:
        return "-"
    if isinstance(state, dict) and "states" in state:
        text = f"{len(state['states'])} parents"
        values = [next(iter(s["cursor"].values())) for s in state["states"] if s.get("cursor")]
        if values:
            text += f", latest {max(values, key=str)}"
        return text
    text = json.dumps(state, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 3] + "..."


def print_table(run: ConnectorRun) -> None:
    records = {name: len(rows) for name, rows in run.records_by_stream().items()}
    states = run.final_states()
    requests = run.summary_requests()
    seconds = stream_seconds(run)
    names = sorted(set(records) | set(requests) | set(seconds), key=lambda n: (n not in requests, n))
    header = f"{'stream':<34}{'records':>9}{'requests':>10}{'seconds':>9}  state"
    print(header)
    print("-" * len(header))
    for name in names:
        print(
            f"{name:<34}{records.get(name, 0):>9}{requests.get(name, 0):>10}{seconds.get(name, 0.0):>9.2f}  "
            f"{short_state(states.get(name))}"
        )
    print("-" * len(header))
    print(f"{'total':<34}{sum(records.values()):>9}{sum(requests.values()):>10}{run.seconds:>9.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=30, help="days of metrics history to sync")
    args = parser.parse_args(argv)

    # A month of metrics keeps the demo short; entity streams always sync everything.
    start_date = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=args.days)).isoformat()
    config = {**sample_config(), "start_date": start_date}
    # Reports finish on the second poll: Pinterest takes longer, but the demo is about the flow, not the wait.
    with Emulator(seed=args.seed, size=args.size, report_polls=1) as emulator:
        print(f"Pinterest API emulator ({args.size}, seed {args.seed}) at {emulator.base_url}; start_date {start_date}")
        check = run_connector("check", emulator.base_url, config)
        status = check.of_type("CONNECTION_STATUS")
        print(f"check:    {status[0]['connectionStatus']['status'] if status else 'no status'}")
        discover = run_connector("discover", emulator.base_url, config)
        catalog = configured_catalog(discover)
        print(f"discover: {len(catalog['streams'])} streams")
        read = run_connector("read", emulator.base_url, config, catalog=catalog)
        print(f"read:     exit code {read.returncode}, {read.seconds:.1f} s, {len(read.errors())} errors\n")
        print_table(read)
        for error in read.errors():
            print(f"\nerror: {error.get('message')}")
        stats = emulator.stats()
        print(f"\nemulator: {stats['requests_total']} API requests, {stats['rate_limited']} answered 429")
    ok = bool(status) and status[0]["connectionStatus"]["status"] == "SUCCEEDED" and read.returncode == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
