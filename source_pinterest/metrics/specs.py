"""The metrics streams as data: AnalyticsSpec rows for the live analytics GETs, ReportSpec rows for async reports.

Custom reports from the config become ReportSpec rows too (`ReportSpec.from_custom`), read by the same stream class.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from source_pinterest import limits
from source_pinterest.config import (
    AttributionType,
    ConversionReportTime,
    CustomReport,
    Granularity,
    PinterestConfig,
    ReportLevel,
)
from source_pinterest.metrics.windows import Window

# Pinterest's own defaults, sent explicitly so the request says what the numbers mean.
DEFAULT_WINDOWS = limits.DEFAULT_ATTRIBUTION_WINDOWS
# What the live analytics GETs send: the spec says their engagement_window_days "no longer returns new data" (historic
# data stays until 2027-09-30), so it is left out and Pinterest's default applies to what is left. The async report
# body documents no such change, so reports still send all three.
LIVE_WINDOWS = {k: v for k, v in DEFAULT_WINDOWS.items() if k != "engagement_window_days"}
# Live analytics accept at most 250 ids per call. 175 columns plus 250 repeated 18-digit ids make a URL of about
# 13 kB, which Pinterest serves; use fewer ids here if a proxy in between rejects long URLs.
LIVE_ID_BATCH = limits.MAX_IDS_PER_LIVE_ANALYTICS_CALL
LIVE_COLUMNS = tuple(sorted(limits.LIVE_COLUMNS))


@dataclass(frozen=True)
class AnalyticsSpec:
    """One live analytics endpoint: GET <path> per ad account, with DAY granularity and every live column."""

    name: str
    path: str  # under the API root, with {ad_account_id}
    id_column: str  # the entity key column of each row
    ids_param: str | None = None  # the repeated query key for an id batch (None: the account itself)
    listing: str | None = None  # the entity listing (every status) the ids come from

    @property
    def primary_key(self) -> list[str]:
        return list(dict.fromkeys(["DATE", "AD_ACCOUNT_ID", self.id_column]))


ANALYTICS_STREAMS: tuple[AnalyticsSpec, ...] = (
    AnalyticsSpec("ad_account_analytics", "ad_accounts/{ad_account_id}/analytics", "AD_ACCOUNT_ID"),
    AnalyticsSpec(
        "campaign_analytics",
        "ad_accounts/{ad_account_id}/campaigns/analytics",
        "CAMPAIGN_ID",
        ids_param="campaign_ids",
        listing="campaigns",
    ),
    AnalyticsSpec(
        "ad_group_analytics",
        "ad_accounts/{ad_account_id}/ad_groups/analytics",
        "AD_GROUP_ID",
        ids_param="ad_group_ids",
        listing="ad_groups",
    ),
    AnalyticsSpec(
        "ad_analytics", "ad_accounts/{ad_account_id}/ads/analytics", "AD_ID", ids_param="ad_ids", listing="ads"
    ),
)

# -- async reports -----------------------------------------------------------------------------------------------

# The row key column of each level; the report file's top-level keys are these ids, so rows always get them.
LEVEL_ID_COLUMN = {
    "ADVERTISER": "AD_ACCOUNT_ID",
    "CAMPAIGN": "CAMPAIGN_ID",
    "AD_GROUP": "AD_GROUP_ID",
    "PIN_PROMOTION": "PIN_PROMOTION_ID",
    "KEYWORD": "KEYWORD_ID",
    "PRODUCT_GROUP": "PRODUCT_GROUP_ID",
    "PRODUCT_ITEM": "PRODUCT_ITEM_ID",
}
METRIC_COLUMNS = (
    "SPEND_IN_MICRO_DOLLAR",
    "SPEND_IN_DOLLAR",
    "PAID_IMPRESSION",
    "TOTAL_IMPRESSION",
    "IMPRESSION_1",
    "IMPRESSION_2",
    "TOTAL_CLICKTHROUGH",
    "CLICKTHROUGH_1",
    "CLICKTHROUGH_2",
    "OUTBOUND_CLICK_1",
    "OUTBOUND_CLICK_2",
    "CTR",
    "ECTR",
    "OUTBOUND_CTR",
    "CPC_IN_MICRO_DOLLAR",
    "ECPC_IN_DOLLAR",
    "CPM_IN_MICRO_DOLLAR",
    "ECPM_IN_MICRO_DOLLAR",
    "TOTAL_ENGAGEMENT",
    "ENGAGEMENT_1",
    "ENGAGEMENT_2",
    "ENGAGEMENT_RATE",
    "REPIN_1",
    "REPIN_2",
    "REPIN_RATE",
    "TOTAL_WEB_SESSIONS",
    "TOTAL_PAGE_VISIT",
    "TOTAL_SIGNUP",
    "TOTAL_CHECKOUT",
    "TOTAL_LEAD",
    "TOTAL_ADD_TO_CART",
    "TOTAL_CONVERSIONS",
    "TOTAL_CONVERSIONS_QUANTITY",
    "TOTAL_CONVERSIONS_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_SIGNUP_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_CLICK_CHECKOUT",
    "TOTAL_VIEW_CHECKOUT",
    "TOTAL_ENGAGEMENT_CHECKOUT",
    "TOTAL_CLICK_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_VIEW_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_ENGAGEMENT_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
    "TOTAL_VIDEO_3SEC_VIEWS",
    "TOTAL_VIDEO_MRC_VIEWS",
    "TOTAL_VIDEO_P100_COMPLETE",
)
_ACCOUNT = ("AD_ACCOUNT_ID", "ADVERTISER_ID")
_CAMPAIGN = ("CAMPAIGN_ID", "CAMPAIGN_NAME", "CAMPAIGN_STATUS", "CAMPAIGN_OBJECTIVE_TYPE")
_AD_GROUP = ("AD_GROUP_ID", "AD_GROUP_NAME", "AD_GROUP_STATUS")
_PIN_PROMOTION = ("AD_ID", "PIN_PROMOTION_ID", "PIN_ID", "PIN_PROMOTION_NAME", "PIN_PROMOTION_STATUS")
# Descriptive columns per base level; PRODUCT_ITEM reports refuse ad and Pin-promotion columns.
LEVEL_COLUMNS = {
    "ADVERTISER": _ACCOUNT,
    "CAMPAIGN": _ACCOUNT + _CAMPAIGN,
    "AD_GROUP": _ACCOUNT + _CAMPAIGN + _AD_GROUP,
    "PIN_PROMOTION": _ACCOUNT + _CAMPAIGN + _AD_GROUP + _PIN_PROMOTION,
    "KEYWORD": (*_ACCOUNT, "CAMPAIGN_ID", "AD_GROUP_ID"),
    "PRODUCT_GROUP": (*_ACCOUNT, "CAMPAIGN_ID", "AD_GROUP_ID", "PRODUCT_GROUP_ID", "PRODUCT_GROUP_STATUS"),
    "PRODUCT_ITEM": (
        *_ACCOUNT,
        "CAMPAIGN_ID",
        "AD_GROUP_ID",
        "PRODUCT_GROUP_ID",
        "PRODUCT_ITEM_NAME",
        "PRODUCT_ITEM_BRAND",
    ),
}
# The five types these streams asked for before every type was read; they stay the first report of a window.
_FIRST_TARGETING_GROUP = ("APPTYPE", "COUNTRY", "GENDER", "AGE_BUCKET", "PLACEMENT")


def default_targeting_types(level: ReportLevel) -> tuple[str, ...]:
    """Every type the level takes except the beta ones (which fail for accounts outside the beta), in request order."""
    taken = [t for t in limits.TARGETING_TYPES_BY_LEVEL[level.value] if t not in limits.BETA_TARGETING_TYPES]
    return tuple(dict.fromkeys([t for t in _FIRST_TARGETING_GROUP if t in taken] + taken))


def targeting_groups(types: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The types in reports of at most 5 (Pinterest's limit), in order: one report job per group and window."""
    size = limits.MAX_TARGETING_TYPES_PER_REPORT
    return tuple(types[i : i + size] for i in range(0, len(types), size))


