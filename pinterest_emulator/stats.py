"""Request counters exposed by GET /_emulator/stats."""

import threading
from collections import Counter


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests_total = 0
        self.by_endpoint: Counter = Counter()
        self.by_category: Counter = Counter()
        self.by_status: Counter = Counter()
        self.rate_limited = 0
        self.faults_injected: Counter = Counter()
        self.downloads_with_authorization_header = 0
        self.downloads = 0
        self.reports_created = 0
        self.token_refreshes = 0
        self.max_page_size_seen = 0

    def record(self, endpoint: str, category: str, status: int) -> None:
        with self._lock:
            self.requests_total += 1
            self.by_endpoint[endpoint] += 1
            self.by_category[category] += 1
            self.by_status[str(status)] += 1
            if status == 429:
                self.rate_limited += 1

    def bump(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults_injected[kind] += 1

    def page_size(self, size: int) -> None:
        with self._lock:
            self.max_page_size_seen = max(self.max_page_size_seen, size)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests_total": self.requests_total,
                "by_endpoint": dict(self.by_endpoint),
                "by_category": dict(self.by_category),
                "by_status": dict(self.by_status),
                "rate_limited": self.rate_limited,
                "faults_injected": dict(self.faults_injected),
                "downloads_with_authorization_header": self.downloads_with_authorization_header,
                "downloads": self.downloads,
                "reports_created": self.reports_created,
                "token_refreshes": self.token_refreshes,
                "max_page_size_seen": self.max_page_size_seen,
            }
