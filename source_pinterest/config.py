"""The user's config, parsed once into typed objects; every problem becomes a config error naming the field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticUseDefault

from source_pinterest import limits


class EntityStatus(str, Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ARCHIVED = "ARCHIVED"
    DRAFT = "DRAFT"
    DELETED_DRAFT = "DELETED_DRAFT"


DEFAULT_STATUSES = (EntityStatus.ACTIVE, EntityStatus.PAUSED)


class ReportLevel(str, Enum):
    ADVERTISER = "ADVERTISER"
    ADVERTISER_TARGETING = "ADVERTISER_TARGETING"
    CAMPAIGN = "CAMPAIGN"
    CAMPAIGN_TARGETING = "CAMPAIGN_TARGETING"
    AD_GROUP = "AD_GROUP"
    AD_GROUP_TARGETING = "AD_GROUP_TARGETING"
    PIN_PROMOTION = "PIN_PROMOTION"
    PIN_PROMOTION_TARGETING = "PIN_PROMOTION_TARGETING"
    KEYWORD = "KEYWORD"
    PRODUCT_GROUP = "PRODUCT_GROUP"
    PRODUCT_GROUP_TARGETING = "PRODUCT_GROUP_TARGETING"
    PRODUCT_ITEM = "PRODUCT_ITEM"
    PRODUCT_ITEM_TARGETING = "PRODUCT_ITEM_TARGETING"


class Granularity(str, Enum):
    TOTAL = "TOTAL"
    DAY = "DAY"
    HOUR = "HOUR"
    WEEK = "WEEK"
    MONTH = "MONTH"


class CampaignReportStatus(str, Enum):
    """Campaign and ad group summary statuses, as the report request filters take them (OpenAPI)."""

    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    NOT_STARTED = "NOT_STARTED"
    COMPLETED = "COMPLETED"
    ADVERTISER_DISABLED = "ADVERTISER_DISABLED"
    ARCHIVED = "ARCHIVED"
    DRAFT = "DRAFT"
    DELETED_DRAFT = "DELETED_DRAFT"


class AdReportStatus(str, Enum):
    APPROVED = "APPROVED"
    PAUSED = "PAUSED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    ADVERTISER_DISABLED = "ADVERTISER_DISABLED"
    ARCHIVED = "ARCHIVED"
    DRAFT = "DRAFT"
    DELETED_DRAFT = "DELETED_DRAFT"


class ProductGroupReportStatus(str, Enum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    EXCLUDED = "EXCLUDED"
    ARCHIVED = "ARCHIVED"


class ConversionReportTime(str, Enum):
    TIME_OF_AD_ACTION = "TIME_OF_AD_ACTION"
    TIME_OF_CONVERSION = "TIME_OF_CONVERSION"


class AttributionType(str, Enum):
    INDIVIDUAL = "INDIVIDUAL"
    HOUSEHOLD = "HOUSEHOLD"


def _one_window(value: Any) -> Any:
    """Airbyte's connector once saved window days as a one-item list ([30]); the value inside is what was meant.
    A window left null or [] is one the config is silent about: Pinterest's default applies (view 1, others 30)."""
    if value is None or value == []:
        raise PydanticUseDefault()
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


