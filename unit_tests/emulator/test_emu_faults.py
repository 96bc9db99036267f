"""Fault injection: grammar, determinism, recovery within K retries, report and download faults."""

import pytest
import requests

from pinterest_emulator.faults import FaultInjector, parse

from .conftest import Api

FAULTS = "429:0.2,500:0.1,503:0.1,reset:0.05,truncate:0.05,nonjson:0.05,token_revoke:0.03"


def test_grammar():
    spec = parse("429:0.1x5,report_hang,500:0.2xinf,fail:/v5/pins=503,max_consecutive=3,slow_seconds=0.1")
    assert [(r.kind, r.probability, r.max_consecutive) for r in spec.rules] == [
        ("429", 0.1, 5),
        ("report_hang", 1.0, None),
        ("500", 0.2, -1),
    ]
    assert spec.permanent == {"/v5/pins": 503} and spec.options["max_consecutive"] == 3
    with pytest.raises(ValueError):
        parse("explode:0.5")


def test_decisions_are_deterministic_and_capped():
    a, b = FaultInjector(1, "500:0.9"), FaultInjector(1, "500:0.9")
    seq_a = [a.choose("GET /v5/pins", ("500",)) for _ in range(30)]
    assert seq_a == [b.choose("GET /v5/pins", ("500",)) for _ in range(30)]
    streak = 0
    for outcome in seq_a:
        streak = streak + 1 if outcome else 0
        assert streak <= 2


class RetryingApi(Api):
    """Bounded retries: K faults then success is always enough."""

    def get(self, path, params=None, **kw):
        for _ in range(4):
            try:
                r = super().get(path, params, **kw)
                if r.status_code == 401:
                    self.token = self.refresh("emulator-refresh-token").json()["access_token"]
                    continue
                if r.status_code >= 429:
                    continue
                r.json()
                return r
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, ValueError):
                continue
        raise AssertionError(f"no recovery for {path}")


@pytest.mark.parametrize("stream, path", [("campaigns", "campaigns"), ("ads", "ads")])
def test_faulty_run_recovers_to_clean_data(fresh, stream, path):
    emu, _ = fresh(faults=FAULTS)
    api = RetryingApi(emu.base_url)
    got = [x for a in emu.state.ds.accounts for x in api.all_items(f"/ad_accounts/{a.id}/{path}", {"page_size": 2})]
    assert got == emu.truth(stream)["records"]
    assert sum(emu.stats()["faults_injected"].values()) >= 3


def test_same_seed_same_fault_sequence(fresh):
    def statuses():
        _emu, api = fresh(faults="500:0.5,429:0.2")
        return [api.get("/boards", {"page_size": n}).status_code for n in range(1, 20)]

    assert statuses() == statuses()


def test_permanent_failure(fresh):
    emu, api = fresh(faults="fail:/v5/ad_accounts/{ad_account_id}/audiences=500")
    account = emu.state.ds.accounts[0].id
    assert all(api.get(f"/ad_accounts/{account}/audiences").status_code == 500 for _ in range(5))
    assert api.get(f"/ad_accounts/{account}/campaigns").status_code == 200


def test_429_fault_has_headers_and_noheaders_variant_does_not(fresh):
    _, api = fresh(faults="429")
    r = api.get("/boards")
    assert r.status_code == 429 and r.json()["code"] == 8 and "Retry-After" in r.headers
    _, api = fresh(faults="429noheaders")
    r = api.get("/boards")
    assert r.status_code == 429 and "Retry-After" not in r.headers


def test_token_faults_only_when_named(fresh):
    emu, api = fresh(faults="500")
    assert api.token  # the token endpoint was not faulted
    emu.configure(faults="token_500")
    assert api.refresh("emulator-refresh-token").status_code == 500


def test_bookmark_repeat_returns_the_same_bookmark(fresh):
    _emu, api = fresh(faults="bookmark_repeat")
    first = api.get("/pins").json()["bookmark"]
    assert api.get("/pins", {"bookmark": first}).json()["bookmark"] == first


@pytest.mark.parametrize("fault, status", [("report_fail", "FAILED"), ("report_expire", "EXPIRED")])
def test_report_fates(fresh, fault, status):
    emu, api = fresh(faults=fault, report_polls=0)
    account = emu.state.ds.accounts[0].id
    body = {
        "start_date": "2025-05-01",
        "end_date": "2025-05-02",
        "granularity": "DAY",
        "level": "CAMPAIGN",
        "columns": ["SPEND_IN_DOLLAR"],
    }
    results = []
    for _ in range(3):
        token = api.post(f"/ad_accounts/{account}/reports", json=body).json()["token"]
        results.append(api.get(f"/ad_accounts/{account}/reports", {"token": token}).json()["report_status"])
    assert results == [status, status, "FINISHED"]  # K=2, then the re-created report succeeds


def test_report_hang_and_download_expire(fresh):
    emu, api = fresh(faults="report_hang:1xinf", report_polls=0)
    account = emu.state.ds.accounts[0].id
    body = {
        "start_date": "2025-05-01",
        "end_date": "2025-05-02",
        "granularity": "DAY",
        "level": "CAMPAIGN",
        "columns": ["SPEND_IN_DOLLAR"],
    }
    token = api.post(f"/ad_accounts/{account}/reports", json=body).json()["token"]
    assert {api.get(f"/ad_accounts/{account}/reports", {"token": token}).json()["report_status"] for _ in range(5)} == {
        "IN_PROGRESS"
    }
    emu.configure(faults="download_expire")
    token = api.post(f"/ad_accounts/{account}/reports", json=body).json()["token"]
    first = api.get(f"/ad_accounts/{account}/reports", {"token": token}).json()["url"]
    r = requests.get(first)
    assert r.status_code == 403 and b"Request has expired" in r.content
    urls = [api.get(f"/ad_accounts/{account}/reports", {"token": token}).json()["url"] for _ in range(2)]
    assert requests.get(urls[-1]).status_code == 200
