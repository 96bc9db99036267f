"""Measure one big report: render time, download time and the emulator's memory, for the figures in README.md.

    python -m pinterest_emulator.measure_report --size large --level CAMPAIGN_TARGETING --days 186 [--report-scale N]

Levels are those of source-pinterest's REPORT_STREAMS (CAMPAIGN_TARGETING, AD_GROUP_TARGETING,
PIN_PROMOTION_TARGETING, KEYWORD...). Starts the emulator as a child process (so its RSS is its own), creates one
report of ad account #0 with the columns source-pinterest asks for at that level (and its five targeting types),
polls until FINISHED, downloads the file to nowhere in 64 KiB reads, and prints the figures.
"""

import argparse
import subprocess
import sys
import time
from datetime import date, timedelta

import requests

from .auth import bearer_session

TYPES = ["APPTYPE", "COUNTRY", "GENDER", "AGE_BUCKET", "PLACEMENT"]


def _memory_mb(pid: int) -> dict:
    """Current and peak resident memory of a process, from /proc (Linux)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                out[name] = int(value.split()[0]) / 1024
    return out


def _columns(level: str) -> list:
    try:  # the connector's own request for that level, when it is importable
        from source_pinterest.metrics.specs import REPORT_STREAMS

        return list(next(s for s in REPORT_STREAMS if s.level.value == level).request_columns)
    except (ImportError, StopIteration):
        from .metrics import MODELLED_COLUMNS

        return sorted(MODELLED_COLUMNS)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="large")
    p.add_argument("--level", default="CAMPAIGN_TARGETING")
    p.add_argument("--days", type=int, default=186)
    p.add_argument("--report-scale", type=int, default=1)
    p.add_argument("--today", default="2025-06-01")
    args = p.parse_args(argv)
    cmd = [sys.executable, "-m", "pinterest_emulator", "--size", args.size, "--today", args.today]
    cmd += ["--report-polls", "0", "--report-scale", str(args.report_scale)]
    emu = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        base = emu.stdout.readline().strip().partition("=")[2]
        session = bearer_session(base)
        account = session.get(f"{base}/ad_accounts", timeout=30).json()["items"][0]["id"]
        end = date.fromisoformat(args.today)
        body = {
            "start_date": (end - timedelta(days=args.days - 1)).isoformat(),
            "end_date": end.isoformat(),
            "granularity": "DAY",
            "level": args.level,
            "columns": _columns(args.level),
            "report_format": "JSON",
        }
        if args.level.endswith("_TARGETING"):
            body["targeting_types"] = TYPES
        idle = _memory_mb(emu.pid)
        started = time.monotonic()
        job = session.post(f"{base}/ad_accounts/{account}/reports", json=body, timeout=30).json()["token"]
        while True:
            status = session.get(f"{base}/ad_accounts/{account}/reports", params={"token": job}, timeout=30).json()
            if status["report_status"] != "IN_PROGRESS":
                break
        rendered = time.monotonic() - started
        after_render = _memory_mb(emu.pid)
        started = time.monotonic()
        received = 0
        with requests.get(status["url"], stream=True, timeout=60) as r:
            for chunk in r.iter_content(64 * 1024):
                received += len(chunk)
        downloaded = time.monotonic() - started
        after_download = _memory_mb(emu.pid)
        print(f"{args.size} {args.level} {args.days} days, report_scale {args.report_scale}: {status['report_status']}")
        print(f"file {received / 1e6:,.0f} MB (size {status['size']:,} bytes)")
        print(f"render {rendered:.1f} s ({received / 1e6 / rendered:.0f} MB/s), download {downloaded:.1f} s")
        print(
            f"emulator RSS: idle {idle['VmRSS']:.0f} MB, after render {after_render['VmRSS']:.0f} MB, "
            f"after download {after_download['VmRSS']:.0f} MB, peak {after_download['VmHWM']:.0f} MB"
        )
    finally:
        emu.terminate()
        emu.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
