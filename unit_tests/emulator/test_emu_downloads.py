"""The report storage host: Range requests, stalled readers, and the download_cut / download_expire_mid faults."""

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

BODY = {
    "start_date": "2024-11-28",
    "end_date": "2025-05-31",
    "granularity": "DAY",
    "level": "CAMPAIGN_TARGETING",
    "targeting_types": ["APPTYPE", "COUNTRY", "GENDER", "AGE_BUCKET", "PLACEMENT"],
    "columns": ["SPEND_IN_MICRO_DOLLAR", "IMPRESSION_1", "CLICKTHROUGH_1", "CTR", "TOTAL_CONVERSIONS"],
}


def _finished(api, account, body=BODY):
    token = api.post(f"/ad_accounts/{account}/reports", json=body).json()["token"]
    for _ in range(10):
        status = api.get(f"/ad_accounts/{account}/reports", {"token": token}).json()
        if status["report_status"] == "FINISHED":
            return token, status
    raise AssertionError(status)


def _poll(api, account, token):
    return api.get(f"/ad_accounts/{account}/reports", {"token": token}).json()


def raw_get(url: str, headers: dict | None = None, rcvbuf: int | None = None):
    """GET over a bare socket; returns (status, headers, body, whether the server reset or closed early)."""
    parts = urlsplit(url)
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect((parts.hostname, parts.port))
    lines = [f"GET {parts.path}?{parts.query} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    data, reset = b"", False
    try:
        while chunk := sock.recv(1 << 16):
            data += chunk
    except ConnectionResetError:
        reset = True
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    got = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), got, body, reset or len(body) < int(got.get("content-length", 0))


@pytest.fixture()
def report(fresh):
    """A private emulator, its client, an account, a finished report's token and status, and the whole file."""

    def make(faults="", **kw):
        emu, api = fresh(report_polls=0, **kw)
        account = emu.state.ds.accounts[0].id
        token, status = _finished(api, account)
        whole = requests.get(status["url"]).content
        emu.configure(faults=faults)
        emu.reset_stats()
        return emu, api, account, token, status, whole

    return make


def test_full_download_announces_ranges(report):
    emu, _, _, _, status, whole = report()
    r = requests.get(status["url"])
    assert r.status_code == 200 and r.headers["Accept-Ranges"] == "bytes"
    assert int(r.headers["Content-Length"]) == len(whole) == status["size"] > 100_000
    stats = emu.stats()
    assert stats["downloads_completed"] == 1 and stats["download_bytes_sent"] == len(whole)
    assert stats["download_bytes_by_level"] == {BODY["level"]: len(whole)}


@pytest.mark.parametrize(
    "header, start, stop",
    [("bytes=1000-", 1000, None), ("bytes=10-19", 10, 20), ("bytes=-100", -100, None), ("bytes=5-999999999", 5, None)],
)
def test_range_answers_206_with_that_part(report, header, start, stop):
    emu, _, _, _, status, whole = report()
    r = requests.get(status["url"], headers={"Range": header})
    part = whole[start:stop]
    assert r.status_code == 206 and r.content == part
    assert int(r.headers["Content-Length"]) == len(part)
    first = start % len(whole)
    assert r.headers["Content-Range"] == f"bytes {first}-{first + len(part) - 1}/{len(whole)}"
    assert emu.stats()["downloads_ranged"] == 1


