"""Request counters exposed by GET /_emulator/stats, and the credentials the emulators of this process issued."""

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from .auth import CLIENT_SECRET, REFRESH_TOKEN


class IssuedCredentials:
    """Every secret an emulator of this process knows or handed out: the client secret, the first refresh token,
    and each access token and rotated refresh token from POST /oauth/token. The end-to-end tests scan all output for
    these. Process-wide on purpose: a test session starts many emulators, and tokens outlive a stats reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._named: dict[str, str] = {CLIENT_SECRET: "client secret", REFRESH_TOKEN: "refresh token"}

    def add(self, value: object, kind: str) -> None:
        if isinstance(value, str) and value:
            with self._lock:
                self._named.setdefault(value, kind)

    def named(self) -> dict[str, str]:
        """{secret value: what it is}; the values never go into stats or logs."""
        with self._lock:
            return dict(self._named)

    def access_tokens(self) -> list[str]:
        with self._lock:
            return [value for value, kind in self._named.items() if kind == "access token"]


ISSUED_CREDENTIALS = IssuedCredentials()


DOWNLOAD_COUNTERS = (
    "downloads_completed",
    "downloads_ranged",
    "downloads_range_ignored",
    "downloads_range_unsatisfiable",
    "downloads_expired",
    "downloads_dropped_slow",
    "download_bytes_sent",
)

RequestWatcher = Callable[[str, str, Mapping[str, list[str]]], None]


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self._watchers: list[RequestWatcher] = []
        self.reset()

    def watch_requests(self, watcher: RequestWatcher) -> None:
        """Call `watcher(method, path, query)` as each API request arrives, before it is answered, on the server's
        thread: the interruption tests kill the connector while it waits for one exact request."""
        with self._lock:
            self._watchers.append(watcher)

    def arrived(self, method: str, path: str, query: Mapping[str, list[str]]) -> None:
        with self._lock:
            watchers = list(self._watchers)
        for watcher in watchers:
            watcher(method, path, query)

    def reset(self) -> None:
        self.requests_total = 0
        self.by_endpoint: Counter = Counter()
        self.by_category: Counter = Counter()
        self.by_status: Counter = Counter()
        self.rate_limited = 0
        self.faults_injected: Counter = Counter()
        self.downloads_with_authorization_header = 0
        self.downloads = 0
        self.downloads_completed = 0  # bodies written to the end (full or ranged)
        self.downloads_ranged = 0  # 206 answers to a Range header
        self.downloads_range_ignored = 0  # Range headers answered with the whole file (download_ranges off)
        self.downloads_range_unsatisfiable = 0  # 416 answers
        self.downloads_expired = 0  # 403 "Request has expired" answers, whatever the reason
        self.downloads_dropped_slow = 0  # reset after the reader took no bytes for download_stall_seconds
        self.download_bytes_sent = 0  # body bytes written to download sockets
        self.download_bytes_by_level: Counter = Counter()  # the same, per report level (e.g. CAMPAIGN_TARGETING)
        self.reports_created = 0
        self.report_files_evicted = 0  # rendered files deleted to keep report_disk_budget_mb
        self.report_files_reused = 0  # jobs given the file of an earlier job with the same request
        self.token_refreshes = 0
        self.continuous_refreshes = 0  # refreshes that asked for continuous_refresh=true
        self.max_page_size_seen = 0
        # Where credentials travelled: only the Authorization header (and, for the token endpoint, its form body)
        # may carry them. Counted per request; both must stay 0.
        self.requests_with_credentials_in_url = 0
        self.requests_with_access_token_outside_authorization = 0

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

    def download_sent(self, level: str, amount: int) -> None:
        with self._lock:
            self.download_bytes_sent += amount
            self.download_bytes_by_level[level] += amount

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults_injected[kind] += 1

    def page_size(self, size: int) -> None:
        with self._lock:
            self.max_page_size_seen = max(self.max_page_size_seen, size)

    def check_credential_placement(self, url: str, headers: Mapping[str, str], body: bytes) -> None:
        """Count a request whose URL carries any secret, or whose other headers or body carry an access token."""
        named = ISSUED_CREDENTIALS.named()
        in_url = any(secret in url for secret in named)
        other_headers: Iterable[str] = (v for k, v in headers.items() if k.lower() != "authorization")
        elsewhere_text = " ".join(other_headers) + body.decode("utf-8", "replace")
        elsewhere = any(token in elsewhere_text for token in ISSUED_CREDENTIALS.access_tokens())
        with self._lock:
            self.requests_with_credentials_in_url += int(in_url)
            self.requests_with_access_token_outside_authorization += int(elsewhere)

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
                **{name: getattr(self, name) for name in DOWNLOAD_COUNTERS},
                "reports_created": self.reports_created,
                "report_files_evicted": self.report_files_evicted,
                "report_files_reused": self.report_files_reused,
                "download_bytes_by_level": dict(self.download_bytes_by_level),
                "token_refreshes": self.token_refreshes,
                "continuous_refreshes": self.continuous_refreshes,
                "max_page_size_seen": self.max_page_size_seen,
                "requests_with_credentials_in_url": self.requests_with_credentials_in_url,
                "requests_with_access_token_outside_authorization": (
                    self.requests_with_access_token_outside_authorization
                ),
            }
