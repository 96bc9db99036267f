"""The storage host of report files: pre-signed URLs that expire, Range requests and download faults, like S3.

A FINISHED poll issues a fresh URL valid `download_ttl` seconds. A GET needs no auth; it answers 200 with the
whole file (`Accept-Ranges: bytes`), or 206 for `Range: bytes=N-`, `bytes=N-M` or `bytes=-N`, or 416 when the range
starts past the end. The server writes the body in chunks and resets a connection whose reader stalls.

Faults: `download_expire` (decided when the URL is issued) answers 403 on every fetch of that URL.
`download_cut` and `download_expire_mid` are decided on each fetch of the job's file. Both are keyed on the
report request (account and body), not the random job token, so they repeat run after run, and the cap counts
consecutive fetches whatever URL or range they use: the client always gets the file within K+1 fetches.
"""

import re
import secrets
import time
from dataclasses import dataclass

from .faults import DOWNLOAD_BODY_KINDS, DOWNLOAD_URL_KINDS
from .request import FileBody, Response

PREFIX = "/_emulator/downloads/"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _xml(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()


EXPIRED_XML = _xml("AccessDenied", "Request has expired")
DENIED_XML = _xml("AccessDenied", "Access Denied")
INVALID_RANGE_XML = _xml("InvalidRange", "The requested range is not satisfiable")


@dataclass
class DownloadUrl:
    report_token: str
    expires_at: float
    fated: bool  # download_expire: the URL is expired from the start
    expired_mid: bool = False  # download_expire_mid cut a body of this URL: it is expired from then on


def issue(state, job) -> str:
    """A fresh URL per FINISHED poll, valid download_ttl seconds (Pinterest: 5 minutes)."""
    job.downloads_issued += 1
    fated = state.faults.choose("download:" + job.signature, DOWNLOAD_URL_KINDS) is not None
    dl_token = secrets.token_hex(16)
    ttl = state.settings.download_ttl
    state.downloads[dl_token] = DownloadUrl(job.token, time.time() + ttl, fated)
    ext = "csv" if job.body.get("report_format") == "CSV" else "json"
    return f"{state.root_url}{PREFIX}{dl_token}.{ext}?X-Amz-Expires={ttl}"


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(start, stop) for one satisfiable byte range; None to ignore the header (bad syntax, several ranges,
    as S3 does); False when it cannot be satisfied (416)."""
    m = _RANGE.match(header.strip().replace(" ", ""))
    if not m or not (m[1] or m[2]):
        return None
    if not m[1]:  # bytes=-N: the last N bytes
        suffix = int(m[2])
        return (max(size - suffix, 0), size) if suffix and size else False
    start = int(m[1])
    stop = min(int(m[2]) + 1, size) if m[2] else size
    if m[2] and int(m[2]) < start:
        return None
    return (start, stop) if start < size else False


def download(state, dl_token: str, headers: dict, head: bool = False) -> Response:
    """Answer a GET (or HEAD, which no fault touches) of a pre-signed URL; `headers` have lower-case names."""
    stats = state.stats
    stats.bump("downloads")
    if "authorization" in headers:
        stats.bump("downloads_with_authorization_header")
    url = state.downloads.get(dl_token)
    if url is None:
        return Response(403, DENIED_XML, content_type="application/xml")
    job = state.reports.get(url.report_token)
    if url.fated:
        stats.fault("download_expire")
    file = job.file if job is not None else None
    handle = None
    if not (url.fated or url.expired_mid or time.time() > url.expires_at or file is None):
        handle = file.open()  # None once evicted
    if handle is None:
        stats.bump("downloads_expired")
        return Response(403, EXPIRED_XML, content_type="application/xml")
    size = file.size
    start, stop, status, out = 0, size, 200, {}
    if state.settings.download_ranges:
        out["Accept-Ranges"] = "bytes"
        wanted = parse_range(headers["range"], size) if "range" in headers else None
        if wanted is False:
            handle.close()
            stats.bump("downloads_range_unsatisfiable")
            out["Content-Range"] = f"bytes */{size}"
            return Response(416, INVALID_RANGE_XML, out, "application/xml")
        if wanted:
            (start, stop), status = wanted, 206
            out["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
            stats.bump("downloads_ranged")
    elif "range" in headers:
        stats.bump("downloads_range_ignored")
    body = FileBody(handle, start, stop, level=str(job.body.get("level", "")))
    fault = None if head else state.faults.choose("download_body:" + job.signature, DOWNLOAD_BODY_KINDS)
    if fault:
        stats.fault(fault)
        body.cut_at = body.length // 2
        # The URL expires while its body is on the wire: a resume on it gets 403 and the client must poll again.
        url.expired_mid = fault == "download_expire_mid"
    ctype = "text/csv" if job.body.get("report_format") == "CSV" else "application/json"
    return Response(status, body, out, ctype)
