"""Everything a running emulator holds, shared by the HTTP handler and the admin API."""

import shutil
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime

from .auth import SCOPES, TokenStore
from .data import generate
from .faults import FaultInjector
from .ratelimit import RateLimiter, parse_limits
from .report_files import Worker, make_report_dir
from .stats import Stats


@dataclass
class Settings:
    seed: int = 1
    size: str = "small"
    latency_ms: int = 0
    rate_limits: str = "off"
    faults: str = ""
    rotate_refresh_tokens: bool = False
    scopes: str = SCOPES  # granted to every token, comma-separated; leave out *:read_secret to hide secret content
    token_ttl: int = 3600
    today: str | None = None  # YYYY-MM-DD; default: the current UTC date
    report_polls: int = 2  # polls that answer IN_PROGRESS before FINISHED
    board_pins_cap: int | None = None
    no_catalog: bool = False
    rate_limit_overrides: str = ""  # "ads_read=100/min,..."
    daily_caps: str = ""  # "ads_analytics=1000,..."
    download_ttl: int = 300  # seconds a report download URL stays valid
    download_stall_seconds: float = 30.0  # a download whose reader takes no bytes this long is reset
    download_ranges: bool = True  # honour Range headers on downloads (off: always the whole file with 200)
    report_scale: int = 1  # each targeting type has report_scale times its base values (bigger targeting files)
    report_disk_budget_mb: int = 20_000  # rendered report files kept on disk; the oldest are evicted beyond it
    organic_processing_days: int = 0  # the most recent days whose organic pin analytics are still PROCESSING
    conversions_pending_days: int = 0  # the most recent days whose ads conversion metrics are not final yet
    multi_pin_analytics: bool = True  # whether the app has the beta GET /pins/analytics (False: 403)

    def __post_init__(self):
        if self.report_scale < 1:
            raise ValueError("report_scale must be an integer >= 1")
        if self.download_stall_seconds <= 0:
            raise ValueError("download_stall_seconds must be > 0")


def today_date(settings: Settings) -> date:
    if settings.today:
        return date.fromisoformat(settings.today)
    return datetime.now(UTC).date()


class State:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.today = today_date(settings)
        today_epoch = int(datetime(self.today.year, self.today.month, self.today.day, tzinfo=UTC).timestamp())
        self.ds = generate(settings.seed, settings.size, today_epoch, has_catalog=not settings.no_catalog)
        self.lock = threading.RLock()  # guards dataset mutation against concurrent reads
        self.set_conversions_pending(settings.conversions_pending_days)
        self.tokens = TokenStore(settings.token_ttl, settings.rotate_refresh_tokens, settings.scopes)
        self.limiter = RateLimiter(
            settings.rate_limits, parse_limits(settings.rate_limit_overrides), parse_limits(settings.daily_caps, "/day")
        )
        self.faults = FaultInjector(settings.seed, settings.faults)
        self.stats = Stats()
        self.reports: dict = {}  # token -> ReportJob
        self.downloads: dict = {}  # download token -> downloads.DownloadUrl
        self.report_files: dict = {}  # (account, body, scale, data version) -> report_files.DiskFile
        self.epoch = 0  # bumped by close(): renders started before it stop
        self._report_dir: str | None = None
        self._renderer: Worker | None = None
        self.base_url = ""  # http://127.0.0.1:PORT/v5, set once listening
        self.root_url = ""  # http://127.0.0.1:PORT

    def set_conversions_pending(self, days: int) -> None:
        """The last `days` days (today included) have provisional conversions; their rows and report files change."""
        if days < 0:
            raise ValueError("conversions_pending_days must be an integer >= 0")
        with self.lock:
            self.settings.conversions_pending_days = days
            pending_from = self.today.toordinal() - days + 1 if days else None
            if pending_from != self.ds.conversions_pending_from:
                self.ds.conversions_pending_from = pending_from
                self.ds.version += 1  # report files rendered before are stale

    def metrics_ready(self, day: date) -> tuple[bool, bool]:
        """(conversion, non-conversion) metrics final for the day: the pending days' conversions are not, and
        neither is anything of today while some days are pending."""
        pending_from = self.ds.conversions_pending_from
        if day > self.today:
            return False, False
        if pending_from is None or day.toordinal() < pending_from:
            return True, True
        return False, day < self.today

    def now(self) -> int:
        """Emulated wall clock: today's date at the real time of day, never before existing data."""
        real = time.time()
        if not self.settings.today:
            return int(real)
        return self.ds.today_epoch + int(real % 86400)

    def report_dir(self) -> str:
        """The temp directory of this emulator's report files, made on first use, removed by close() or at exit.
        Its name carries the process id, so the directories of killed processes are removed here."""
        with self.lock:
            if self._report_dir is None:
                self._report_dir = make_report_dir()
                weakref.finalize(self, shutil.rmtree, self._report_dir, True)
            return self._report_dir

    def renderer(self) -> "Worker":
        """One background worker renders report files, one at a time, as Pinterest's queue would."""
        with self.lock:
            if self._renderer is None:
                self._renderer = Worker("report-render")
            return self._renderer

    def close(self) -> None:
        """Stop rendering and delete every report file; a later report renders afresh (Emulator.start again)."""
        with self.lock:
            self.epoch += 1
            renderer, directory = self._renderer, self._report_dir
            self._renderer = self._report_dir = None
        if renderer is not None:
            renderer.stop()
        for file in self.report_files.values():
            file.delete()
        self.report_files.clear()
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
