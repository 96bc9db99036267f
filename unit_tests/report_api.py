"""A scripted async-report API over requests-mock, and a job runner on a fake clock (no real sleeping)."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from source_pinterest.metrics.jobs import PollPolicy, ReportJobRunner
from source_pinterest.streams import reports
from unit_tests.conftest import API

# The report tests' "today" (limits.today is frozen to it) and a day counted back from it.
TODAY = dt.date(2024, 6, 30)


def day(offset: int) -> str:
    return (TODAY - dt.timedelta(days=offset)).isoformat()


STORAGE = "https://pinterest-reports.s3.amazonaws.com/"
EXPIRED_XML = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def install_fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Report jobs wait on this clock: polling sleeps are recorded, never slept."""
    clock = FakeClock()
    policy = PollPolicy(first_wait=5, max_wait=60, job_deadline=600, total_deadline=3600, max_attempts=3)
    monkeypatch.setattr(
        reports, "job_runner_factory", lambda: ReportJobRunner(policy, clock=clock.clock, sleep=clock.sleep)
    )
    return clock


def default_rows(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One row per entity for the report's first day; numeric ids, as a JSON file may hold them."""
    return {"111": [{"DATE": body["start_date"], "SPEND_IN_DOLLAR": 1.5, "TOTAL_IMPRESSION": 7, "CAMPAIGN_ID": 111}]}


class CutBody(io.RawIOBase):
    """A response body that breaks off after `at` bytes with a connection reset, as a dropped socket does."""

    def __init__(self, data: bytes, at: int) -> None:
        self.data, self.at, self.position = data, at, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.position >= self.at:
            raise ConnectionResetError(104, "Connection reset by peer")
        count = min(len(buffer), self.at - self.position)
        buffer[:count] = self.data[self.position : self.position + count]
        self.position += count
        return count


class ReportApi:
    """POST .../reports answers a token; GET ...?token= answers `statuses` in turn (the last one repeats), FINISHED
    with a fresh storage URL each time; the URL serves `rows(body)` unless listed in `expired_downloads`.

    Storage like S3: Content-Length always; `Range: bytes=N-` answered 206 with Content-Range if `ranges`, else the
    whole file (200); Range offsets count the stored bytes, gzipped ones too. The first `cut_downloads` answers break off halfway; the first `expire_mid` ones too, after
    which that URL answers 403 (expired)."""

    def __init__(
        self,
        api,
        account_id: str,
        statuses: tuple[str, ...] = ("FINISHED",),
        rows: Callable[[dict], dict] = default_rows,
        expired_downloads: int = 0,
        statuses_by_level: dict[str, tuple[str, ...]] | None = None,
        cut_downloads: int = 0,
        ranges: bool = True,
        expire_mid: int = 0,
        statuses_of: Callable[[dict], tuple[str, ...]] | None = None,
        gzipped: bool = False,
        sized: bool = True,
    ) -> None:
        self.api = api
        self.bodies: list[dict[str, Any]] = []
        self.statuses = statuses
        self.rows = rows
        self.expired_downloads = expired_downloads
        self.statuses_by_level = statuses_by_level or {}
        self.statuses_of = statuses_of
        self.cut_downloads, self.ranges, self.expire_mid = cut_downloads, ranges, expire_mid
        self.expired_urls: set[str] = set()
        self.gzipped = gzipped  # stored with Content-Encoding: gzip, as an S3 object may be
        self.sized = sized  # False: no Content-Length (a proxy re-chunking the body), so the size is unknown
        self.polls: dict[str, int] = {}
        self.urls_issued = 0
        path = API + f"ad_accounts/{account_id}/reports"
        api.mocker.post(path, json=self._create)
        api.mocker.get(path, json=self._poll)
        api.mocker.get(re.compile(re.escape(STORAGE + f"{account_id}/")), body=self._download)

    def _create(self, request, context):
        self.bodies.append(request.json())
        token = str(len(self.bodies))
        self.polls[token] = 0
        return {"token": token, "report_status": "IN_PROGRESS", "message": None}

    def _poll(self, request, context):
        token = parse_qs(urlsplit(request.url).query)["token"][0]
        self.polls[token] += 1
        body = self.bodies[int(token) - 1]
        statuses = self.statuses_of(body) if self.statuses_of else None
        statuses = statuses or self.statuses_by_level.get(body["level"], self.statuses)
        status = statuses[min(self.polls[token], len(statuses)) - 1]
        if status != "FINISHED":
            return {"report_status": status, "url": None, "size": None}
        self.urls_issued += 1
        account = urlsplit(request.url).path.split("/")[3]
        return {
            "report_status": "FINISHED",
            "url": f"{STORAGE}{account}/{token}-{self.urls_issued}.json?X-Amz-Expires=300",
            "size": 1,
        }

    def _download(self, request, context):
        if self.expired_downloads or request.url in self.expired_urls:
            self.expired_downloads = max(0, self.expired_downloads - 1)
            context.status_code = 403
            return io.BytesIO(EXPIRED_XML.encode())
        token = urlsplit(request.url).path.rsplit("/", 1)[1].split("-")[0]
        data = self.file(token)
        if self.gzipped:
            data = gzip.compress(data, mtime=0)
            context.headers["Content-Encoding"] = "gzip"
        start = 0
        asked = re.fullmatch(r"bytes=(\d+)-", request.headers.get("Range", ""))
        if asked and self.ranges:
            start = int(asked.group(1))
            context.status_code = 206
            context.headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        if self.sized:
            context.headers["Content-Length"] = str(len(data) - start)
        context.headers["ETag"] = f'"{token}"'
        if self.cut_downloads or self.expire_mid:
            if self.expire_mid:
                self.expire_mid -= 1
                self.expired_urls.add(request.url)
            else:
                self.cut_downloads -= 1
            return CutBody(data[start:], (len(data) - start) // 2)
        return io.BytesIO(data[start:])

    def file(self, token: str) -> bytes:
        """The report file of job `token`, as storage serves it."""
        return json.dumps(self.rows(self.bodies[int(token) - 1])).encode()

    def downloads(self) -> list:
        return [r for r in self.api.mocker.request_history if r.url.startswith(STORAGE)]
