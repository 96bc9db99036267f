"""Checks the JSON schemas in source_pinterest/schemas against our typing rules and the Pinterest v5 spec."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader
from jsonschema import Draft7Validator

from source_pinterest.streams.specs import ENTITY_STREAMS

STREAMS = [
    "user_account",
    "boards",
    "board_sections",
    "board_section_pins",
    "board_pins",
    "pins",
    "ad_accounts",
    "campaigns",
    "ad_groups",
    "ads",
    "audiences",
    "customer_lists",
    "conversion_tags",
    "keywords",
    "lead_forms",
    "catalogs",
    "catalogs_feeds",
    "catalogs_product_groups",
]
# Metrics streams whose schemas are files too (the others are built from their columns, metrics/schema.py).
METRICS_SCHEMA_STREAMS = ["pin_analytics", "user_account_top_pins", "user_account_top_video_pins"]
SCHEMA_FILES = STREAMS + METRICS_SCHEMA_STREAMS

# The spec component each stream's list endpoint returns as one item.
SPEC_COMPONENT = {
    "user_account": "Account",
    "boards": "Board",
    "board_sections": "BoardSection",
    "board_section_pins": "Pin",
    "board_pins": "Pin",
    "pins": "Pin",
    "ad_accounts": "AdAccount",
    "campaigns": "CampaignResponse",
    "ad_groups": "AdGroupResponse",
    "ads": "AdResponse",
    "audiences": "Audience",
    "customer_lists": "CustomerList",
    "conversion_tags": "ConversionTag",
    "keywords": "Keyword",
    "lead_forms": "LeadFormResponse",
    "catalogs": "Catalog",
    "catalogs_feeds": "CatalogsFeed",
    "catalogs_product_groups": "CatalogsVerticalProductGroup",
}

SPEC_PATH = Path(os.environ.get("PINTEREST_OPENAPI", "/work/shared/pinterest-api/openapi.json"))
SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "source_pinterest" / "schemas"


@pytest.fixture(scope="module")
def loader() -> ResourceSchemaLoader:
    return ResourceSchemaLoader("source_pinterest")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.skip(f"OpenAPI spec not found at {SPEC_PATH} (set PINTEREST_OPENAPI)")
    return json.loads(SPEC_PATH.read_text())


def types_of(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def walk_properties(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yields (dotted path, property name, subschema) for every property, descending into objects and array items."""
    for name, sub in schema.get("properties", {}).items():
        here = f"{path}.{name}" if path else name
        yield here, name, sub
        yield from walk_properties(sub, here)
        items = sub.get("items")
        while isinstance(items, dict):
            yield from walk_properties(items, here + "[]")
            items = items.get("items")


def is_id_name(name: str) -> bool:
    return name == "id" or name.endswith("_id") or name.endswith("_ids")


# --- the spec side: example records and documented field paths -------------------------------------------------


def _component(spec: dict[str, Any], ref: str) -> tuple[str, dict[str, Any]]:
    name = ref.rsplit("/", 1)[-1]
    return name, spec["components"]["schemas"][name]


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = _component(spec, node["$ref"])[1]
    return node


def build_examples(spec: dict[str, Any], node: dict[str, Any], seen: tuple[str, ...] = ()) -> list[Any]:
    """Builds example values from the spec's `example` keywords; one per oneOf/anyOf variant. [] if none."""
    if "example" in node:
        return [node["example"]]
    if "$ref" in node:
        name, target = _component(spec, node["$ref"])
        if name in seen:
            return []
        return build_examples(spec, target, (*seen, name))
    for key in ("oneOf", "anyOf"):
        if key in node:
            return [ex for variant in node[key] for ex in build_examples(spec, variant, seen)]
    if "allOf" in node or "properties" in node:
        record: dict[str, Any] = {}
        for part in node.get("allOf", []):
            for ex in build_examples(spec, part, seen)[:1]:
                if isinstance(ex, dict):
                    record.update(ex)
        for prop, sub in node.get("properties", {}).items():
            values = build_examples(spec, sub, seen)
            if values:
                record[prop] = values[0]
        return [record] if record else []
    if node.get("type") == "array" and "items" in node:
        return [[ex] for ex in build_examples(spec, node["items"], seen)[:1]]
    return []


