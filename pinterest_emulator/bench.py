"""The benchmark: a full and an incremental sync of every stream through the real CLI, measured against the emulator.

`python -m pinterest_emulator.bench [--sizes small medium large] [--latency-ms 100] [--rate-scale 1] [--days 186]
[--workers N] [--report-polls 1]` (or `bash scripts/dev.sh bench ...`) prints, per size: API calls per stream and in
total next to the minimum the data needs (bench_minimum.py), 429s received, wall time next to the lower bound that
the rate limits and the latency set, peak RSS, the full sync's connector CPU a record next to a bare CDK source
emitting that sync's own mix of records (cdk_floor.mix_rows), and the records per second of a zero-latency,
unlimited sync of the entity streams, next to the same bare source emitting those records (cdk_floor.py). It is a
measurement, not a test: it exits 1 only if a sync failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from pinterest_emulator import Emulator, sample_config
from pinterest_emulator.bench_minimum import (
    DOWNLOAD,
    READINESS,
    TOKEN,
    Metrics,
    Plan,
    SyncRange,
    lower_bound_seconds,
    minimum_calls,
)
from pinterest_emulator.cdk_floor import (
    FloorFigures,
    floor_line,
    floor_rows,
    measure_floor,
    mix_rows,
    per_record_us,
    rate,
)
from pinterest_emulator.ratelimit import LIMITS_PER_MINUTE
from pinterest_emulator.sync_runner import (
    MeasuredRun,
    configured_catalog,
    run_connector,
    run_connector_measured,
    state_for_next_run,
)
from pinterest_emulator.truth import STREAMS as ENTITY_STREAMS
from source_pinterest.config import PinterestConfig, parse_config
from source_pinterest.metrics.organic import TOP_PINS_STREAMS
from source_pinterest.metrics.specs import ANALYTICS_STREAMS, REPORT_STREAMS, configured_report_streams

UNLIMITED = ",".join(f"{category}=1000000000/min" for category in LIMITS_PER_MINUTE)
OTHER = "(not attributed to a stream)"


@dataclass
class SyncFigures:
    """One measured sync and what it is compared with."""

    measured: MeasuredRun
    stats: dict
    minimum: Plan
    bound: tuple[float, str]
    goal: Plan | None = None

    @property
    def calls(self) -> int:
        return self.stats["requests_total"] + self.stats["downloads"]

    @property
    def downloads(self) -> int:
        return self.stats["downloads"]

    def per_stream(self) -> dict[str, int]:
        """The connector's own count per stream; what no stream counted (token refresh, listings that are not a
        stream, retries) is the difference to the emulator's count."""
        counts = self.measured.run.summary_requests()
        counts[OTHER] = self.calls - sum(counts.values())
        return counts

    def per_category(self) -> dict[str, int]:
        return {**self.stats["by_category"], DOWNLOAD: self.downloads}

    def stream_seconds(self) -> dict[str, float]:
        """Each stream's wall time, from its STARTED status to its last status (streams read side by side overlap)."""
        started: dict[str, float] = {}
        ended: dict[str, float] = {}
        for message in self.measured.run.of_type("TRACE"):
            trace = message["trace"]
            if trace.get("type") != "STREAM_STATUS":
                continue
            name = trace["stream_status"]["stream_descriptor"]["name"]
            started.setdefault(name, trace["emitted_at"])
            ended[name] = trace["emitted_at"]
        return {name: (ended[name] - started[name]) / 1000 for name in started}

    def stream_megabytes(self) -> dict[str, float]:
        """Report bytes downloaded per stream (the emulator counts them per report level)."""
        by_level = self.stats.get("download_bytes_by_level", {})
        return {spec.name: by_level.get(spec.level.value, 0) / 1e6 for spec in REPORT_STREAMS}


@dataclass
class Throughput:
    records: int
    seconds: float
    cpu_seconds: float
    pins_records: int
    pins_cpu_seconds: float
    floor: FloorFigures  # the same records emitted by a bare CDK source (cdk_floor.py)


