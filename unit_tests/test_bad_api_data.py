"""What Pinterest may send that its spec does not promise: unknown fields, nulls, wrong types, empty and huge pages,
unicode. Every record the connector emits still validates against its stream's schema, or the stream fails with
a message naming the stream and the endpoint; the sync never crashes mid-page and no record is dropped silently."""

from __future__ import annotations

from typing import Any

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader
from jsonschema import Draft7Validator

from unit_tests.conftest import final_state, make_config, read_streams, records_of

SCHEMAS = ResourceSchemaLoader("source_pinterest")


def schema_errors(stream: str, record: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(SCHEMAS.get_schema(stream))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(record)]


def board(board_id: Any = "1", **fields: Any) -> dict[str, Any]:
    return {"id": board_id, "name": f"Board {board_id}", "created_at": "2024-05-01T10:00:00", **fields}


def campaign(campaign_id: Any = "11", **fields: Any) -> dict[str, Any]:
    return {"id": campaign_id, "ad_account_id": "1", "name": "Spring", "updated_time": 1700000000, **fields}


def with_one_ad_account(api) -> None:
    api.pages("ad_accounts", [[{"id": "1", "name": "Shop", "updated_time": 1700000000}]])


# -- records that still validate -------------------------------------------------------------------------------

ODD_BOARDS = [
    # id, the board as the API sends it
    ("unknown top-level and nested fields", board(brand_new_field={"x": [1, 2]}, owner={"username": "u", "extra": 1})),
    ("every field null but the id", {key: None for key in board()} | {"id": "1"}),
    ("nested objects null", board(owner=None, media=None)),
    ("nested arrays of nulls", board(media={"image_cover_url": None, "pin_thumbnail_urls": [None]})),
    ("a numeric id", board(549755813888123456)),
    ("unicode and emoji in names", board(name="Été 🌞 سلام 日本語 \u200b", description="🙂" * 500)),
    ("a name of 100 000 characters", board(name="x" * 100_000)),
]


@pytest.mark.parametrize("record", [case[1] for case in ODD_BOARDS], ids=[case[0] for case in ODD_BOARDS])
def test_given_odd_but_well_formed_board_when_read_then_it_is_emitted_and_validates(api, record):
    api.pages("boards", [[record]])

    output = read_streams(make_config(), ["boards"])

    (emitted,) = records_of(output, "boards")
    assert schema_errors("boards", emitted) == []
    assert emitted["id"] == str(record["id"])
    # Passed on as the API sent it. The CDK leaves top-level nulls out of a record message; a missing field is null.
    assert {key: emitted.get(key) for key in record if key != "id"} == {k: v for k, v in record.items() if k != "id"}
    assert set(emitted) <= set(record)


WRONG_TYPES = [
    # id, a campaign field with a type other than the schema's
    ("a number where a string is declared", {"name": 12345}),
    ("a string where an integer is declared", {"daily_spend_cap": "5000000"}),
    ("an object where a string is declared", {"status": {"value": "ACTIVE"}}),
    ("a string where a boolean is declared", {"is_flexible_daily_budgets": "true"}),
]


@pytest.mark.parametrize("fields", [case[1] for case in WRONG_TYPES], ids=[case[0] for case in WRONG_TYPES])
def test_given_wrongly_typed_field_when_read_then_the_record_is_emitted_valid(api, fields):
    with_one_ad_account(api)
    api.pages("ad_accounts/1/campaigns", [[campaign(**fields), campaign("12")]])

    output = read_streams(make_config(), ["campaigns"])

    records = records_of(output, "campaigns")
    assert [r["id"] for r in records] == ["11", "12"], "no record is dropped"
    assert [schema_errors("campaigns", r) for r in records] == [[], []]


def test_given_a_huge_page_when_read_then_every_record_comes_in_order(api):
    page = [board(str(i), description="🌸 long text " * 400) for i in range(250)]
    api.pages("boards", [page, page[:10]])

    output = read_streams(make_config(), ["boards"])

    assert [r["id"] for r in records_of(output, "boards")] == [str(i) for i in range(250)] + [str(i) for i in range(10)]


def test_given_empty_pages_with_a_bookmark_when_read_then_paging_goes_on_to_the_end(api):
    api.pages("boards", [[], [board("1")], [], [board("2")]])

    output = read_streams(make_config(), ["boards"])

    assert [r["id"] for r in records_of(output, "boards")] == ["1", "2"]
    assert len(api.requests_to("boards")) == 4


def test_given_a_null_cursor_when_incremental_then_the_record_is_kept_and_state_ignores_it(api):
    with_one_ad_account(api)
    api.pages("ad_accounts/1/campaigns", [[campaign("11", updated_time=None), campaign("12", updated_time=1700000500)]])
    state = {"campaigns": {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"updated_time": 1700000000}}]}}

    output = read_streams(make_config(), ["campaigns"], SyncMode.incremental, state)

    assert [r["id"] for r in records_of(output, "campaigns")] == ["11", "12"], "an unknown cursor is never a reason"
    assert final_state(output, "campaigns")["states"][0]["cursor"] == {"updated_time": 1700000500}


def test_given_a_cursor_of_another_type_when_incremental_then_no_record_is_dropped_and_the_sync_ends(api):
    with_one_ad_account(api)
    api.pages("ad_accounts/1/campaigns", [[campaign("11", updated_time="yesterday"), campaign("12")]])
    state = {"campaigns": {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"updated_time": 1690000000}}]}}

    output = read_streams(make_config(), ["campaigns"], SyncMode.incremental, state)

    assert sorted(r["id"] for r in records_of(output, "campaigns")) == ["11", "12"]
    # The cursor never takes the unreadable value, and never moves past what it could not compare.
    assert final_state(output, "campaigns")["states"][0]["cursor"]["updated_time"] in (1690000000, 1700000000)


# -- bodies that cannot be read as a page ----------------------------------------------------------------------

BROKEN_PAGES = [
    # id, response body of GET /boards
    ("items missing", {"bookmark": None}),
    ("items null", {"items": None, "bookmark": None}),
    ("items an object", {"items": {"id": "1"}, "bookmark": None}),
    ("a list instead of a page", [board("1")]),
    ("an item that is a string", {"items": [board("1"), "2"], "bookmark": None}),
    ("an item that is null", {"items": [board("1"), None], "bookmark": None}),
    ("an item that is a list", {"items": [[board("1")]], "bookmark": None}),
    ("a bookmark that is an object", {"items": [board("1")], "bookmark": {"next": "b1"}}),
]


@pytest.mark.parametrize("body", [case[1] for case in BROKEN_PAGES], ids=[case[0] for case in BROKEN_PAGES])
def test_given_a_page_that_is_not_a_page_when_read_then_only_that_stream_fails_naming_stream_and_endpoint(api, body):
    api.json("boards", body)
    api.json("user_account", {"id": "77", "username": "shop"})

    output = read_streams(make_config(), ["boards", "user_account"], expect_failure=True)

    (error,) = [m.trace.error for m in output.errors if m.trace.error.stream_descriptor]
    assert error.stream_descriptor.name == "boards"
    assert error.message.startswith("Stream boards: GET /v5/boards answered HTTP 200 with a malformed page: ")
    assert error.failure_type == FailureType.system_error
    assert records_of(output, "boards") == [], "a page is refused whole, never emitted in part"
    assert len(records_of(output, "user_account")) == 1, "the other stream completes"
