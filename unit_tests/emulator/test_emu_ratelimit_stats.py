"""Rate-limit headers and 429s, stats, mutation, run-time config, and the CLI."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def test_every_response_has_rate_limit_headers(api):
    r = api.get("/boards")
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(r.headers)


def test_published_limits_answer_429_with_retry_after(fresh):
    emu, api = fresh(rate_limits="published", rate_limit_overrides="org_read=5/min")
    statuses = [api.get("/boards").status_code for _ in range(6)]  # the token call used one
    assert statuses[:4] == [200] * 4 and statuses[-1] == 429
    r = api.get("/boards")
    assert r.json()["code"] == 8 and int(r.headers["Retry-After"]) > 0
    assert api.get(f"/ad_accounts/{emu.state.ds.accounts[0].id}/campaigns").status_code == 200
    assert emu.stats()["rate_limited"] >= 2


def test_daily_cap(fresh):
    _emu, api = fresh(daily_caps="ads_read=2")
    codes = [api.get("/ad_accounts").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = api.get("/ad_accounts")
    assert int(r.headers["Retry-After"]) > 3600 and "retry after" in r.json()["message"]


def test_stats_and_reset(fresh):
    emu, api = fresh()
    api.get("/boards")
    api.get("/nope")
    stats = requests.get(api.root + "/_emulator/stats").json()
    assert stats["by_endpoint"]["GET /v5/boards"] == 1 and stats["by_category"]["org_read"] >= 2
    assert stats["by_status"]["200"] >= 2 and stats["token_refreshes"] == 1
    requests.post(api.root + "/_emulator/stats/reset")
    assert emu.stats()["requests_total"] == 0


def test_mutate_changes_and_creates(fresh):
    emu, api = fresh()
    before = {c["id"]: c for c in emu.truth("campaigns", statuses="ACTIVE,PAUSED,ARCHIVED,DRAFT")["records"]}
    changed = requests.post(api.root + "/_emulator/mutate", json={"seed": 3}).json()["changed"]
    after = {c["id"]: c for c in emu.truth("campaigns", statuses="ACTIVE,PAUSED,ARCHIVED,DRAFT")["records"]}
    new = set(after) - set(before)
    assert new and new <= set(changed["campaigns"]) and min(map(int, new)) > max(map(int, before))
    updated = [i for i in changed["campaigns"] if i in before]
    assert all(after[i]["updated_time"] > before[i]["updated_time"] for i in updated)
    assert changed["pins"] and changed["boards"] and len(changed["analytics_dates"]) == 3


def test_mutate_restates_conversions_only(fresh):
    emu, _ = fresh()
    query = dict(level="AD_ACCOUNT", start_date="2025-05-01", end_date="2025-06-01")
    before = emu.truth("analytics", **query)["rows"]
    day = emu.mutate(1)["changed"]["analytics_dates"][0]
    after = emu.truth("analytics", **query)["rows"]
    old = [r for r in before if r["DATE"] == day]
    new = [r for r in after if r["DATE"] == day]
    assert [r["SPEND_IN_MICRO_DOLLAR"] for r in old] == [r["SPEND_IN_MICRO_DOLLAR"] for r in new]
    assert [r["TOTAL_CONVERSIONS"] for r in old] != [r["TOTAL_CONVERSIONS"] for r in new]


def test_config_endpoint_changes_latency(fresh):
    _emu, api = fresh()
    r = requests.post(api.root + "/_emulator/config", json={"latency_ms": 5, "faults": "503"})
    assert r.json()["latency_ms"] == 5 and api.get("/boards").status_code == 503


def test_cli_prints_url_and_exits_cleanly_on_sigterm():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinterest_emulator", "--port", "0", "--seed", "1", "--size", "small"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("PINTEREST_EMULATOR_URL=http://127.0.0.1:") and line.endswith("/v5")
        url = line.split("=", 1)[1]
        assert requests.get(url.removesuffix("/v5") + "/_emulator/health").json()["ok"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