def connector_metrics(skipped: frozenset[str] = frozenset(), config: dict | None = None) -> Metrics:
    """The connector's metrics streams as plain data for the minimum: which listing feeds each analytics stream,
    and each report's level and jobs per window (one per group of at most 5 targeting types, as the connector
    splits the `config`'s targeting types, or every type of the level); `skipped` streams are left out."""
    reports = configured_report_streams(parse_config(config)) if config else REPORT_STREAMS
    return Metrics(
        analytics={spec.name: spec.listing for spec in ANALYTICS_STREAMS if spec.name not in skipped},
        reports={spec.name: (spec.level.value, spec.jobs_per_window) for spec in reports if spec.name not in skipped},
        pin_analytics="pin_analytics" not in skipped,
        top_pins={spec.name: len(spec.sort_by) for spec in TOP_PINS_STREAMS if spec.name not in skipped},
    )


def cached_truth(emulator: Emulator):
    cache: dict = {}

    def truth(stream: str, statuses=None) -> list:
        key = (stream, tuple(statuses or ()))
        if key not in cache:
            cache[key] = emulator.truth(stream, statuses=list(statuses) if statuses else None)["records"]
        return cache[key]

    return truth


def run_size(args: argparse.Namespace, size: str, startup_cpu: float) -> dict:
    limits = {category: max(1, round(n * args.rate_scale)) for category, n in LIMITS_PER_MINUTE.items()}
    overrides = ",".join(f"{category}={n}/min" for category, n in limits.items())
    pacing = {"latency_ms": args.latency_ms, "rate_limits": "published", "rate_limit_overrides": overrides}
    with Emulator(seed=args.seed, size=size, report_polls=args.report_polls, **pacing) as emulator:
        today = emulator.state.today
        config = {**sample_config(), "start_date": (today - dt.timedelta(days=args.days - 1)).isoformat()}
        if args.workers:
            config["num_workers"] = args.workers
        skipped = frozenset(args.skip_streams)
        catalog = configured_catalog(run_connector("discover", emulator.base_url, config))
        catalog = {"streams": [s for s in catalog["streams"] if s["stream"]["name"] not in skipped]}
        truth, metrics = cached_truth(emulator), connector_metrics(skipped, config)
        latency = args.latency_ms / 1000
        dates = SyncRange(today, today - dt.timedelta(days=args.days - 1))

        def measure(state=None, incremental=False) -> SyncFigures:
            emulator.configure(**pacing)  # fresh rate-limit windows for each sync
            emulator.reset_stats()
            measured = run_connector_measured("read", emulator.base_url, config, catalog, state)
            # The incremental sync follows the full one on the same day.
            span = SyncRange(dates.today, dates.start, incremental, just_after=incremental)
            minimum = minimum_calls(truth, metrics, span, args.report_polls)
            bound = lower_bound_seconds(minimum.per_category(), limits, minimum.chain, latency)
            goal = minimum_calls(truth, metrics, span, args.report_polls, one_page_per_listing=True)
            return SyncFigures(measured, emulator.stats(), minimum, bound, goal if incremental else None)

        full = measure()
        # The full sync's own record mix (mostly metrics rows) through the bare CDK source.
        full_floor = measure_floor(mix_rows(full.measured.samples, full.measured.record_counts))
        incremental = measure(state_for_next_run(full.measured.run), incremental=True)
        throughput = zero_latency_throughput(emulator, config, catalog)
        entities = sum(len(truth(name, None)) for name in ENTITY_STREAMS)
    result = {"size": size, "accounts": len(truth("ad_accounts")), "entities": entities, "full": full}
    result.update(incremental=incremental, throughput=throughput, limits=limits, config=config, startup=startup_cpu)
    result["full_floor"] = full_floor
    print_size(args, result)
    return result