def test_range_past_the_end_answers_416(report):
    emu, _, _, _, status, whole = report()
    r = requests.get(status["url"], headers={"Range": f"bytes={len(whole)}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(whole)}"
    assert b"InvalidRange" in r.content
    assert emu.stats()["downloads_range_unsatisfiable"] == 1


def test_given_ranges_off_when_range_requested_then_whole_file_with_200(report):
    emu, _, _, _, status, whole = report(download_ranges=False)
    r = requests.get(status["url"], headers={"Range": "bytes=1000-"})
    assert r.status_code == 200 and r.content == whole and "Accept-Ranges" not in r.headers
    assert emu.stats()["downloads_range_ignored"] == 1 and emu.stats()["downloads_ranged"] == 0


def test_head_gives_the_size_without_a_body(report):
    _, _, _, _, status, whole = report()
    r = requests.head(status["url"])
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(whole) and r.content == b""


def test_stalled_reader_is_reset_after_download_stall_seconds(report):
    emu, _, _, _, status, whole = report(download_stall_seconds=0.5)
    assert len(whole) > 6_000_000, "the file must outgrow the socket buffers"
    parts = urlsplit(status["url"])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    sock.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
    started = time.monotonic()
    while emu.stats()["downloads_dropped_slow"] == 0 and time.monotonic() - started < 10:
        time.sleep(0.05)  # read nothing
    waited = time.monotonic() - started
    assert emu.stats()["downloads_dropped_slow"] == 1 and 0.5 <= waited < 5
    sock.settimeout(5)
    with pytest.raises(ConnectionResetError):
        while sock.recv(1 << 20):
            pass
    sock.close()
    assert emu.stats()["downloads_completed"] == 0


def test_download_cut_sends_half_then_resets_and_recovers(report):
    emu, _, _, _, status, whole = report(faults="download_cut:1x1")
    code, headers, body, cut = raw_get(status["url"])
    assert code == 200 and int(headers["content-length"]) == len(whole)
    assert cut and body == whole[: len(whole) // 2]
    # A resume from where it stopped is the next fetch: clean (the cap is 1).
    r = requests.get(status["url"], headers={"Range": f"bytes={len(body)}-"})
    assert r.status_code == 206 and body + r.content == whole
    assert emu.stats()["faults_injected"] == {"download_cut": 1}


def test_download_cut_of_a_range_sends_half_of_that_range(report):
    _, _, _, _, status, whole = report(faults="download_cut:1x1")
    code, headers, body, cut = raw_get(status["url"], {"Range": "bytes=1000-"})
    assert code == 206 and int(headers["content-length"]) == len(whole) - 1000
    assert cut and body == whole[1000 : 1000 + (len(whole) - 1000) // 2]


def test_download_cut_is_capped_by_max_consecutive(report):
    _, _, _, _, status, whole = report(faults="download_cut")  # cap 2 by default
    results = [raw_get(status["url"]) for _ in range(3)]
    assert [r[3] for r in results] == [True, True, False] and results[2][2] == whole


def test_download_expire_mid_cuts_and_expires_the_url(report):
    emu, api, account, token, status, whole = report(faults="download_expire_mid:1x1")
    code, _, body, cut = raw_get(status["url"])
    assert code == 200 and cut and body == whole[: len(whole) // 2]
    for headers in ({"Range": f"bytes={len(body)}-"}, {}):
        r = requests.get(status["url"], headers=headers)
        assert r.status_code == 403 and b"Request has expired" in r.content
    fresh_url = _poll(api, account, token)["url"]
    r = requests.get(fresh_url, headers={"Range": f"bytes={len(body)}-"})
    assert r.status_code == 206 and body + r.content == whole
    stats = emu.stats()
    assert stats["faults_injected"] == {"download_expire_mid": 1} and stats["downloads_expired"] == 2


def test_download_faults_parse():
    from pinterest_emulator.faults import parse

    kinds = [r.kind for r in parse("download_cut:0.5,download_expire_mid:0.1x3,download_expire").rules]
    assert kinds == ["download_cut", "download_expire_mid", "download_expire"]


def test_given_every_download_fault_when_client_resumes_with_ranges_then_it_gets_the_whole_file(report):
    emu, api, account, token, _, whole = report(faults="download_expire,download_cut:1x1,download_expire_mid")
    got, url, fetches = b"", _poll(api, account, token)["url"], 0
    while len(got) < len(whole):
        fetches += 1
        assert fetches <= 12, "the faults must give up within their caps"
        try:
            r = requests.get(url, headers={"Range": f"bytes={len(got)}-"} if got else {}, stream=True)
            if r.status_code == 403:
                url = _poll(api, account, token)["url"]
                continue
            assert r.status_code == (206 if got else 200)
            for chunk in r.iter_content(1 << 16):
                got += chunk
        except requests.exceptions.ChunkedEncodingError:
            continue
    assert got == whole
    faults = emu.stats()["faults_injected"]
    # A cut, then (cut capped at 1) a cut that expires the URL, then clean; each expired URL costs a poll, and the
    # URL fault also stops after 2 in a row.
    assert faults["download_cut"] == 1 and faults["download_expire_mid"] == 1 and faults["download_expire"] >= 2


def test_cli_flags_reach_the_settings():
    from pinterest_emulator.__main__ import parse_args

    flags = "--download-stall-seconds 0.5 --no-download-ranges --report-scale 7 --report-disk-budget-mb 9"
    args = parse_args(flags.split())
    assert (args.download_stall_seconds, args.no_download_ranges) == (0.5, True)
    assert (args.report_scale, args.report_disk_budget_mb) == (7, 9)
    default = parse_args([])
    assert (default.download_stall_seconds, default.no_download_ranges, default.report_scale) == (30.0, False, 1)


def test_bad_stall_seconds_are_refused(fresh):
    emu, _ = fresh()
    with pytest.raises(Exception, match="download_stall_seconds"):
        emu.configure(download_stall_seconds=0)
