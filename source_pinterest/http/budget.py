"""One request budget per Pinterest rate-limit category, shared by every stream and worker of a sync."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

import requests
from airbyte_cdk.sources.streams.call_rate import FixedWindowCallRatePolicy, HttpAPIBudget, HttpRequestRegexMatcher

from source_pinterest.http.errors import MAX_SINGLE_WAIT_SECONDS

RATE_LIMIT_RESET_HEADER = "X-RateLimit-Reset"
RATE_LIMIT_REMAINING_HEADER = "X-RateLimit-Remaining"
RATE_LIMIT_LIMIT_HEADER = "X-RateLimit-Limit"


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
        r"/ad_accounts/\d+/(?:(?:\w+/)?(?:analytics|targeting_analytics)|reports|templates/\d+/reports)$"
        r"|/resources/metrics_ready_state$",
        300,
    ),
    Category("org_analytics", r"/(?:user_account/analytics(?:/\w+)?|pins/[^/]+/analytics|pins/analytics)$", 6000),
    Category("catalogs_read", r"/catalogs(?:/.*)?$", 6000),
    Category("ads_read", r"/ad_accounts(?:/.*)?$", 6000),
    Category("org_read", r"/(?:user_account|boards|pins)(?:/.*)?$", 6000),
)


def category_of(path: str) -> str | None:
    for category in CATEGORIES:
        if re.search(category.path_pattern, path):
            return category.name
    return None


def category_of_template(template: str) -> str | None:
    """The category of a stream's path template, e.g. "ad_accounts/{ad_account_id}/campaigns" -> ads_read."""
    return category_of("/" + re.sub(r"\{\w+\}", "0", template))


class CategoryPolicy(FixedWindowCallRatePolicy):
    """The CDK's fixed window, whose size can follow the server's X-RateLimit-Limit: an app with more than the
    published budget then gets to use it (the CDK's own update only ever lowers the calls left)."""

    def adopt_limit(self, limit: int) -> None:
        with self._lock:
            self._call_limit = limit  # the CDK keeps the limit private; only this subclass changes it


class PinterestAPIBudget(HttpAPIBudget):
    """The CDK's header-aware budget; Pinterest's reset header counts seconds from now, not an epoch timestamp."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            ratelimit_reset_header=RATE_LIMIT_RESET_HEADER,
            ratelimit_remaining_header=RATE_LIMIT_REMAINING_HEADER,
            **kwargs,
        )

    def update_from_response(self, request: Any, response: Any) -> None:
        """The CDK's update (calls left, reset time), preceded by the window size when the server states it."""
        policy = self.get_matching_policy(request)
        if policy is None or not isinstance(response, requests.Response):
            return
        reset = self.get_reset_ts_from_response(response)
        if reset is not None and reset - datetime.datetime.now() > datetime.timedelta(seconds=MAX_SINGLE_WAIT_SECONDS):
            # A daily cap: the error handler ends the stream with it. Fed to the CDK's budget, the next request of the
            # category would wait for the reset (hours) inside acquire_call, which has no timeout: the sync would hang.
            return
        limit = _positive_int(response.headers.get(RATE_LIMIT_LIMIT_HEADER))
        if limit is not None and isinstance(policy, CategoryPolicy):
            policy.adopt_limit(limit)
        policy.update(
            available_calls=self.get_calls_left_from_response(response),
            call_reset_ts=reset,
        )

    def get_reset_ts_from_response(self, response: requests.Response) -> datetime.datetime | None:
        value = response.headers.get(self._ratelimit_reset_header)
        try:
            seconds = float(value) if value else None
        except ValueError:
            seconds = None
        if seconds is None:
            return None
        return datetime.datetime.now() + datetime.timedelta(seconds=seconds)

    def get_calls_left_from_response(self, response: requests.Response) -> int | None:
        # Only the header counts. A bare 429 is not "budget spent until the window ends": the retry waits for the
        # server's own hint (Retry-After or exponential backoff), and the other requests of the category go on.
        value = response.headers.get(self._ratelimit_remaining_header)
        try:
            return int(value) if value else None
        except ValueError:
            return None


def _positive_int(value: str | None) -> int | None:
    """A header holding a plain positive count; anything else (absent, "100;w=1", "0") is not trusted."""
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number and number > 0 else None


def build_api_budget() -> PinterestAPIBudget:
    """A fresh budget seeded with the published per-minute limits; response headers then keep it exact."""
    now = datetime.datetime.now()
    policies = [
        CategoryPolicy(
            next_reset_ts=now + datetime.timedelta(minutes=1),
            period=datetime.timedelta(minutes=1),
            call_limit=category.calls_per_minute,
            matchers=[HttpRequestRegexMatcher(url_path_pattern=category.path_pattern)],
        )
        for category in CATEGORIES
    ]
    return PinterestAPIBudget(policies=policies)