def spec_field_paths(
    spec: dict[str, Any], node: dict[str, Any], path: str = "", seen: tuple[str, ...] = ()
) -> set[str]:
    """Every property path the spec documents under `node` (arrays as `[]`; map-like objects not descended)."""
    if "$ref" in node:
        name, target = _component(spec, node["$ref"])
        return set() if name in seen else spec_field_paths(spec, target, path, (*seen, name))
    paths: set[str] = set()
    for key in ("allOf", "oneOf", "anyOf"):
        for part in node.get(key, []):
            paths |= spec_field_paths(spec, part, path, seen)
    if isinstance(node.get("additionalProperties"), dict):
        return paths  # a map such as {"<audience id>": 1.2}; its `properties` only name the key kind
    for prop, sub in node.get("properties", {}).items():
        here = f"{path}.{prop}" if path else prop
        paths.add(here)
        paths |= spec_field_paths(spec, sub, here, seen)
    if "items" in node:
        paths |= spec_field_paths(spec, node["items"], path + "[]", seen)
    return paths


def ids_as_strings(value: Any, key: str = "") -> Any:
    """Casts numeric ids to strings, as the connector does before emitting a record."""
    if isinstance(value, dict):
        return {k: ids_as_strings(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [ids_as_strings(v, key) for v in value]
    if is_id_name(key) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value))
    return value


def assert_valid(schema: dict[str, Any], record: dict[str, Any]) -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in Draft7Validator(schema).iter_errors(record)
    ]
    assert not errors, errors


