"""Pinterest API v5 limits and constants, as the OpenAPI description (5.23.0) states them; one place to update."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from importlib import resources
from typing import Literal
from urllib.parse import urlsplit

DEFAULT_BASE_URL = "https://api.pinterest.com/v5/"
# The only way to point the connector elsewhere (the emulator, tests). Never a config field: a hosted user
# could otherwise send our OAuth tokens to any server.
BASE_URL_ENV = "PINTEREST_API_BASE_URL"

MAX_PAGE_SIZE = 250  # every list endpoint: minimum 1, maximum 250
MAX_IDS_PER_LIVE_ANALYTICS_CALL = 250
MAX_IDS_PER_REPORT_FILTER = 500

# Live (synchronous) analytics: how far back and how long one request may reach.
LIVE_ANALYTICS_DAYS_BACK = 90
LIVE_ANALYTICS_MAX_RANGE_DAYS = 90
HOURLY_DAYS_BACK = 8
HOURLY_MAX_RANGE_DAYS = 3
# Async reports.
REPORT_DAYS_BACK = 914
REPORT_MAX_RANGE_DAYS = 186
PRODUCT_ITEM_DAYS_BACK = 92
PRODUCT_ITEM_MAX_RANGE_DAYS = 31

# Every value of a conversion attribution window (ConversionAttributionWindowDays).
AttributionWindowDays = Literal[0, 1, 7, 14, 30, 60]
# Pinterest's defaults where a request leaves a window out (the parameters' `default`).
DEFAULT_ATTRIBUTION_WINDOWS: dict[str, AttributionWindowDays] = {
    "click_window_days": 30,
    "engagement_window_days": 30,
    "view_window_days": 1,
}

# Async reports' targeting breakdowns (TargetingTypeFilter): at most 5 per report, 17 values. The spec restricts
# two to one level each ("AUDIENCE_MULTIPLIER is only available in CAMPAIGN_TARGETING level", "MEDIA_TYPE ... only
# in PRODUCT_ITEM_TARGETING level") and calls AGE_BUCKET_AND_GENDER "in BETA and not yet available to all users".
MAX_TARGETING_TYPES_PER_REPORT = 5
_TARGETING_TYPES = (
    "KEYWORD",
    "APPTYPE",
    "GENDER",
    "LOCATION",
    "PLACEMENT",
    "COUNTRY",
    "TARGETED_INTEREST",
    "PINNER_INTEREST",
    "AUDIENCE_INCLUDE",
    "GEO",
    "AGE_BUCKET",
    "REGION",
    "AGE_BUCKET_AND_GENDER",
    "CREATIVE_ENHANCEMENTS",
    "LOCAL_ADS_STORE_CODE",
)
TARGETING_TYPES_BY_LEVEL: dict[str, tuple[str, ...]] = {
    "ADVERTISER_TARGETING": _TARGETING_TYPES,
    "CAMPAIGN_TARGETING": (*_TARGETING_TYPES, "AUDIENCE_MULTIPLIER"),
    "AD_GROUP_TARGETING": _TARGETING_TYPES,
    "PIN_PROMOTION_TARGETING": _TARGETING_TYPES,
    "PRODUCT_GROUP_TARGETING": _TARGETING_TYPES,
    "PRODUCT_ITEM_TARGETING": (*_TARGETING_TYPES, "MEDIA_TYPE"),
}
TARGETING_TYPES = (*_TARGETING_TYPES, "AUDIENCE_MULTIPLIER", "MEDIA_TYPE")
BETA_TARGETING_TYPES = frozenset({"AGE_BUCKET_AND_GENDER"})


# (connect, read) seconds for every request: a silent server must turn into a retry, never a hung sync.
# PINTEREST_HTTP_READ_TIMEOUT_SECONDS overrides the read part (slow report downloads, or tests of hung servers).
HTTP_CONNECT_TIMEOUT_SECONDS = 15.0
HTTP_READ_TIMEOUT_SECONDS = 120.0


def operator_number(name: str, default: float, allow_zero: bool = False) -> float:
    """An operator setting from the environment (see the README's table); the default when it is unset, not a
    number, negative, or zero where zero makes no sense (a timeout, a deadline)."""
    try:
        value = float(os.environ.get(name, "").strip() or default)
    except ValueError:
        return default
    return value if value > 0 or (allow_zero and value == 0) else default


def http_timeout() -> tuple[float, float]:
    return (
        HTTP_CONNECT_TIMEOUT_SECONDS,
        operator_number("PINTEREST_HTTP_READ_TIMEOUT_SECONDS", HTTP_READ_TIMEOUT_SECONDS),
    )


def _column_set(file_name: str) -> frozenset[str]:
    text = resources.files("source_pinterest").joinpath("api_columns", file_name).read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


LIVE_COLUMNS = _column_set("live.txt")
REPORT_COLUMNS = _column_set("report.txt")


def today() -> dt.date:
    """Pinterest's reporting dates are UTC."""
    return dt.datetime.now(dt.UTC).date()


def now() -> dt.datetime:
    """The time of day in UTC, on the date `today` says (tests move the two together by replacing `today`)."""
    return dt.datetime.combine(today(), dt.datetime.now(dt.UTC).time(), tzinfo=dt.UTC)


def base_url() -> str:
    """The API root, with a trailing slash; only https, or plain http on a loopback address, is accepted."""
    url = os.environ.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL
    parts = urlsplit(url)
    allowed = parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname))
    if not (allowed and parts.hostname):
        raise ValueError(
            f"{BASE_URL_ENV} must be an https URL, or http on a loopback address (127.0.0.1, localhost); got scheme "
            f"'{parts.scheme}' for host '{parts.hostname}'"
        )
    if parts.username or parts.password:
        # Request URLs end up in logs and error messages; a password in one would leak there.
        raise ValueError(f"{BASE_URL_ENV} must not carry a user name or password")
    return url if url.endswith("/") else url + "/"


def _is_loopback(host: str | None) -> bool:
    # An address, not a name prefix: "127.example.com" or "localhost.example.com" resolve anywhere.
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