def _ad_column(column: str) -> bool:
    return column in ("AD_ID", "AD_NAME", "AD_STATUS") or column.startswith("PIN_PROMOTION_")


def _base(level: ReportLevel) -> str:
    return level.value.removesuffix("_TARGETING")


@dataclass(frozen=True)
class ReportSpec:
    """One async report stream: POST /ad_accounts/{id}/reports with this level, columns and attribution."""

    name: str
    level: ReportLevel
    columns: tuple[str, ...] = ()  # empty: the level's standard columns
    granularity: Granularity = Granularity.DAY
    click_window_days: int = DEFAULT_WINDOWS["click_window_days"]
    engagement_window_days: int = DEFAULT_WINDOWS["engagement_window_days"]
    view_window_days: int = DEFAULT_WINDOWS["view_window_days"]
    conversion_report_time: ConversionReportTime = ConversionReportTime.TIME_OF_AD_ACTION
    attribution_types: tuple[AttributionType, ...] = ()  # empty: not sent, Pinterest's default applies
    targeting_types: tuple[str, ...] = ()  # empty: default_targeting_types of the level
    start_date: dt.date | None = None  # a custom report's own start; None: the config's
    # Row filters of a custom report: (body field, statuses), e.g. ("campaign_statuses", ("RUNNING",)).
    status_filters: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def from_custom(cls, report: CustomReport) -> ReportSpec:
        return cls(
            name=report.stream_name,
            level=report.level,
            columns=report.columns,
            granularity=report.granularity,
            click_window_days=report.click_window_days,
            engagement_window_days=report.engagement_window_days,
            view_window_days=report.view_window_days,
            conversion_report_time=report.conversion_report_time,
            attribution_types=report.attribution_types,
            start_date=report.start_date,
            targeting_types=report.targeting_types,
            status_filters=tuple((field, tuple(values)) for field, values in report.status_filters.items()),
        )

    @property
    def targeting(self) -> bool:
        return self.level.value.endswith("_TARGETING")

    @property
    def targeting_groups(self) -> tuple[tuple[str, ...], ...]:
        """The targeting types of each report of one window; () for a level without targeting."""
        if not self.targeting:
            return ()
        return targeting_groups(self.targeting_types or default_targeting_types(self.level))

    @property
    def jobs_per_window(self) -> int:
        return max(1, len(self.targeting_groups))

    @property
    def id_column(self) -> str:
        return LEVEL_ID_COLUMN[_base(self.level)]

    @property
    def request_columns(self) -> tuple[str, ...]:
        if self.columns:
            return self.columns
        return tuple(dict.fromkeys(LEVEL_COLUMNS[_base(self.level)] + METRIC_COLUMNS))

    @property
    def key_fields(self) -> list[str]:
        """The primary key; also the fields every row is given (from the file's keys and the ad account)."""
        keys = [] if self.granularity is Granularity.TOTAL else ["DATE"]
        if self.granularity is Granularity.HOUR:
            keys.append("HOUR")
        keys += dict.fromkeys(["AD_ACCOUNT_ID", self.id_column])
        if self.targeting:
            keys += ["TARGETING_TYPE", "TARGETING_VALUE"]
        return keys

    @property
    def days_back(self) -> int:
        if self.granularity is Granularity.HOUR:
            return limits.HOURLY_DAYS_BACK
        if _base(self.level) == "PRODUCT_ITEM":
            return limits.PRODUCT_ITEM_DAYS_BACK
        return limits.REPORT_DAYS_BACK

    @property
    def max_range_days(self) -> int:
        if self.granularity is Granularity.HOUR:
            return limits.HOURLY_MAX_RANGE_DAYS
        if _base(self.level) == "PRODUCT_ITEM":
            return limits.PRODUCT_ITEM_MAX_RANGE_DAYS
        return limits.REPORT_MAX_RANGE_DAYS

    @property
    def attribution_days(self) -> int:
        """How late a conversion can still be attributed: the default look-back of incremental syncs."""
        return max(self.click_window_days, self.engagement_window_days, self.view_window_days)

    def request_body(self, window: Window, targeting_types: tuple[str, ...] = ()) -> dict[str, Any]:
        body: dict[str, Any] = {
            **window.params(),
            "granularity": self.granularity.value,
            "level": self.level.value,
            "columns": list(self.request_columns),
            "click_window_days": self.click_window_days,
            "engagement_window_days": self.engagement_window_days,
            "view_window_days": self.view_window_days,
            "conversion_report_time": self.conversion_report_time.value,
            "report_format": "JSON",
        }
        if self.attribution_types:
            body["attribution_types"] = [t.value for t in self.attribution_types]
        if targeting_types:
            body["targeting_types"] = list(targeting_types)
        for field, statuses in self.status_filters:
            body[field] = list(statuses)
        return body


