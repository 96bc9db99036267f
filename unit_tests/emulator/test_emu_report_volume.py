"""Report volumes: report_scale grows targeting files, files are rendered to disk once, and truth matches them."""

import csv
import io
import json
import os
import subprocess
import time

import pytest
import requests

from pinterest_emulator.reports import report_rows, validate
from unit_tests.emulator.conftest import Api

TYPES = ["APPTYPE", "COUNTRY", "GENDER"]
BODY = {
    "start_date": "2025-05-01",
    "end_date": "2025-05-31",
    "granularity": "DAY",
    "level": "AD_GROUP_TARGETING",
    "targeting_types": TYPES,
    "columns": ["CAMPAIGN_ID", "SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CTR", "TOTAL_CONVERSIONS"],
}


def _file(api, account, body):
    token = api.post(f"/ad_accounts/{account}/reports", json=body).json()["token"]
    for _ in range(20):
        status = api.get(f"/ad_accounts/{account}/reports", {"token": token}).json()
        if status["report_status"] == "FINISHED":
            content = requests.get(status["url"]).content
            assert len(content) == status["size"]
            return content
    raise AssertionError(status)


def _truth(api, account, body):
    rows = api.admin(
        "truth/report",
        {
            "level": body["level"],
            "start_date": body["start_date"],
            "end_date": body["end_date"],
            "columns": ",".join(body["columns"]),
            "targeting_types": ",".join(body.get("targeting_types", ["APPTYPE"])),
        },
    )["rows"]
    return [r for r in rows if r["AD_ACCOUNT_ID"] == account]


def test_given_report_scale_when_targeting_report_then_file_grows_and_truth_matches(fresh):
    sizes = {}
    for scale in (1, 4):
        emu, api = fresh(report_polls=0, report_scale=scale)
        account = emu.state.ds.accounts[0].id
        content = _file(api, account, BODY)
        sizes[scale] = len(content)
        rows = [r for rs in json.loads(content).values() for r in rs]
        assert rows == _truth(api, account, BODY)
        values = {(r["TARGETING_TYPE"], r["TARGETING_VALUE"]) for r in rows}
        assert len(values) == scale * 11  # APPTYPE 4, COUNTRY 4, GENDER 3 base values
        assert ("GENDER", "male_4" if scale == 4 else "male") in values
    assert 3.5 < sizes[4] / sizes[1] < 4.5


def test_given_report_scale_when_split_then_each_type_still_adds_up_to_the_entity(fresh):
    emu, api = fresh(report_polls=0, report_scale=5)
    account = emu.state.ds.accounts[0].id
    plain = json.loads(_file(api, account, {**BODY, "level": "AD_GROUP", "targeting_types": None}))
    split = json.loads(_file(api, account, BODY))
    for group_id, rows in plain.items():
        total = sum(r["IMPRESSION_1"] for r in rows)
        for ttype in TYPES:
            assert sum(r["IMPRESSION_1"] for r in split[group_id] if r["TARGETING_TYPE"] == ttype) == total


@pytest.mark.parametrize("fmt", [{"primary_sort": "BY_ID"}, {"primary_sort": "BY_DATE"}, {"report_format": "CSV"}])
def test_streamed_file_equals_the_whole_file_rendered_at_once(fresh, fmt):
    emu, api = fresh(report_polls=0, report_scale=2)
    account = emu.state.ds.accounts[0].id
    content = _file(api, account, {**BODY, **fmt})
    spec = validate(emu.state, {**BODY, **fmt})
    by_id = report_rows(emu.state, account, spec)
    rows = [r for rs in by_id.values() for r in rs]
    if fmt.get("report_format") == "CSV":
        parsed = list(csv.DictReader(io.StringIO(content.decode())))
        assert [{k: v for k, v in r.items() if k in row} for r, row in zip(parsed, rows, strict=True)] == [
            {k: str(v) for k, v in row.items()} for row in rows
        ]
    elif fmt["primary_sort"] == "BY_DATE":
        by_date: dict = {}
        for row in rows:
            by_date.setdefault(row["DATE"], []).append(row)
        assert content == json.dumps(by_date).encode()
    else:
        assert content == json.dumps(by_id).encode()


def test_report_files_live_on_disk_until_stop(fresh):
    emu, api = fresh(report_polls=0)
    _file(api, emu.state.ds.accounts[0].id, BODY)
    directory = emu.state.report_dir()
    assert len(os.listdir(directory)) == 1
    emu.stop()
    assert not os.path.exists(directory)