WindowDays = Annotated[limits.AttributionWindowDays, BeforeValidator(_one_window)]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _day_text(value: Any) -> Any:
    """The spec's YYYY-MM-DD text, or an ISO date-time whose date is meant (older configs held
    "2022-07-28T00:00:00Z"); pydantic alone would also take epoch numbers. Empty is unset."""
    if value == "":
        return None
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATETIME.match(value):
        return value[:10]
    if not isinstance(value, str) or not _DAY.match(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


OptionalDay = Annotated[dt.date | None, BeforeValidator(_day_text)]


def _each_once(values: tuple[Any, ...]) -> tuple[Any, ...]:
    repeated = sorted({str(getattr(v, "value", v)) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"listed twice: {', '.join(repeated)}")
    return values


_T = TypeVar("_T")
# A list of distinct values: the spec's uniqueItems, checked here (SourcePinterest turns the CDK's check of the config
# against the spec off) and stated in the model's JSON schema, which unit_tests/test_spec_matches_config.py compares.
EachOnce = Annotated[tuple[_T, ...], AfterValidator(_each_once), Field(json_schema_extra={"uniqueItems": True})]

_ACCOUNT_ID = re.compile(r"[0-9]{1,18}")


def targeting_type_problem(level: str, types: tuple[str, ...]) -> str | None:
    """Why a report of `level` cannot take these targeting types (None: it can); names the types and what it takes."""
    accepted = limits.TARGETING_TYPES_BY_LEVEL.get(level)
    if accepted is None:
        return f"targeting types apply to *_TARGETING levels only, not to {level}"
    refused = [t for t in types if t not in accepted]
    if not refused:
        return None
    return f"{', '.join(refused)} is not a targeting type of {level} reports; it takes {', '.join(accepted)}"


def _null_is_every_type(value: Any) -> Any:
    return () if value is None else value


# Targeting types of one level's reports: empty means every type the level takes (beta ones aside). Any number may be
# listed: the connector splits them into reports of at most 5 (Pinterest's limit per report).
TargetingTypeList = Annotated[EachOnce[str], BeforeValidator(_null_is_every_type)]


class _Strict(BaseModel):
    # Unknown keys are tolerated: configs written for Airbyte's own connector carry extra fields.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Credentials(_Strict):
    auth_method: Literal["oauth2.0"] = "oauth2.0"
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    refresh_token: str = Field(min_length=1)

    @field_validator("client_id", "client_secret", "refresh_token")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class CustomReport(_Strict):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_ -]+$")
    level: ReportLevel = ReportLevel.ADVERTISER
    granularity: Granularity = Granularity.DAY
    columns: tuple[str, ...] = Field(min_length=1)
    click_window_days: WindowDays = limits.DEFAULT_ATTRIBUTION_WINDOWS["click_window_days"]
    engagement_window_days: WindowDays = limits.DEFAULT_ATTRIBUTION_WINDOWS["engagement_window_days"]
    view_window_days: WindowDays = limits.DEFAULT_ATTRIBUTION_WINDOWS["view_window_days"]
    conversion_report_time: ConversionReportTime = ConversionReportTime.TIME_OF_AD_ACTION
    attribution_types: EachOnce[AttributionType] = (AttributionType.INDIVIDUAL, AttributionType.HOUSEHOLD)
    start_date: OptionalDay = None
    # Row filters of the report request (at most 6 values each, as the API takes them); empty: no filter.
    campaign_statuses: EachOnce[CampaignReportStatus] = Field(default=(), max_length=6)
    ad_group_statuses: EachOnce[CampaignReportStatus] = Field(default=(), max_length=6)
    ad_statuses: EachOnce[AdReportStatus] = Field(default=(), max_length=6)
    product_group_statuses: EachOnce[ProductGroupReportStatus] = Field(default=(), max_length=6)
    targeting_types: TargetingTypeList = ()

    @model_validator(mode="after")
    def _level_takes_the_targeting_types(self) -> CustomReport:
        if self.targeting_types:
            problem = targeting_type_problem(self.level.value, self.targeting_types)
            if problem:
                raise ValueError(f"targeting_types: {problem}")
        return self

    @field_validator("campaign_statuses", "ad_group_statuses", "ad_statuses", "product_group_statuses", mode="before")
    @classmethod
    def _null_is_no_filter(cls, value: Any) -> Any:
        return () if value is None else value

    @property
    def status_filters(self) -> dict[str, list[str]]:
        """The report request's status filters that are set, by body field."""
        filters: dict[str, tuple[Enum, ...]] = {
            "campaign_statuses": self.campaign_statuses,
            "ad_group_statuses": self.ad_group_statuses,
            "ad_statuses": self.ad_statuses,
            "product_group_statuses": self.product_group_statuses,
        }
        return {field: [s.value for s in statuses] for field, statuses in filters.items() if statuses}

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, columns: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in columns if c not in limits.REPORT_COLUMNS]
        if unknown:
            raise ValueError(
                f"unknown column(s) {', '.join(unknown)}; allowed are the async report columns of the Pinterest API "
                f"(e.g. SPEND_IN_DOLLAR, TOTAL_IMPRESSION, TOTAL_CONVERSIONS)"
            )
        if len(set(columns)) != len(columns):
            raise ValueError("a column is listed twice")
        return columns

    @property
    def stream_name(self) -> str:
        return "custom_" + "_".join(self.name.strip().lower().replace("-", " ").split())


# The built-in targeting report streams and the level each reads.
TARGETING_STREAM_LEVELS = {
    "advertiser_targeting_report": "ADVERTISER_TARGETING",
    "campaign_targeting_report": "CAMPAIGN_TARGETING",
    "ad_group_targeting_report": "AD_GROUP_TARGETING",
    "pin_promotion_targeting_report": "PIN_PROMOTION_TARGETING",
    "product_group_targeting_report": "PRODUCT_GROUP_TARGETING",
}


