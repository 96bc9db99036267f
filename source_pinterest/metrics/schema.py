"""JSON schemas of the metrics streams, built from their columns and key fields; typing comes from a data file.

Pinterest's analytics responses are open objects (`additionalProperties: true`) whose keys are the requested
columns, so each metrics stream's schema is derived from the columns it asks for: ids and names are strings, the
DATE is a date, everything else is a number (api_columns/column_types.json lists the exceptions).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, MutableMapping
from functools import lru_cache
from importlib import resources
from typing import Any

NUMBER: Mapping[str, Any] = {"type": ["null", "number"]}
STRING: Mapping[str, Any] = {"type": ["null", "string"]}
INTEGER: Mapping[str, Any] = {"type": ["null", "integer"]}
DATE: Mapping[str, Any] = {"type": ["null", "string"], "format": "date"}
UNTYPED: Mapping[str, Any] = {}

# Fields the connector's streams add or key on, beyond the requested columns.
KEY_FIELDS: Mapping[str, Mapping[str, Any]] = {
    "DATE": DATE,
    "HOUR": INTEGER,
    "TARGETING_TYPE": STRING,
    "TARGETING_VALUE": STRING,
    "KEYWORD_ID": STRING,
    "PRODUCT_ITEM_ID": STRING,
}
# With HOUR granularity Pinterest's DATE carries a time of day ("2024-01-31 05:00:00"), so it is no plain date.
HOURLY_DATE: Mapping[str, Any] = STRING


@lru_cache(maxsize=1)
def _column_types() -> Mapping[str, Any]:
    text = resources.files("source_pinterest").joinpath("api_columns", "column_types.json").read_text()
    return json.loads(text)


def column_schema(column: str) -> Mapping[str, Any]:
    if column in KEY_FIELDS:
        return KEY_FIELDS[column]
    types = _column_types()
    if column.endswith("_ID") or column in types["string"]:
        return STRING
    if column in types["untyped"]:
        return UNTYPED
    return NUMBER


def columns_schema(columns: Iterable[str], key_fields: Iterable[str] = (), hourly: bool = False) -> dict[str, Any]:
    """An object schema with one property per column and key field. Unknown keys stay allowed: Pinterest adds
    columns over time and the connector should not drop them."""
    properties = {name: dict(column_schema(name)) for name in [*key_fields, *columns]}
    if hourly and "DATE" in properties:
        properties["DATE"] = dict(HOURLY_DATE)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": properties,
    }


def user_account_analytics_schema() -> dict[str, Any]:
    """GET /user_account/analytics daily rows: {date, data_status, metrics{NAME: number}}."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": {
            "date": DATE,
            "data_status": STRING,
            "metrics": {"type": ["null", "object"], "additionalProperties": NUMBER},
        },
    }


def string_fields(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields a metrics schema types as strings, found once per stream: `typed` runs on every row."""
    return tuple(key for key, field in schema.get("properties", {}).items() if "string" in (field.get("type") or ()))


def typed(record: MutableMapping[str, Any], strings: tuple[str, ...]) -> MutableMapping[str, Any]:
    """The record with numbers in string fields (`string_fields` of its schema) as strings, where Pinterest's JSON
    differs: numeric ids become strings (an 18-digit id stored as a float loses digits)."""
    for key in strings:
        if type(record.get(key)) is int:  # exactly int: a bool stays a bool
            record[key] = str(record[key])
    return record
