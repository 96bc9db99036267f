"""One request budget per Pinterest rate-limit category, shared by every stream and worker of a sync."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any, Optional

import requests
from airbyte_cdk.sources.streams.call_rate import FixedWindowCallRatePolicy, HttpAPIBudget, HttpRequestRegexMatcher

RATE_LIMIT_RESET_HEADER = "X-RateLimit-Reset"
RATE_LIMIT_REMAINING_HEADER = "X-RateLimit-Remaining"


@dataclass(frozen=True)
class Category:
    """A spec `x-ratelimit-category`: the URL paths in it and the calls it allows per minute."""

    name: str
    path_pattern: str
    calls_per_minute: int


# Order matters: the first matching category wins (analytics paths also live under /ad_accounts and /user_account).
# Published limits (developers.pinterest.com, not in the spec): ads_analytics 300/min; overall 100/s per user and app.
CATEGORIES = (
    Category("oauth", r"/oauth/token$", 6000),
    Category(
        "ads_analytics",
        r"/ad_accounts/\d+/(?:(?:\w+/)?(?:analytics|targeting_analytics)|reports|templates/\d+/reports)$",
        300,
    ),
    Category("org_analytics", r"/(?:user_account/analytics(?:/\w+)?|pins/[^/]+/analytics|pins/analytics)$", 6000),
    Category("catalogs_read", r"/catalogs(?:/.*)?$", 6000),
    Category("ads_read", r"/ad_accounts(?:/.*)?$", 6000),
    Category("org_read", r"/(?:user_account|boards|pins)(?:/.*)?$", 6000),
)


def category_of(path: str) -> Optional[str]:
    for category in CATEGORIES:
        if re.search(category.path_pattern, path):
            return category.name
    return None


class PinterestAPIBudget(HttpAPIBudget):
    """The CDK's header-aware budget; Pinterest's reset header counts seconds from now, not an epoch timestamp."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            ratelimit_reset_header=RATE_LIMIT_RESET_HEADER,
            ratelimit_remaining_header=RATE_LIMIT_REMAINING_HEADER,
            **kwargs,
        )

    def get_reset_ts_from_response(self, response: requests.Response) -> Optional[datetime.datetime]:
        value = response.headers.get(self._ratelimit_reset_header)
        try:
            seconds = float(value) if value else None
        except ValueError:
            seconds = None
        if seconds is None:
            return None
        return datetime.datetime.now() + datetime.timedelta(seconds=seconds)

    def get_calls_left_from_response(self, response: requests.Response) -> Optional[int]:
        # Only the header counts. A bare 429 is not "budget spent until the window ends": the retry waits for the
        # server's own hint (Retry-After or exponential backoff), and the other requests of the category go on.
        value = response.headers.get(self._ratelimit_remaining_header)
        try:
            return int(value) if value else None
        except ValueError:
            return None


def build_api_budget() -> PinterestAPIBudget:
    """A fresh budget seeded with the published per-minute limits; response headers then keep it exact."""
    now = datetime.datetime.now()
    policies = [
        FixedWindowCallRatePolicy(
            next_reset_ts=now + datetime.timedelta(minutes=1),
            period=datetime.timedelta(minutes=1),
            call_limit=category.calls_per_minute,
            matchers=[HttpRequestRegexMatcher(url_path_pattern=category.path_pattern)],
        )
        for category in CATEGORIES
    ]
    return PinterestAPIBudget(policies=policies)