def zero_latency_throughput(emulator: Emulator, config: dict, catalog: dict) -> Throughput:
    """Entity streams only, full refresh, no latency and no rate limit: what the connector itself costs."""
    emulator.configure(latency_ms=0, rate_limits="off", rate_limit_overrides=UNLIMITED)
    streams = [c["stream"] for c in catalog["streams"] if c["stream"]["name"] in ENTITY_STREAMS]

    def read(names) -> MeasuredRun:
        chosen = [s for s in streams if s["name"] in names]
        entity_catalog = {
            "streams": [
                {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in chosen
            ]
        }
        return run_connector_measured("read", emulator.base_url, config, entity_catalog)

    everything, pins = read(ENTITY_STREAMS), read(("pins",))
    floor = measure_floor(floor_rows(lambda name: emulator.truth(name)["records"], everything.record_counts))
    return Throughput(
        sum(everything.record_counts.values()),
        everything.run.seconds,
        everything.cpu_seconds,
        sum(pins.record_counts.values()),
        pins.cpu_seconds,
        floor,
    )


# -- printing ----------------------------------------------------------------------------------------------------


def pct(actual: int, minimum: int) -> str:
    return f"{(actual - minimum) / minimum * 100:+.1f}%" if minimum else "-"


def print_size(args: argparse.Namespace, result: dict) -> None:
    full, incremental, limits = result["full"], result["incremental"], result["limits"]
    config = result["config"]
    print(f"\n== {result['size']}: {result['accounts']} ad accounts, {result['entities']:,} entity records ==")
    rates = ", ".join(f"{c} {n}/min" for c, n in limits.items())
    print(
        f"emulator: {args.latency_ms} ms per request; rate limits {rates}; reports finish on poll {args.report_polls + 1}"
    )
    workers = config.get("num_workers", f"{PinterestConfig.model_fields['num_workers'].default} (default)")
    print(f"connector: num_workers {workers}; start_date {config['start_date']} ({args.days} days of metrics)\n")
    print_stream_table(full, incremental)
    print()
    print_summary(full, incremental)
    for label, figures in (("full", full), ("incremental", incremental)):
        for error in figures.measured.run.errors():
            print(f"{label} sync error: {error.get('message')}")
    print_throughput(result["throughput"], result["startup"])
    # The full sync as measured, with its latency: waiting costs no CPU, and the polls it brings count against us.
    print(
        f"full sync ({args.latency_ms} ms latency, every stream) against the floor of its own record mix: "
        + floor_line(
            sum(full.measured.record_counts.values()),
            full.measured.cpu_seconds,
            result["startup"],
            result["full_floor"],
        )
    )


def print_stream_table(full: SyncFigures, incremental: SyncFigures) -> None:
    header = (
        f"{'stream':<32}{'full: records':>14}{'calls':>7}{'min':>7}{'wall s':>8}{'MB':>8}"
        f"{'incr: records':>15}{'calls':>7}{'min':>7}{'goal':>7}"
    )
    print(header)
    print("-" * len(header))
    full_calls, inc_calls = full.per_stream(), incremental.per_stream()
    full_min, inc_min, goal = full.minimum.per_stream(), incremental.minimum.per_stream(), incremental.goal.per_stream()
    for plan in (full_min, inc_min, goal):
        plan[OTHER] = plan.pop(TOKEN, 0)
    names = [n for n in ENTITY_STREAMS] + sorted(set(full_calls) - set(ENTITY_STREAMS) - {OTHER}) + [READINESS, OTHER]
    full_records, inc_records = full.measured.record_counts, incremental.measured.record_counts
    seconds, megabytes = full.stream_seconds(), full.stream_megabytes()
    for name in names:
        wall = f"{seconds[name]:.1f}" if name in seconds else ""
        mb = f"{megabytes[name]:.1f}" if name in megabytes else ""
        print(
            f"{name:<32}{full_records.get(name, 0):>14,}{full_calls.get(name, 0):>7}{full_min.get(name, 0):>7}"
            f"{wall:>8}{mb:>8}"
            f"{inc_records.get(name, 0):>15,}{inc_calls.get(name, 0):>7}{inc_min.get(name, 0):>7}{goal.get(name, 0):>7}"
        )
    print("-" * len(header))
    total_mb = full.stats.get("download_bytes_sent", 0) / 1e6
    print(
        f"{'total':<32}{sum(full_records.values()):>14,}{full.calls:>7}{full.minimum.total():>7}"
        f"{full.measured.run.seconds:>8.1f}{total_mb:>8.1f}"
        f"{sum(inc_records.values()):>15,}{incremental.calls:>7}{incremental.minimum.total():>7}"
        f"{incremental.goal.total():>7}"
    )


def print_summary(full: SyncFigures, incremental: SyncFigures) -> None:
    rows = [
        ("exit code", lambda f: str(f.measured.run.returncode)),
        ("calls (of which downloads)", lambda f: f"{f.calls:,} ({f.downloads})"),
        ("minimum", lambda f: f"{f.minimum.total():,} ({f.minimum.per_category()[DOWNLOAD]})"),
        ("calls vs minimum", lambda f: pct(f.calls, f.minimum.total())),
        ("429s received", lambda f: str(f.stats["rate_limited"])),
        ("wall time", lambda f: f"{f.measured.run.seconds:.1f} s"),
        ("lower bound", lambda f: f"{f.bound[0]:.1f} s"),
        ("wall / lower bound", lambda f: f"{f.measured.run.seconds / f.bound[0]:.2f}x" if f.bound[0] else "-"),
        ("peak RSS", lambda f: f"{f.measured.peak_rss_kb / 1024:.0f} MB"),
        ("connector CPU", lambda f: f"{f.measured.cpu_seconds:.1f} s"),
    ]
    print(f"{'':<28}{'full':>22}{'incremental':>22}")
    for label, value in rows:
        print(f"{label:<28}{value(full):>22}{value(incremental):>22}")
    for label, figures in (("full", full), ("incremental", incremental)):
        print(f"lower bound, {label}: {figures.bound[1]}")
        minimum = figures.minimum.per_category()
        actual = figures.per_category()
        parts = [f"{c} {actual.get(c, 0)}/{minimum.get(c, 0)}" for c in sorted(set(minimum) | set(actual))]
        print(f"calls/minimum by category, {label}: {', '.join(parts)}")


def pins_rate(throughput: Throughput, startup_cpu: float) -> str:
    """Records per CPU-second of the pins stream alone, start-up taken out: the cost of a record on full pages."""
    cpu = throughput.pins_cpu_seconds - startup_cpu
    # Below a second of work, the start-up's own variation (a few tenths) would swamp the figure.
    return f"{throughput.pins_records / cpu:,.0f}" if cpu >= 1.0 else "too few to measure"


def print_throughput(throughput: Throughput, startup_cpu: float) -> None:
    wall_rate = throughput.records / throughput.seconds
    cpu_rate = throughput.records / throughput.cpu_seconds
    print(
        f"zero latency, no rate limit, entity streams: {throughput.records:,} records in {throughput.seconds:.1f} s "
        f"= {wall_rate:,.0f} records/s; connector CPU {throughput.cpu_seconds:.1f} s = {cpu_rate:,.0f} records per "
        f"CPU-second (start-up {startup_cpu:.1f} s included); pins alone (full 250-record pages): "
        f"{pins_rate(throughput, startup_cpu)} records per CPU-second after start-up"
    )
    print(floor_line(throughput.records, throughput.cpu_seconds, startup_cpu, throughput.floor))


def print_overview(results: list[dict]) -> None:
    """One Markdown row per size, with the README's columns."""
    print("\n== overview ==")
    print(
        "| size | records (full) | report MB downloaded | full: calls / minimum | incremental: calls / minimum | 429s "
        "| full: wall / bound | incremental: wall / bound | peak RSS (full / incr.) | full sync: connector CPU, records "
        "per CPU-second after start-up | CDK floor of that mix, records per CPU-second (connector / floor) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        full, inc, floor = r["full"], r["incremental"], r["full_floor"]
        records = sum(full.measured.record_counts.values())
        connector_us = per_record_us(records, full.measured.cpu_seconds, r["startup"])
        floor_us = per_record_us(floor.run.records, floor.run.cpu_seconds, floor.startup.cpu_seconds)
        ratio = f" ({floor_us / connector_us:.2f}x)" if connector_us and floor_us else ""
        cells = [
            r["size"],
            f"{records:,}",
            f"{full.stats.get('download_bytes_sent', 0) / 1e6:,.0f}",
            f"{full.calls:,} / {full.minimum.total():,} ({pct(full.calls, full.minimum.total())})",
            f"{inc.calls:,} / {inc.minimum.total():,}",
            str(full.stats["rate_limited"] + inc.stats["rate_limited"]),
            wall_vs_bound(full),
            wall_vs_bound(inc),
            f"{full.measured.peak_rss_kb / 1024:.0f} / {inc.measured.peak_rss_kb / 1024:.0f} MB",
            f"{full.measured.cpu_seconds:,.1f} s, {rate(connector_us) if connector_us else '-'}",
            f"{rate(floor_us) if floor_us else '-'}{ratio}",
        ]
        print("| " + " | ".join(cells) + " |")


def write_rss_profile(measured: MeasuredRun, path: Path) -> None:
    """The connector's resident memory over the sync, one sample every half second, as CSV."""
    lines = ["seconds,rss_mb"] + [f"{seconds},{kb / 1024:.1f}" for seconds, kb in measured.rss_profile]
    path.write_text("\n".join(lines) + "\n")


def wall_vs_bound(figures: SyncFigures) -> str:
    wall, bound = figures.measured.run.seconds, figures.bound[0]
    return f"{wall:.0f} s / {bound:.1f} s ({wall / bound:.2f}x)" if bound else f"{wall:.0f} s / -"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", nargs="+", default=["small", "medium", "large"], choices=["small", "medium", "large"]
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=int, default=100, help="emulated latency of every API request")
    parser.add_argument(
        "--rate-scale", type=float, default=1.0, help="multiply the published per-minute limits (shorter runs)"
    )
    parser.add_argument(
        "--days",
        type=int,
        default=186,
        help="days of metrics history (1-186): the reports read one window of that many days, the live analytics at "
        "most the 90 days they reach back (default: one full 186-day report window, so real report volumes show)",
    )
    parser.add_argument("--workers", type=int, default=None, help="the connector's num_workers (default: its own)")
    parser.add_argument("--report-polls", type=int, default=1, help="polls that answer IN_PROGRESS per report")
    parser.add_argument(
        "--skip-streams",
        nargs="*",
        default=[],
        metavar="STREAM",
        help="metrics streams left out of the syncs and the minimum (e.g. the targeting reports, whose 186-day files "
        "on the large account are gigabytes each)",
    )
    parser.add_argument(
        "--rss-profile",
        default="bench-rss-{size}.csv",
        help="where the RSS profile of the last size's full sync goes ({size} is replaced)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.days <= 186:
        parser.error("--days must be 1-186 (one report window; live analytics reach 90 days back)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    startup = run_connector_measured("spec", "http://127.0.0.1:9/v5", {}).cpu_seconds
    results = [run_size(args, size, startup) for size in args.sizes]
    print_overview(results)
    largest = results[-1]
    profile_path = Path(args.rss_profile.format(size=largest["size"]))
    write_rss_profile(largest["full"].measured, profile_path)
    print(f"\nRSS profile of the {largest['size']} full sync: {profile_path}")
    failed = [r["size"] for r in results for key in ("full", "incremental") if r[key].measured.run.returncode != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
