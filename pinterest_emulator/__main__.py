"""Command line: python -m pinterest_emulator --port 0 --seed 1 --size small ...

Prints one line PINTEREST_EMULATOR_URL=http://127.0.0.1:PORT/v5 once listening,
then serves until SIGTERM or SIGINT and exits 0.
"""

import argparse
import signal
import sys
import threading

from .emulator import Emulator
from .sizes import SIZES


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="pinterest_emulator", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size", choices=sorted(SIZES), default="small")
    p.add_argument("--latency-ms", type=int, default=0, help="sleep per API request")
    p.add_argument("--rate-limits", choices=("off", "published"), default="off")
    p.add_argument(
        "--rate-limit",
        action="append",
        default=[],
        metavar="CATEGORY=N/min",
        help="override a per-minute limit (repeatable)",
    )
    p.add_argument(
        "--daily-cap",
        action="append",
        default=[],
        metavar="CATEGORY=N",
        help="429 with a reset hours away once N calls of CATEGORY were made (repeatable)",
    )
    p.add_argument("--faults", default="", help="fault spec, see README.md")
    p.add_argument("--rotate-refresh-tokens", action="store_true", help="every refresh issues a new refresh token")
    p.add_argument("--token-ttl", type=int, default=3600, help="access token lifetime in seconds")
    p.add_argument("--today", default=None, help="YYYY-MM-DD; default: current UTC date")
    p.add_argument("--report-polls", type=int, default=2, help="IN_PROGRESS polls before FINISHED")
    p.add_argument(
        "--board-pins-cap",
        type=int,
        default=None,
        help="/boards/{id}/pins stops after N items per board (section pins stay reachable)",
    )
    p.add_argument("--no-catalog", action="store_true", help="the user has no catalog (product groups -> 409)")
    p.add_argument("--download-ttl", type=int, default=300, help="seconds a report download URL stays valid")
    p.add_argument(
        "--download-stall-seconds",
        type=float,
        default=30.0,
        help="reset a download whose reader takes no bytes for this long",
    )
    p.add_argument(
        "--no-download-ranges",
        action="store_true",
        help="ignore Range headers on downloads: always the whole file with 200",
    )
    p.add_argument(
        "--report-scale",
        type=int,
        default=1,
        help="each targeting type gets N times its values: targeting report files grow about N times",
    )
    p.add_argument(
        "--report-disk-budget-mb",
        type=int,
        default=20_000,
        help="rendered report files kept on disk; beyond it the oldest are deleted and re-rendered when polled",
    )
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    emu = Emulator(
        seed=args.seed,
        size=args.size,
        latency_ms=args.latency_ms,
        rate_limits=args.rate_limits,
        faults=args.faults,
        rotate_refresh_tokens=args.rotate_refresh_tokens,
        token_ttl=args.token_ttl,
        today=args.today,
        report_polls=args.report_polls,
        port=args.port,
        board_pins_cap=args.board_pins_cap,
        no_catalog=args.no_catalog,
        download_ttl=args.download_ttl,
        download_stall_seconds=args.download_stall_seconds,
        download_ranges=not args.no_download_ranges,
        report_scale=args.report_scale,
        report_disk_budget_mb=args.report_disk_budget_mb,
        rate_limit_overrides=",".join(args.rate_limit),
        daily_caps=",".join(args.daily_cap),
    )
    url = emu.bind()
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = threading.Thread(target=emu.serve_forever, daemon=True)
    server.start()
    print(f"PINTEREST_EMULATOR_URL={url}", flush=True)
    while not stop.wait(0.5):
        pass
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