def test_report_scale_is_configurable_and_checked(fresh):
    emu, _ = fresh()
    assert emu.configure(report_scale=3)["report_scale"] == 3
    with pytest.raises(Exception, match="report_scale"):
        emu.configure(report_scale=0)


def test_given_disk_budget_exceeded_when_next_report_renders_then_oldest_file_is_evicted_and_rendered_again(fresh):
    emu, api = fresh(report_polls=0, report_disk_budget_mb=0)
    account = emu.state.ds.accounts[0].id
    path = f"/ad_accounts/{account}/reports"
    first = api.post(path, json=BODY).json()["token"]
    url = api.get(path, {"token": first}).json()["url"]
    original = requests.get(url).content
    _file(api, account, {**BODY, "start_date": "2025-05-02"})  # its render evicts the first file
    assert emu.stats()["report_files_evicted"] == 1
    assert requests.get(url).status_code == 403
    statuses = [api.get(path, {"token": first}).json() for _ in range(2)]
    assert [s["report_status"] for s in statuses] == ["IN_PROGRESS", "FINISHED"]
    assert requests.get(statuses[1]["url"]).content == original


def test_report_summary_counts_and_sums_what_the_truth_rows_hold(fresh):
    emu, _ = fresh(report_scale=3)
    query = {
        "level": BODY["level"],
        "start_date": BODY["start_date"],
        "end_date": BODY["end_date"],
        "columns": ",".join(BODY["columns"]),
        "targeting_types": ",".join(TYPES),
    }
    rows = emu.truth("report", **query)["rows"]
    summary = emu.truth("report_summary", **query)
    assert summary["row_count"] == len(rows) == sum(summary["row_count_by_account"].values())
    assert summary["sums"]["IMPRESSION_1"] == sum(r["IMPRESSION_1"] for r in rows)
    assert emu.truth("report_summary", **query, report_scale=1)["row_count"] < len(rows) / 2


def test_given_same_request_when_created_again_then_file_is_shared_until_data_changes(fresh):
    emu, api = fresh(report_polls=0)
    account = emu.state.ds.accounts[0].id
    first = _file(api, account, BODY)
    assert _file(api, account, BODY) == first
    assert emu.stats()["report_files_reused"] == 1 and len(os.listdir(emu.state.report_dir())) == 1
    emu.mutate(seed=1)
    _file(api, account, BODY)
    assert emu.stats()["report_files_reused"] == 1 and len(os.listdir(emu.state.report_dir())) == 2


def test_given_a_download_in_progress_when_its_file_is_evicted_then_it_still_completes(fresh):
    emu, api = fresh(report_polls=0)
    account = emu.state.ds.accounts[0].id
    path = f"/ad_accounts/{account}/reports"
    token = api.post(path, json=BODY).json()["token"]
    url = api.get(path, {"token": token}).json()["url"]
    whole = requests.get(url).content
    with requests.get(url, stream=True) as r:
        emu.configure(report_disk_budget_mb=0)
        _file(api, account, {**BODY, "start_date": "2025-05-02"})  # evicts the file being read
        assert not os.path.exists(emu.state.reports[token].file.path)
        assert r.raw.read() == whole
    assert requests.get(url).status_code == 403


def test_given_a_long_render_when_emulator_stops_then_it_stops_at_once_and_can_start_again(fresh):
    emu, api = fresh(report_polls=0, report_scale=40)
    account = emu.state.ds.accounts[0].id
    big = {**BODY, "start_date": "2024-11-28", "targeting_types": ["APPTYPE", "COUNTRY", "GENDER", "AGE_BUCKET"]}
    for start_date in ("2024-11-28", "2024-11-29", "2024-11-30"):  # one renders, two wait in the queue
        api.post(f"/ad_accounts/{account}/reports", json={**big, "start_date": start_date})
    time.sleep(0.3)  # the first render is under way
    directory = emu.state.report_dir()
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 3 and not os.path.exists(directory)
    time.sleep(0.3)
    assert emu.state._report_dir is None  # the queued renders were cancelled, not run into a new directory
    emu.configure(report_scale=1)
    emu.start()
    api = Api(emu.base_url)
    assert json.loads(_file(api, account, BODY))


def test_report_dirs_of_dead_processes_are_removed(fresh, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    child = subprocess.Popen(["true"])
    child.wait()  # its pid is free now
    orphan = tmp_path / f"pinterest-emulator-reports-{child.pid}-abc"
    orphan.mkdir()
    emu, _ = fresh()
    assert os.path.basename(emu.state.report_dir()).startswith(f"pinterest-emulator-reports-{os.getpid()}-")
    assert not orphan.exists()
