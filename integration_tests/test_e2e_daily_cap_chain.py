"""A daily cap smaller than one sync: each attempt fails at the cap, the next one runs after the daily reset from
the last state, and the chain completes in ceil(work / cap) + 1 attempts with nothing lost. That holds only if each
attempt spends its budget on what is not done yet: the metrics partitions saved per window, the passes continued
(no second look-back), and the partitions whose pass completed today not read again.

Read one partition at a time (num_workers 1) and side by side (3). ATTEMPT_TIMEOUT only bounds an attempt that
would hang on the cap instead of ending (http/budget.py keeps a daily cap's reset out of the CDK's budget, so none
should)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import pytest

from integration_tests.conftest import Connector
from pinterest_emulator import Emulator
from pinterest_emulator.sync_runner import Chain, ConnectorRun, run_chain

CAPPED = "ads_analytics"
STREAMS = (
    "ad_account_analytics",
    "campaign_analytics",
    "ad_group_analytics",
    "ad_analytics",
    "advertiser_report",
    "campaign_analytics_report",
)
# An attempt that hits the cap ends by itself; this only bounds one that hangs on it instead (see the module doc).
ATTEMPT_TIMEOUT = 60
FAST_RETRIES = {"PINTEREST_MAX_RETRIES": "2", "PINTEREST_BACKOFF_BASE_SECONDS": "0.01"}


def keys_of(run: ConnectorRun, catalog: dict) -> set[tuple]:
    fields = {s["stream"]["name"]: [p[0] for p in s["primary_key"]] for s in catalog["streams"]}
    return {
        (m["record"]["stream"], *(m["record"]["data"].get(f) for f in fields[m["record"]["stream"]]))
        for m in run.of_type("RECORD")
    }


@pytest.fixture(scope="module", params=[1, 3], ids=["sequential", "concurrent"])
def capped(request) -> Iterator[tuple[Chain, int, int, set, dict, list[int]]]:
    with Emulator(seed=7, size="small", report_polls=0) as emulator:
        connector = Connector(emulator)
        start = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=200)  # two report windows per account
        connector.config = {
            **connector.config,
            "start_date": start.isoformat(),
            "num_workers": request.param,
        }
        catalog = connector.catalog(STREAMS)
        uninterrupted = connector.read(STREAMS)
        assert uninterrupted.returncode == 0, uninterrupted.errors()
        work = emulator.state.limiter.used_today(CAPPED)
        cap = max(2, work // 3)
        emulator.configure(daily_caps=f"{CAPPED}={cap}/day")  # also a new day: the counters start again
        spent: list[int] = []

        def next_day(number: int) -> None:
            if number:
                spent.append(emulator.state.limiter.used_today(CAPPED))
                emulator.state.limiter.new_day()

        chain = run_chain(
            emulator.base_url,
            connector.config,
            catalog,
            math.ceil(work / cap) + 3,
            before_attempt=next_day,
            extra_env=FAST_RETRIES,
            attempt_timeout=ATTEMPT_TIMEOUT,
        )
        spent.append(emulator.state.limiter.used_today(CAPPED))
        print(
            f"\nnum_workers {request.param}: work {work} calls, cap {cap}/day: {len(chain.runs)} attempts, spent {spent}"
        )
        yield chain, work, cap, keys_of(uninterrupted, catalog), catalog, spent


def test_given_a_daily_cap_then_the_chain_completes_in_ceil_work_over_cap_plus_one_attempts(capped):
    chain, work, cap, _, _, _ = capped

    assert cap < work, "the cap must be smaller than one sync"
    assert chain.completed, chain.runs[-1].errors()
    assert len(chain.runs) <= math.ceil(work / cap) + 1
    for run in chain.runs[:-1]:
        assert run.returncode in (1, -9)  # -9: killed hanging on the cap (see the module doc)
        assert all(e["failure_type"] == "transient_error" for e in run.errors())


def test_given_a_daily_cap_then_nothing_is_lost(capped):
    chain, _, _, expected, catalog, _ = capped

    got = set().union(*(keys_of(run, catalog) for run in chain.runs))

    assert got == expected


def test_given_a_daily_cap_then_each_attempt_spends_its_budget_on_what_is_not_done(capped):
    chain, work, cap, _, _, spent = capped

    assert all(calls == cap for calls in spent[:-1]), spent  # every capped attempt used its whole budget
    # What was spent beyond one sync's work: at most the calls of the piece each capped attempt was inside.
    assert sum(spent) <= work + 2 * (len(chain.runs) - 1), spent
