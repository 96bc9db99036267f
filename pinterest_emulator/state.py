"""Everything a running emulator holds, shared by the HTTP handler and the admin API."""

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone

from .auth import TokenStore
from .data import generate
from .faults import FaultInjector
from .ratelimit import RateLimiter, parse_limits
from .stats import Stats


@dataclass
class Settings:
    seed: int = 1
    size: str = "small"
    latency_ms: int = 0
    rate_limits: str = "off"
    faults: str = ""
    rotate_refresh_tokens: bool = False
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


def today_date(settings: Settings) -> date:
    if settings.today:
        return date.fromisoformat(settings.today)
    return datetime.now(timezone.utc).date()


class State:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.today = today_date(settings)
        today_epoch = int(datetime(self.today.year, self.today.month, self.today.day, tzinfo=timezone.utc).timestamp())
        self.ds = generate(settings.seed, settings.size, today_epoch, has_catalog=not settings.no_catalog)
        self.lock = threading.RLock()  # guards dataset mutation against concurrent reads
        self.tokens = TokenStore(settings.token_ttl, settings.rotate_refresh_tokens)
        self.limiter = RateLimiter(
            settings.rate_limits, parse_limits(settings.rate_limit_overrides), parse_limits(settings.daily_caps, "/day")
        )
        self.faults = FaultInjector(settings.seed, settings.faults)
        self.stats = Stats()
        self.reports: dict = {}  # token -> ReportJob
        self.downloads: dict = {}  # download token -> (report token, expires_at)
        self.base_url = ""  # http://127.0.0.1:PORT/v5, set once listening
        self.root_url = ""  # http://127.0.0.1:PORT

    def now(self) -> int:
        """Emulated wall clock: today's date at the real time of day, never before existing data."""
        real = time.time()
        if not self.settings.today:
            return int(real)
        return self.ds.today_epoch + int(real % 86400)