def _report(name: str, level: ReportLevel) -> ReportSpec:
    return ReportSpec(name, level)


REPORT_STREAMS: tuple[ReportSpec, ...] = (
    _report("campaign_analytics_report", ReportLevel.CAMPAIGN),
    _report("campaign_targeting_report", ReportLevel.CAMPAIGN_TARGETING),
    _report("advertiser_report", ReportLevel.ADVERTISER),
    _report("advertiser_targeting_report", ReportLevel.ADVERTISER_TARGETING),
    _report("ad_group_report", ReportLevel.AD_GROUP),
    _report("ad_group_targeting_report", ReportLevel.AD_GROUP_TARGETING),
    _report("pin_promotion_report", ReportLevel.PIN_PROMOTION),
    _report("pin_promotion_targeting_report", ReportLevel.PIN_PROMOTION_TARGETING),
    _report("product_group_report", ReportLevel.PRODUCT_GROUP),
    _report("product_group_targeting_report", ReportLevel.PRODUCT_GROUP_TARGETING),
    _report("product_item_report", ReportLevel.PRODUCT_ITEM),
    _report("keyword_report", ReportLevel.KEYWORD),
)


def configured_report_streams(config: PinterestConfig) -> tuple[ReportSpec, ...]:
    """REPORT_STREAMS with the config's targeting types, then the config's custom reports."""
    built_in = tuple(
        dataclasses.replace(spec, targeting_types=config.targeting_types.of(spec.name)) if spec.targeting else spec
        for spec in REPORT_STREAMS
    )
    return built_in + tuple(ReportSpec.from_custom(r) for r in config.custom_reports)


def custom_report_problems(config: PinterestConfig) -> list[str]:
    """What the pydantic model cannot see alone: level/column and granularity rules, and custom start dates.

    A custom report's start_date older than its level allows (914 days, PRODUCT_ITEM 92, HOUR 8) is clamped to the
    earliest allowed day with a warning when the stream runs, like the config's own start_date: the report still
    delivers everything the API still has. A start_date in the future is an error."""
    problems = []
    for index, report in enumerate(config.custom_reports):
        where = f"custom_reports.{index} ({report.name})"
        if _base(report.level) == "PRODUCT_ITEM":
            bad = [c for c in report.columns if _ad_column(c)]
            if bad:
                problems.append(
                    f"{where}: level {report.level.value} does not accept ad or Pin-promotion columns ({', '.join(bad)})"
                )
        if _base(report.level) == "PRODUCT_ITEM" and report.ad_statuses:
            problems.append(f"{where}: level {report.level.value} does not take ad_statuses (the API refuses them)")
        if report.start_date and report.start_date > limits.today():
            problems.append(f"{where}: start_date {report.start_date.isoformat()} is in the future")
    return problems