# --- tests -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", SCHEMA_FILES)
def test_schema_loads_fully_resolved(loader, stream):
    schema = loader.get_schema(stream)

    assert "$ref" not in json.dumps(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is True
    Draft7Validator.check_schema(schema)
    assert schema["properties"]


@pytest.mark.parametrize("stream", SCHEMA_FILES)
def test_every_property_is_nullable(loader, stream):
    not_nullable = [path for path, _, sub in walk_properties(loader.get_schema(stream)) if "null" not in types_of(sub)]
    assert not not_nullable


@pytest.mark.parametrize("stream", SCHEMA_FILES)
def test_ids_are_strings(loader, stream):
    wrong = []
    for path, name, sub in walk_properties(loader.get_schema(stream)):
        if not is_id_name(name):
            continue
        leaf = sub["items"] if types_of(sub) == {"null", "array"} else sub
        if types_of(leaf) != {"null", "string"}:
            wrong.append(path)
    assert not wrong


@pytest.mark.parametrize("stream", METRICS_SCHEMA_STREAMS)
def test_metrics_id_columns_are_strings_and_metrics_numbers(loader, stream):
    properties = loader.get_schema(stream)["properties"]
    ids = [name for name in properties if name.upper().endswith("_ID")]
    metrics = [name for name in properties if name.isupper() and name not in ("PIN_ID", "DATE", "DATA_STATUS")]
    assert ids and all(types_of(properties[name]) == {"null", "string"} for name in ids)
    assert metrics and all(types_of(properties[name]) & {"integer", "number"} for name in metrics)


def test_every_schema_file_is_used():
    top_level = {p.stem for p in SCHEMAS_DIR.glob("*.json")}
    assert top_level == set(SCHEMA_FILES)
    referenced = "".join(p.read_text() for p in SCHEMAS_DIR.rglob("*.json"))
    unused = [p.name for p in (SCHEMAS_DIR / "shared").glob("*.json") if f'"{p.name}"' not in referenced]
    assert not unused


@pytest.mark.parametrize(
    "stream, field, expected",
    [
        ("campaigns", "updated_time", {"type": ["null", "integer"]}),
        ("ad_groups", "updated_time", {"type": ["null", "integer"]}),
        ("ads", "updated_time", {"type": ["null", "integer"]}),
        ("ad_accounts", "updated_time", {"type": ["null", "integer"]}),
        ("audiences", "updated_timestamp", {"type": ["null", "integer"]}),
        ("catalogs", "updated_at", {"type": ["null", "string"], "format": "date-time"}),
        ("catalogs_feeds", "updated_at", {"type": ["null", "string"], "format": "date-time"}),
        ("catalogs_product_groups", "updated_at", {"type": ["null", "integer"]}),
    ],
)
def test_cursor_field_type(loader, stream, field, expected):
    prop = loader.get_schema(stream)["properties"][field]
    assert {k: prop.get(k) for k in expected} == expected


def variants(spec: dict[str, Any], component: str) -> list[dict[str, Any]]:
    """The component, or each of its oneOf variants (a feed or product group per catalog type)."""
    node = _deref(spec, {"$ref": f"#/components/schemas/{component}"})
    return [_deref(spec, variant) for variant in node.get("oneOf", [node])]


@pytest.mark.parametrize("entity", ENTITY_STREAMS, ids=lambda entity: entity.name)
def test_a_cursor_is_an_update_time_the_openapi_documents_and_a_stream_without_has_none(spec, entity):
    component = SPEC_COMPONENT[entity.name]
    for variant in variants(spec, component):
        fields = {path for path in spec_field_paths(spec, variant) if "." not in path and "[]" not in path}
        update_times = {name for name in fields if name.startswith("updated_") or "modified" in name}
        if entity.cursor_field:
            assert entity.cursor_field in update_times and entity.cursor_field.startswith("updated_")
        else:
            # board_pins_modified_at moves with the board's pins only, not with its own edits (name, privacy ...).
            assert update_times <= {"board_pins_modified_at"}
    assert (entity.cursor_field is None) == (entity.full_refresh_reason is not None)
    if entity.full_refresh_reason:
        assert entity.full_refresh_reason.startswith(f"{component} has") or "one object" in entity.full_refresh_reason


def test_customer_lists_cursor_is_numeric(loader):
    prop = loader.get_schema("customer_lists")["properties"]["updated_time"]
    assert "null" in types_of(prop) and types_of(prop) & {"number", "integer"}
    assert not types_of(prop) - {"null", "number", "integer"}


@pytest.mark.parametrize("stream, field", [("board_sections", "board_id"), ("keywords", "ad_account_id")])
def test_connector_added_parent_ids(loader, stream, field):
    assert loader.get_schema(stream)["properties"][field]["type"] == ["null", "string"]


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_covers_every_documented_field(loader, spec, stream):
    ref = {"$ref": f"#/components/schemas/{SPEC_COMPONENT[stream]}"}
    ours = {path for path, _, _ in walk_properties(loader.get_schema(stream))}
    missing = sorted(spec_field_paths(spec, ref) - ours)
    assert not missing


@pytest.mark.parametrize("stream", STREAMS)
def test_spec_examples_validate(loader, spec, stream):
    examples = build_examples(spec, {"$ref": f"#/components/schemas/{SPEC_COMPONENT[stream]}"})
    if stream in {"campaigns", "ad_groups", "ads", "boards", "pins", "audiences", "keywords"}:
        assert examples and examples[0], "the spec has examples for this item; the builder should find them"
    schema = loader.get_schema(stream)
    for example in examples:
        assert_valid(schema, ids_as_strings(example))


# Hand-written records shaped like real responses (values from the spec's examples), so the core streams are
# checked even where the spec file is not available.
RECORDS = {
    "campaigns": {
        "id": "549755885175",
        "ad_account_id": "549755885175",
        "name": "ACME Tools",
        "status": "ACTIVE",
        "lifetime_spend_cap": 1432744744,
        "daily_spend_cap": None,
        "order_line_id": "549755885175",
        "tracking_urls": {"impression": ["URL1", "URL2"], "click": ["URL1"], "engagement": None},
        "start_time": 1580865126,
        "end_time": 1644023526,
        "summary_status": "RUNNING",
        "is_campaign_budget_optimization": True,
        "is_flexible_daily_budgets": True,
        "objective_type": "AWARENESS",
        "created_time": 1432744744,
        "updated_time": 1432744744,
        "type": "campaign",
        "bid_options": {"audience_multipliers": {"123": 1.1, "456": 1.2}, "placement_multipliers": None},
    },
    "ad_groups": {
        "id": "2680060704746",
        "campaign_id": "626736533506",
        "ad_account_id": "549755885175",
        "name": "Ad Group For Pin: 687195905986",
        "status": "ACTIVE",
        "budget_in_micro_currency": 5000000,
        "bid_in_micro_currency": 5000000,
        "bid_multiplier": 1.0,
        "budget_type": "DAILY",
        "start_time": 5686848000,
        "end_time": 5705424000,
        "targeting_spec": {
            "AGE_BUCKET": ["35-44", "50-54"],
            "APPTYPE": ["ipad", "iphone"],
            "GENDER": ["unknown"],
            "SHOPPING_RETARGETING": [{"lookback_window": 30, "exclusion_window": 14, "tag_types": [0, 6]}],
        },
        "lifetime_frequency_cap": 100,
        "tracking_urls": None,
        "auto_targeting_enabled": True,
        "placement_group": "ALL",
        "pacing_delivery_type": "STANDARD",
        "conversion_learning_mode_type": "ACTIVE",
        "summary_status": "RUNNING",
        "feed_profile_id": "626736533506",
        "billable_event": "CLICKTHROUGH",
        "type": "adgroup",
        "created_time": 1476477189,
        "updated_time": 1476477189,
        "bid_strategy_type": "MAX_BID",
        "targeting_template_ids": ["643"],
        "optimization_goal_metadata": {
            "conversion_tag_v3_goal_metadata": {
                "attribution_windows": {"click_window_days": 30, "engagement_window_days": 30, "view_window_days": 1},
                "conversion_event": "PAGE_VISIT",
                "conversion_tag_id": "2613287734803",
                "cpa_goal_value_in_micro_currency": "5000000",
                "is_roas_optimized": False,
                "learning_mode_type": "ACTIVE",
            },
            "frequency_goal_metadata": {"frequency": 5, "timerange": "DAY"},
            "scrollup_goal_metadata": None,
        },
    },
    "ads": {
        "id": "687195134316",
        "ad_group_id": "2680059592705",
        "campaign_id": "626735565838",
        "ad_account_id": "549755885175",
        "pin_id": "394205773611545468",
        "creative_type": "REGULAR",
        "destination_url": None,
        "status": "ACTIVE",
        "review_status": "PENDING",
        "summary_status": "APPROVED",
        "rejected_reasons": [],
        "rejection_labels": [],
        "is_pin_deleted": False,
        "is_removable": False,
        "type": "pinpromotion",
        "created_time": 1451431341,
        "updated_time": 1451431341,
        "quiz_pin_data": {
            "questions": [{"question_id": "1", "question_text": "Where?", "options": [{"id": "1", "text": "Here"}]}],
            "results": [{"organic_pin_id": "pinId", "result_id": "1", "destination_url": "https://example.com"}],
            "tie_breaker_type": "RANDOM",
        },
    },
    "ad_accounts": {
        "id": "549755885175",
        "name": "ACME Tools",
        "owner": {"id": "2783136121146311751", "username": "acme"},
        "country": "US",
        "currency": "USD",
        "permissions": ["OWNER"],
        "created_time": 1451431341,
        "updated_time": None,
    },
    "boards": {
        "id": "549755885175",
        "created_at": "2020-01-01T20:10:40",
        "board_pins_modified_at": "2020-01-01T20:10:40",
        "name": "Summer recipes",
        "description": "My favorite summer recipes",
        "collaborator_count": 17,
        "pin_count": 5,
        "follower_count": 13,
        "media": {
            "image_cover_url": "https://i.pinimg.com/400x300/a.jpg",
            "pin_thumbnail_urls": ["https://i.pinimg.com/b.jpg"],
        },
        "owner": {"username": "someuser"},
        "privacy": "PUBLIC",
        "is_ads_only": False,
    },
    "pins": {
        "id": "813744226420795884",
        "created_at": "2020-01-01T20:10:40",
        "link": "https://www.pinterest.com/",
        "title": None,
        "description": "Pin description",
        "dominant_color": "#6E7874",
        "alt_text": None,
        "creative_type": "REGULAR",
        "board_id": "549755885175",
        "board_section_id": None,
        "board_owner": {"username": "someuser"},
        "is_owner": True,
        "is_standard": True,
        "has_been_promoted": False,
        "parent_pin_id": None,
        "pin_metrics": {"90d": {"pin_click": 7, "impression": 2}, "lifetime_metrics": {"pin_click": 7, "comment": 2}},
        "media": {
            "media_type": "image",
            "images": {"150x150": {"width": 150, "height": 150, "url": "https://i.pinimg.com/150x150/a.jpg"}},
        },
    },
}


@pytest.mark.parametrize("stream", sorted(RECORDS))
def test_realistic_records_validate(loader, stream):
    assert_valid(loader.get_schema(stream), RECORDS[stream])


@pytest.mark.parametrize("stream", ["board_pins", "board_section_pins"])
def test_pin_streams_share_one_schema(loader, stream):
    assert loader.get_schema(stream) == loader.get_schema("pins")


def test_video_pin_media_validates(loader):
    record = dict(RECORDS["pins"])
    record["media"] = {
        "media_type": "multiple_mixed",
        "items": [
            {"item_type": "image", "images": {"600x": {"width": 600, "height": 900, "url": "u"}}, "title": None},
            {"item_type": "video", "cover_image_url": "c", "video_url": "v", "duration": 12.5, "width": 1, "height": 2},
        ],
    }
    assert_valid(loader.get_schema("pins"), record)


def test_numeric_id_is_rejected(loader):
    # Guards the rule that ids are strings: an uncast 18-digit id must not pass silently.
    record = dict(RECORDS["campaigns"], id=549755885175)
    assert list(Draft7Validator(loader.get_schema("campaigns")).iter_errors(record))
