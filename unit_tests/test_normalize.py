"""RecordNormalizer: top-level scalars of another type than the schema declares are converted, or kept and reported."""

from __future__ import annotations

import logging

import pytest

from source_pinterest.metrics.schema import columns_schema, string_fields, typed
from source_pinterest.records import RecordNormalizer

SCHEMA = {
    "properties": {
        "name": {"type": ["null", "string"]},
        "daily_spend_cap": {"type": ["null", "integer"]},
        "ratio": {"type": ["null", "number"]},
        "is_flexible": {"type": ["null", "boolean"]},
        "status": {"type": "string"},
        "either": {"type": ["null", "string", "integer"]},
        "owner": {"type": ["null", "object"]},
    }
}


@pytest.mark.parametrize(
    "field,sent,emitted",
    [
        ("name", 12345, "12345"),
        ("name", {"en": "Spring"}, '{"en": "Spring"}'),
        ("name", ["a", "é"], '["a", "é"]'),
        ("daily_spend_cap", "5000000", 5000000),
        ("daily_spend_cap", 5.0, 5),
        ("ratio", "0.25", 0.25),
        ("ratio", 3, 3),  # an integer is a JSON number already
        ("is_flexible", "true", True),
        ("is_flexible", "False", False),
        ("is_flexible", 1, True),
        ("status", True, "True"),
    ],
)
def test_given_a_mismatched_scalar_then_it_is_converted_to_the_declared_type(field, sent, emitted):
    record = {"id": "1", field: sent}

    RecordNormalizer("campaigns", SCHEMA).normalize(record)

    assert record == {"id": "1", field: emitted}
    assert type(record[field]) is type(emitted)


@pytest.mark.parametrize(
    "field,sent",
    [
        ("daily_spend_cap", "lots"),
        ("daily_spend_cap", 2.5),  # not a whole number: truncating would change the value
        ("daily_spend_cap", True),
        ("is_flexible", "maybe"),
    ],
)
def test_given_a_value_that_cannot_be_converted_then_it_is_kept_and_reported_once(field, sent, caplog):
    normalizer = RecordNormalizer("campaigns", SCHEMA)

    with caplog.at_level(logging.WARNING, logger="airbyte"):
        first, second = normalizer.normalize({field: sent}), normalizer.normalize({field: sent})

    assert first == second == {field: sent}
    warnings = [r.getMessage() for r in caplog.records if "Stream campaigns" in r.getMessage()]
    assert len(warnings) == 1 and f"field '{field}'" in warnings[0] and "emitted as sent" in warnings[0]


def test_given_values_of_the_right_type_null_or_undeclared_then_nothing_changes(caplog):
    record = {
        "name": "Spring",
        "daily_spend_cap": 7,
        "ratio": 0.5,
        "is_flexible": False,
        "status": None,
        "either": 3,  # several types declared: not ours to choose
        "owner": {"id": 9},  # structures are left to the schema
        "unknown_field": 1,
    }
    expected = dict(record)

    with caplog.at_level(logging.WARNING, logger="airbyte"):
        RecordNormalizer("campaigns", SCHEMA).normalize(record)

    assert record == expected
    assert caplog.records == []


def test_metrics_rows_get_their_numeric_ids_as_strings_and_every_other_value_as_sent():
    schema = columns_schema(("SPEND_IN_DOLLAR", "TOTAL_CLICKTHROUGH"), ("CAMPAIGN_ID", "DATE"))
    row = {"CAMPAIGN_ID": 626744138729, "DATE": "2024-06-01", "SPEND_IN_DOLLAR": 12, "TOTAL_CLICKTHROUGH": True}

    assert "CAMPAIGN_ID" in string_fields(schema) and "SPEND_IN_DOLLAR" not in string_fields(schema)
    assert typed(row, string_fields(schema)) == {
        "CAMPAIGN_ID": "626744138729",
        "DATE": "2024-06-01",
        "SPEND_IN_DOLLAR": 12,
        "TOTAL_CLICKTHROUGH": True,
    }
    assert typed({"AD_ACCOUNT_ID": True}, ("AD_ACCOUNT_ID",)) == {"AD_ACCOUNT_ID": True}  # a bool is no id
