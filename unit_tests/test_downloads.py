"""Report files and large analytics answers are fetched whole into temp files before any row is emitted: cut
downloads resume (Range) or start over, expired URLs are polled again, every row comes exactly once, the files are
deleted whatever happens, a full disk and exhausted tries fail clearly."""

from __future__ import annotations

import errno
import gzip
import json
import os
import tempfile
from collections import Counter
from io import BytesIO

import pytest
from airbyte_cdk.models import FailureType, SyncMode

from source_pinterest import SourcePinterest, limits
from source_pinterest.http import downloads
from source_pinterest.metrics.schema import string_fields, typed
from unit_tests.conftest import API, make_config, read_streams, records_of
from unit_tests.report_api import STORAGE, TODAY, CutBody, ReportApi, day, install_fake_clock

STREAM = "keyword_report"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(limits, "today", lambda: TODAY)


@pytest.fixture(autouse=True)
def temp_dir(tmp_path, monkeypatch):
    """Every temp file of the test lands here (what TMPDIR does for the CLI), so leftovers show."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setattr(downloads, "BACKOFF_BASE_SECONDS", 0.0)  # no real waits between download tries
    return folder


@pytest.fixture
def fake_clock(monkeypatch):
    return install_fake_clock(monkeypatch)


def many_rows(body):
    """200 keywords with two days each: a file of a few tens of kB, so a cut at half falls inside the rows."""
    return {
        str(9000 + k): [
            {"DATE": body["start_date"], "KEYWORD_ID": 9000 + k, "SPEND_IN_DOLLAR": k / 4, "TOTAL_IMPRESSION": k},
            {"DATE": body["end_date"], "KEYWORD_ID": 9000 + k, "SPEND_IN_DOLLAR": 1.0, "TOTAL_IMPRESSION": 1},
        ]
        for k in range(200)
    }


def expected_keys(reports: ReportApi) -> Counter:
    want = Counter()
    for body in reports.bodies:
        for rows in many_rows(body).values():
            want.update((row["DATE"], str(row["KEYWORD_ID"])) for row in rows)
    return want


def got_keys(output) -> Counter:
    return Counter((r["DATE"], r["KEYWORD_ID"]) for r in records_of(output, STREAM))


def one_window(api, **report_options) -> ReportApi:
    api.pages("ad_accounts", [[{"id": "1", "name": "1", "updated_time": 1}]])
    return ReportApi(api, "1", rows=many_rows, **report_options)


def log_lines(output) -> list[str]:
    return [m.log.message for m in output.logs]


def test_given_download_cut_at_half_when_read_then_resumed_with_range_and_every_row_once(api, fake_clock, temp_dir):
    reports = one_window(api, cut_downloads=1)

    output = read_streams(make_config(start_date=day(5)), [STREAM])

    first, second = reports.downloads()
    size = len(reports.file("1"))
    assert "Range" not in first.headers
    assert second.headers["Range"] == f"bytes={size // 2}-"
    assert second.headers["If-Range"] == '"1"'
    assert got_keys(output) == expected_keys(reports)
    assert max(got_keys(output).values()) == 1
    assert any(
        f"ad account 1, {day(5)}..{day(0)}: download cut after {size // 2} of {size} bytes" in line
        and f"resuming at byte {size // 2}" in line
        for line in log_lines(output)
    )
    assert all("Authorization" not in d.headers for d in reports.downloads())
    assert list(temp_dir.iterdir()) == []


def test_given_storage_ignores_range_when_resuming_then_the_file_starts_over_and_rows_come_once(api, fake_clock):
    reports = one_window(api, cut_downloads=2, ranges=False)

    output = read_streams(make_config(start_date=day(5)), [STREAM])

    assert len(reports.downloads()) == 3
    assert [bool(d.headers.get("Range")) for d in reports.downloads()] == [False, True, True]
    assert got_keys(output) == expected_keys(reports)
    assert any("storage ignored the Range request (HTTP 200); starting over" in line for line in log_lines(output))


def test_given_url_expires_mid_download_then_a_fresh_url_is_polled_and_the_same_file_resumed(api, fake_clock, temp_dir):
    reports = one_window(api, expire_mid=1)

    output = read_streams(make_config(start_date=day(5)), [STREAM])

    cut, expired, resumed = reports.downloads()
    assert cut.url == expired.url and resumed.url != cut.url  # the fresh URL came from another poll
    assert len(reports.bodies) == 1  # the same job
    size = len(reports.file("1"))
    assert expired.headers["Range"] == resumed.headers["Range"] == f"bytes={size // 2}-"
    assert got_keys(output) == expected_keys(reports)
    assert any("the download URL expired (HTTP 403)" in line for line in log_lines(output))
    assert list(temp_dir.iterdir()) == []


def test_given_downloads_always_cut_then_bounded_tries_and_a_transient_error_naming_the_window(
    api, fake_clock, temp_dir
):
    reports = one_window(api, cut_downloads=100)

    output = read_streams(make_config(start_date=day(5)), [STREAM], expect_failure=True)

    assert len(reports.downloads()) == downloads.MAX_CUTS + 1
    assert records_of(output, STREAM) == []
    error = output.errors[0].trace.error  # the stream's own; the sync's summary error follows
    assert error.failure_type == FailureType.transient_error
    assert f"Stream {STREAM}, KEYWORD report (POST /v5/ad_accounts/1/reports), ad account 1, {day(5)}..{day(0)}" in (
        error.message
    )
    assert f"could not be downloaded, cut {downloads.MAX_CUTS + 1} times" in error.message
    assert "Connection reset by peer" in error.message
    tries = [line for line in log_lines(output) if "download cut after" in line]
    assert len(tries) == downloads.MAX_CUTS  # each retry logged once, with its reason
    assert list(temp_dir.iterdir()) == []


def test_given_a_complete_download_that_is_truncated_json_then_a_clear_error(api, fake_clock, temp_dir):
    api.pages("ad_accounts", [[{"id": "1", "name": "1", "updated_time": 1}]])
    reports = ReportApi(api, "1")
    cut_json = b'{"111": [{"DATE": "2024-06-25", "KEYWORD_ID": 111}, {"DATE": '
    reports.file = lambda token: cut_json

    output = read_streams(make_config(start_date=day(5)), [STREAM], expect_failure=True)

    error = output.errors[0].trace.error  # the stream's own; the sync's summary error follows
    assert f"the downloaded report file ({len(cut_json)} bytes, all that storage announced) is not complete JSON" in (
        error.message
    )
    assert list(temp_dir.iterdir()) == []


def test_given_disk_full_while_writing_then_a_config_error_naming_the_temp_file_and_tmpdir(
    api, fake_clock, temp_dir, monkeypatch
):
    one_window(api)

    class FullDisk:
        def __init__(self, path, mode):
            self.path = path

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def seek(self, offset):
            pass

        def truncate(self):
            pass

        def write(self, chunk):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(downloads, "open", FullDisk, raising=False)

    output = read_streams(make_config(start_date=day(5)), [STREAM], expect_failure=True)

    error = output.errors[0].trace.error  # the stream's own; the sync's summary error follows
    assert error.failure_type == FailureType.config_error
    assert f"temporary file {temp_dir}{os.sep}pinterest-report-" in error.message
    assert "free disk space there or set TMPDIR" in error.message
    assert list(temp_dir.iterdir()) == []


def test_temp_files_are_deleted_after_success_and_when_the_reader_stops_early(api, fake_clock, temp_dir):
    one_window(api)
    stream = {s.name: s for s in SourcePinterest().streams(make_config(start_date=day(5)))}[STREAM]
    (window,) = list(stream.stream_slices(sync_mode=SyncMode.full_refresh))

    records = iter(stream.read_records(SyncMode.full_refresh, stream_slice=window))
    next(records)
    assert len(list(temp_dir.iterdir())) == 1  # the file on disk while its rows are read
    records.close()

    assert list(temp_dir.iterdir()) == []


def test_given_window_files_read_ahead_when_a_window_fails_then_their_files_are_deleted(api, fake_clock, temp_dir):
    api.pages("ad_accounts", [[{"id": "1", "name": "1", "updated_time": 1}]])
    oldest = day(913)
    ReportApi(api, "1", statuses_of=lambda body: ("FAILED",) if body["start_date"] == oldest else None)

    read_streams(make_config(), [STREAM], expect_failure=True)

    # The next two windows finished and downloaded while the first failed: nobody reads them, nothing stays.
    assert list(temp_dir.iterdir()) == []


# -- live analytics answers ----------------------------------------------------------------------------------------


def analytics_setup(api, answer) -> None:
    api.pages("ad_accounts", [[{"id": "1", "name": "1", "updated_time": 1, "created_time": 1}]])
    api.mocker.get(API + "ad_accounts/1/analytics", body=answer)


def big_answer() -> bytes:
    """More than IN_MEMORY_BYTES, so the answer goes to disk: every row a day with a few hundred columns."""
    rows = [
        {"AD_ACCOUNT_ID": 1, "DATE": day(d), **{f"TOTAL_CLICK_{c}": c * 1.5 + d for c in range(700)}, "CTR": d}
        for d in range(90)
    ]
    return json.dumps(rows).encode()


def test_large_analytics_answer_read_from_disk_gives_the_records_of_a_whole_parse_with_one_request(api, temp_dir):
    data = big_answer()
    assert len(data) > downloads.IN_MEMORY_BYTES
    analytics_setup(api, lambda request, context: BytesIO(data))

    output = read_streams(make_config(start_date=day(89)), ["ad_account_analytics"])

    stream = {s.name: s for s in SourcePinterest().streams(make_config())}["ad_account_analytics"]
    schema = stream.get_json_schema()
    assert records_of(output, "ad_account_analytics") == [typed(row, string_fields(schema)) for row in json.loads(data)]
    assert len(api.requests_to("ad_accounts/1/analytics")) == 1
    assert list(temp_dir.iterdir()) == []


@pytest.mark.parametrize(
    "broken,reason",
    [  # (the body, its Content-Length) from the whole answer
        (lambda data: (CutBody(data, len(data) // 2), len(data)), "cut after"),
        (lambda data: (BytesIO(b"<html>upstream error</html>"), 27), "not a JSON array"),
        (lambda data: (BytesIO(data[: len(data) // 2]), len(data)), "the body ended after"),
    ],
    ids=["connection-reset", "html", "short-of-content-length"],
)
def test_given_analytics_body_cut_or_not_json_then_asked_again_and_rows_come_once(api, no_sleep, broken, reason):
    data = json.dumps([{"AD_ACCOUNT_ID": 1, "DATE": day(d), "SPEND_IN_DOLLAR": d} for d in range(90)]).encode()
    answers = [broken(data), (BytesIO(data), len(data))]

    def answer(request, context):
        body, length = answers.pop(0)
        context.headers["Content-Length"] = str(length)
        return body

    analytics_setup(api, answer)

    output = read_streams(make_config(start_date=day(89)), ["ad_account_analytics"])

    assert len(api.requests_to("ad_accounts/1/analytics")) == 2
    assert sorted(r["DATE"] for r in records_of(output, "ad_account_analytics")) == sorted(day(d) for d in range(90))
    assert any(
        "GET /v5/ad_accounts/1/analytics answered HTTP 200 with a body that is not complete JSON" in line
        and reason in line
        for line in log_lines(output)
    )
    assert len(no_sleep) == 1  # one backoff wait


def test_given_analytics_body_always_cut_then_bounded_retries_and_a_transient_error(api, monkeypatch):
    from source_pinterest.http import client

    monkeypatch.setattr(client, "MAX_RETRIES", 2)
    analytics_setup(api, lambda request, context: CutBody(b"[" + b'{"DATE": "2024-06-01"},' * 100 + b"]", 50))

    output = read_streams(make_config(start_date=day(89)), ["ad_account_analytics"], expect_failure=True)

    assert len(api.requests_to("ad_accounts/1/analytics")) == 3
    error = output.errors[0].trace.error  # the stream's own; the sync's summary error follows
    assert error.failure_type == FailureType.transient_error
    said = "Stream ad_account_analytics: GET /v5/ad_accounts/1/analytics answered HTTP 200 with a body that is not "
    assert said in error.message
    assert "3 times" in error.message


def test_storage_url_never_gets_the_bearer_token(api, fake_clock):
    reports = one_window(api, cut_downloads=1)

    read_streams(make_config(start_date=day(5)), [STREAM])

    assert reports.downloads() and all(d.url.startswith(STORAGE) for d in reports.downloads())
    assert all("Authorization" not in d.headers for d in reports.downloads())


# -- JsonRows: one row at a time -----------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 2, 7, 1 << 20])
@pytest.mark.parametrize("indent", [None, 2])
def test_json_rows_equal_a_whole_parse_whatever_the_chunks(chunk, indent):
    report = {
        "111": [{"DATE": "2024-06-01", "NAME": 'caf\u00e9 \u2603 "q" ,]}', "N": 123456789012345678901}],
        "222": [],
        "333": None,
        "444": [{"A": [1, {"b": None}], "C": -0.0, "D": 1e5, "E": True}, {"F": 7}],
    }
    text = json.dumps(report, indent=indent, ensure_ascii=False).encode()

    rows = list(downloads.JsonRows(BytesIO(text), chunk=chunk).of_object_of_arrays())
    array = list(downloads.JsonRows(BytesIO(json.dumps(report["444"]).encode()), chunk=chunk).of_array())

    assert rows == [(key, row) for key, value in json.loads(text).items() for row in value or ()]
    assert array == report["444"]
    assert list(downloads.JsonRows(BytesIO(b" {} ")).of_object_of_arrays()) == []
    assert list(downloads.JsonRows(BytesIO(b"[]")).of_array()) == []


@pytest.mark.parametrize("chunk", [5, 300, 1 << 20])
def test_json_rows_parsed_many_at_once_equal_a_whole_parse_around_braces_in_strings_and_huge_integers(chunk):
    # Plain rows go through the one-call parse; each kind of text it must not take whole sits among them.
    tricky = [
        {"NAME": "ends like a row }]", "N": 1},
        {"NAME": "like two rows }, {", "N": 2},
        {"NAME": "}", "IMPRESSIONS": 98765432109876543210, "N": 3},  # beyond 64 bits: exact, not a float
        {"NESTED": {"A": [{"B": None}]}, "N": 4},
        {"N": -0.0, "F": 1.5e-7, "T": True, "NULL": None, "U": "caf\u00e9 \u2603"},
    ]
    plain = [{"DATE": f"2024-06-{day:02d}", "CAMPAIGN_ID": "549755813888", "SPEND": day * 1.25} for day in range(1, 29)]
    report = {"1": plain + tricky + plain, "2": tricky[::-1], "3": plain}
    text = json.dumps(report, ensure_ascii=False).encode()

    rows = list(downloads.JsonRows(BytesIO(text), chunk=chunk).of_object_of_arrays())

    assert rows == [(key, row) for key, value in report.items() for row in value]
    huge = [row for _, row in rows if "IMPRESSIONS" in row]
    assert [type(row["IMPRESSIONS"]) for row in huge] == [int, int]


@pytest.mark.parametrize(
    "text",
    [b'{"1": [{"a": 1}, {"a": ', b'{"1": [{"a": 1}]', b'{"1": [{"a": 1}] "2"', b"[1, 2", b"<html>", b"", b"[1] x"],
)
def test_json_rows_of_a_truncated_or_malformed_file_raise_value_error(text):
    reader = downloads.JsonRows(BytesIO(text), chunk=3)
    with pytest.raises(ValueError):
        list(reader.of_array() if text.startswith(b"[") or not text.startswith(b"{") else reader.of_object_of_arrays())


def test_given_a_gzipped_file_cut_at_half_then_resumed_at_the_stored_bytes_and_decoded_once_complete(api, fake_clock):
    reports = one_window(api, cut_downloads=1, gzipped=True)

    output = read_streams(make_config(start_date=day(5)), [STREAM])

    stored = len(gzip.compress(reports.file("1"), mtime=0))
    assert reports.downloads()[1].headers["Range"] == f"bytes={stored // 2}-"
    assert got_keys(output) == expected_keys(reports)


def test_given_a_file_of_unknown_size_cut_then_it_is_downloaded_again_whole_not_resumed(api, fake_clock):
    reports = one_window(api, cut_downloads=1, sized=False)

    output = read_streams(make_config(start_date=day(5)), [STREAM])

    assert [d.headers.get("Range") for d in reports.downloads()] == [None, None]
    assert got_keys(output) == expected_keys(reports)
    assert any("of an unknown number of bytes" in line and "starting over" in line for line in log_lines(output))


def test_a_large_json_array_answer_is_never_held_whole_in_memory(temp_dir):
    import tracemalloc

    import requests
    import requests_mock

    row = {"AD_ID": "123456789", "DATE": "2024-06-01", **{f"COLUMN_{c}": c * 1.5 for c in range(170)}}
    data = json.dumps([row] * 2500).encode()  # 8 MB: parsed whole it would be tens of MB of dicts
    with requests_mock.Mocker() as mocker:
        mocker.get("https://api.pinterest.com/v5/big", body=BytesIO(data), headers={"Content-Length": str(len(data))})
        response = requests.get("https://api.pinterest.com/v5/big", stream=True)
        tracemalloc.start()
        body = downloads.JsonArrayBody(response, "Stream x: GET /v5/big answered HTTP 200")
        assert body.problem() is None
        count = sum(1 for _ in body.items())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    assert count == 2500
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MB for a {len(data) / 2**20:.1f} MB answer"