class TargetingTypes(_Strict):
    """The targeting types of each built-in targeting report stream, validated against its level."""

    advertiser_targeting_report: TargetingTypeList = ()
    campaign_targeting_report: TargetingTypeList = ()
    ad_group_targeting_report: TargetingTypeList = ()
    pin_promotion_targeting_report: TargetingTypeList = ()
    product_group_targeting_report: TargetingTypeList = ()

    @field_validator(*TARGETING_STREAM_LEVELS)
    @classmethod
    def _level_takes_them(cls, types: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        problem = targeting_type_problem(TARGETING_STREAM_LEVELS[str(info.field_name)], types)
        if problem:
            raise ValueError(problem)
        return types

    def of(self, stream: str) -> tuple[str, ...]:
        """The types configured for a stream; empty: the level's defaults."""
        return tuple(getattr(self, stream, ()))


class PinterestConfig(_Strict):
    credentials: Credentials
    start_date: OptionalDay = None
    status: EachOnce[EntityStatus] = DEFAULT_STATUSES
    account_id: str | None = Field(default=None, pattern=r"^\d{1,18}$")
    ad_account_ids: tuple[str, ...] = ()
    # Airbyte's connector accepted up to 40; the request budgets keep any number within Pinterest's limits.
    # The read's pool (sync/concurrency.py); 20 measured best (README, benchmark): 3, 10, 20 gave 23, 10, 7 s on small.
    num_workers: int = Field(default=20, ge=1, le=40, strict=True)
    custom_reports: tuple[CustomReport, ...] = ()
    # How far back incremental metric syncs re-read to pick up restated conversions; None = the attribution window.
    attribution_lookback_days: int | None = Field(default=None, ge=0, le=90)
    targeting_types: TargetingTypes = Field(default_factory=TargetingTypes)

    @field_validator("targeting_types", mode="before")
    @classmethod
    def _null_is_every_level_default(cls, value: Any) -> Any:
        return {} if value is None else value

    @model_validator(mode="before")
    @classmethod
    def _credentials_at_the_top(cls, raw: Any) -> Any:
        return normalized_raw_config(raw) if isinstance(raw, Mapping) else raw

    @field_validator("status", mode="before")
    @classmethod
    def _empty_status_means_default(cls, value: Any) -> Any:
        return DEFAULT_STATUSES if value in (None, [], ()) else value

    @field_validator("account_id", "ad_account_ids")
    @classmethod
    def _numeric_ids(cls, ids: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        # account_id's pattern \d alone also takes other scripts' digits (Arabic-Indic, ...), which the spec's [0-9] refuses.
        listed = (ids,) if isinstance(ids, str) else ids or ()
        bad = [i for i in listed if not _ACCOUNT_ID.fullmatch(i)]
        if bad:
            raise ValueError(f"ad account ids are strings of at most 18 digits; got {bad}")
        return ids

    @field_validator("start_date")
    @classmethod
    def _not_in_future(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > limits.today():
            raise ValueError(f"start_date {value.isoformat()} is in the future; use a date on or before today (UTC)")
        return value

    @model_validator(mode="after")
    def _unique_report_names(self) -> PinterestConfig:
        names = [r.stream_name for r in self.custom_reports]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"custom_reports: two reports share the stream name {', '.join(duplicates)}; names must be unique"
            )
        return self

    @property
    def selected_ad_account_ids(self) -> tuple[str, ...]:
        """The ad accounts the user restricted the sync to; empty means every account the token can read."""
        ids = list(self.ad_account_ids)
        if self.account_id and self.account_id not in ids:
            ids.insert(0, self.account_id)
        return tuple(ids)


_CREDENTIAL_FIELDS = ("client_id", "client_secret", "refresh_token", "access_token", "token_expiry_date")


def normalized_raw_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The raw config in today's shape: the first versions of Airbyte's connector kept the OAuth fields at the top
    level instead of under `credentials`; they are moved there (nothing else changes)."""
    out = dict(raw)
    if "credentials" not in out and "refresh_token" in out:
        out["credentials"] = {"auth_method": "oauth2.0"}
        for field in _CREDENTIAL_FIELDS:
            if field in out:
                out["credentials"][field] = out.pop(field)
    return out


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "config"


# pydantic's wording names Python types and our classes; the user wrote JSON.
_JSON_WORDING = {
    "tuple_type": "Input should be a list",
    "model_type": "Input should be an object",
    "dict_type": "Input should be an object",
}


def _allowed_hint(error: Mapping[str, Any]) -> str:
    # pydantic's date errors ("invalid character in year") never say which format is accepted.
    if str(error.get("type", "")).startswith("date_"):
        return " (allowed: a date as YYYY-MM-DD)"
    expected = (error.get("ctx") or {}).get("expected")
    return f" (allowed: {expected})" if expected else ""


def parse_config(raw: Mapping[str, Any]) -> PinterestConfig:
    """Parse the raw config or raise a config error that lists every bad field and what it accepts."""
    try:
        return PinterestConfig.model_validate(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False, include_input=False):
            message = _JSON_WORDING.get(item["type"], item["msg"].removeprefix("Value error, "))
            # Messages of the model-level checks name their field themselves; anything else names where it is.
            where = "" if not item["loc"] and item["type"] == "value_error" else f"{_field_path(item['loc'])}: "
            problems.append(f"{where}{message}{_allowed_hint(item)}")
        message = "Invalid configuration. " + "; ".join(problems)
        # `from None`: pydantic's own traceback would repeat the input values, secrets included.
        raise AirbyteTracedException(
            message=message, internal_message=message, failure_type=FailureType.config_error
        ) from None
