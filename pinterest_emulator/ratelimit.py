"""Per-category rate limits with fixed one-minute windows, plus an optional daily cap.

The published numbers are in LIMITS_PER_MINUTE (one place to change them); the spec
documents no headers, so X-RateLimit-* follow the common convention.
"""

import math
import threading
import time

from .errors import ApiError

LIMITS_PER_MINUTE = {
    "ads_read": 1000,
    "ads_analytics": 300,
    "org_read": 1000,
    "org_analytics": 1000,
    "catalogs_read": 1000,
}
WINDOW_SECONDS = 60
DAY_SECONDS = 86400


def parse_limits(text: str, unit: str = "/min") -> dict:
    """'ads_read=100/min,org_read=5' -> {'ads_read': 100, 'org_read': 5}."""
    limits = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        category, _, value = item.partition("=")
        limits[category.strip()] = int(value.strip().removesuffix(unit).removesuffix("/day"))
    return limits


class RateLimiter:
    def __init__(self, mode: str = "off", overrides: dict | None = None, daily_caps: dict | None = None):
        self._lock = threading.Lock()
        self.configure(mode, overrides, daily_caps)

    def configure(self, mode: str | None = None, overrides: dict | None = None, daily_caps: dict | None = None):
        with self._lock:
            if mode is not None:
                if mode not in ("off", "published"):
                    raise ValueError(f"rate_limits must be off or published, got {mode}")
                self.mode = mode
            if overrides is not None or not hasattr(self, "limits"):
                self.limits = {**LIMITS_PER_MINUTE, **(overrides or {})}
            if daily_caps is not None or not hasattr(self, "daily_caps"):
                self.daily_caps = dict(daily_caps or {})
            self._windows: dict[str, tuple[float, int]] = {}
            self._days: dict[str, tuple[float, int]] = {}

    def new_day(self) -> None:
        """Start the next day now: the daily counters go back to zero (caps and per-minute windows stay)."""
        with self._lock:
            self._days = {}

    def used_today(self, category: str) -> int:
        """Calls of the category the daily cap let through since the day began."""
        with self._lock:
            return self._days.get(category, (0.0, 0))[1]

    def hit(self, category: str) -> dict:
        """Count one call; return the headers to send, or raise a 429 ApiError."""
        now = time.time()
        with self._lock:
            limit = self.limits.get(category, 1000)
            start, used = self._windows.get(category, (now, 0))
            if now - start >= WINDOW_SECONDS:
                start, used = now, 0
            reset = max(1, math.ceil(start + WINDOW_SECONDS - now))
            cap = self.daily_caps.get(category)
            day_start, day_used = self._days.get(category, (now, 0))
            enforce = self.mode == "published"
            if cap is not None and day_used >= cap:
                day_reset = max(1, math.ceil(day_start + DAY_SECONDS - now))
                raise _too_many(category, cap, 0, day_reset, f"daily limit of {cap} calls")
            if enforce and used >= limit:
                raise _too_many(category, limit, 0, reset, f"limit of {limit} calls per minute")
            self._windows[category] = (start, used + 1)
            self._days[category] = (day_start, day_used + 1)
        remaining = max(0, limit - used - 1)
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }


def _too_many(category: str, limit: int, remaining: int, reset: int, what: str) -> ApiError:
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
        "Retry-After": str(reset),
    }
    return ApiError(
        429,
        8,
        f"You have exceeded your rate limit ({what}, category {category}). "
        f"Try again later: retry after {reset} seconds.",
        headers,
    )
