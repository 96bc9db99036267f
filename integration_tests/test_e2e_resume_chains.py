"""Syncs killed again and again: every attempt is SIGKILLed after K records and started from the last state each
stream emitted, until one completes, with every entity stream, the live analytics (default 30-day look-back), the
organic pin analytics and rankings, and four async reports of the small account.

Each chain must finish within total/K + 4 attempts, emit at most twice the unique records, and its union must hold
the emulator's truth. That holds only if every attempt makes progress: a metrics partition continues its pass
instead of paying the look-back again, a full-refresh stream skips the parents (or sort orders) already done and
is read after every incremental stream, and state comes after every completed partition. K is a quarter of the sync, and a sixth: a sixth still leaves room for the
largest piece of work between two state messages (one account's ad_analytics request, ~350 records).

CI runs the small account; `PINTEREST_CHAIN_SIZE=medium python -m pytest integration_tests/test_e2e_resume_chains.py
-s` runs the same chains on the medium one as a benchmark (about ten minutes) and prints the same figures."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any

import pytest

from integration_tests.conftest import (
    ENTITY_STREAMS,
    Connector,
    assert_records_match_truth,
    campaign_days_in_truth,
    truth,
)
from pinterest_emulator import Emulator
from pinterest_emulator.sync_runner import Chain, ConnectorRun, run_chain
from source_pinterest.metrics.specs import ANALYTICS_STREAMS

METRICS_DAYS = 6
REPORTS = ("advertiser_report", "campaign_analytics_report", "ad_group_report", "pin_promotion_report")
# Full refresh: an attempt reads a completed ranking again whole (resumable full refresh), and gets through the chain
# only because the source reads such streams after all the others.
RANKINGS = ("user_account_top_pins", "user_account_top_video_pins")
METRICS = ("user_account_analytics", "pin_analytics", *(spec.name for spec in ANALYTICS_STREAMS), *REPORTS, *RANKINGS)
STREAMS = ENTITY_STREAMS + METRICS
SHARES = {"a quarter": 4, "a sixth": 6}
SIZE = os.environ.get("PINTEREST_CHAIN_SIZE", "small")


@pytest.fixture(scope="module")
def account() -> Iterator[tuple[Emulator, Connector, ConnectorRun]]:
    """The emulator, the connector's config and catalog, and one uninterrupted sync to compare with."""
    with Emulator(seed=7, size=SIZE, report_polls=0) as emulator:
        connector = Connector(emulator)
        start = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=METRICS_DAYS)
        connector.config = {**connector.config, "start_date": start.isoformat()}
        uninterrupted = connector.read(STREAMS)
        assert uninterrupted.returncode == 0, uninterrupted.errors()
        yield emulator, connector, uninterrupted


@pytest.fixture(scope="module", params=[(m, s) for m in ("sequential", "concurrent") for s in SHARES])
def chain(request, account) -> tuple[Chain, int, dict]:
    mode, share = request.param
    emulator, connector, uninterrupted = account
    config = {**connector.config, "num_workers": 1 if mode == "sequential" else 3}
    catalog = connector.catalog(STREAMS)
    total = len(uninterrupted.records())
    kill_every = total // SHARES[share]
    result = run_chain(emulator.base_url, config, catalog, total // kill_every + 6, kill_after_records=kill_every)
    keys = {s["stream"]["name"]: [p[0] for p in s["primary_key"]] for s in catalog["streams"]}
    print(f"\n{SIZE} {mode}, K={kill_every} ({share} of {total}): {describe(result, keys)}")
    return result, kill_every, keys


def unique_keys(runs: list[ConnectorRun], keys: dict[str, list[str]]) -> set[tuple]:
    return {
        (m["record"]["stream"], *(m["record"]["data"].get(field) for field in keys[m["record"]["stream"]]))
        for run in runs
        for m in run.of_type("RECORD")
    }


def describe(chain: Chain, keys: dict[str, list[str]]) -> str:
    return f"{len(chain.runs)} attempts, {chain.emitted} records emitted, {len(unique_keys(chain.runs, keys))} unique"


def test_the_chain_completes_within_total_over_k_plus_4_attempts(account, chain):
    result, kill_every, _ = chain
    total = len(account[2].records())

    assert result.completed, (result.runs[-1].errors(), result.runs[-1].stderr[-2000:])
    assert all(run.returncode == -9 for run in result.runs[:-1])
    assert len(result.runs) <= total / kill_every + 4


def test_the_chain_emits_at_most_twice_the_unique_records(chain):
    result, _, keys = chain

    assert result.emitted <= 2 * len(unique_keys(result.runs, keys))


def test_the_union_of_the_attempts_holds_every_entity_record(account, chain):
    emulator = account[0]
    result = chain[0]
    for stream in ENTITY_STREAMS:
        latest: dict[Any, dict] = {}
        for record in result.records(stream):
            latest[record["id"]] = record  # the last version wins, as in the destination
        assert_records_match_truth(list(latest.values()), truth(emulator, stream), stream)


def test_the_union_of_the_attempts_holds_every_metrics_row_of_an_uninterrupted_sync(account, chain):
    emulator, _, uninterrupted = account
    result, _, keys = chain
    for stream in METRICS:
        expected = unique_keys([uninterrupted], {stream: keys[stream]} | keys)
        got = unique_keys(result.runs, keys)
        assert {k for k in got if k[0] == stream} == {k for k in expected if k[0] == stream}, stream
    expected = campaign_days_in_truth(emulator, METRICS_DAYS)
    synced = {(str(r["CAMPAIGN_ID"]), r["DATE"]) for r in result.records("campaign_analytics")}
    assert expected and synced == expected
