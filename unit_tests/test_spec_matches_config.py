"""spec.json (the form users fill in) and the config model (what the connector reads) state the same fields, each
with the same type, enum, const, default, bounds, pattern and required keys. Titles, descriptions and order belong to
the form alone; the few facts only one side can state are listed below, with why."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest import limits
from source_pinterest.config import TARGETING_STREAM_LEVELS, PinterestConfig, parse_config
from unit_tests.conftest import make_config

SPEC = json.loads(resources.files("source_pinterest").joinpath("spec.json").read_text())
CONNECTION = SPEC["connectionSpecification"]
# The facts compared; titles, descriptions, order, examples and airbyte_secret are the form's alone.
BOUNDS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")
COMPARED = ("type", "enum", "const", "default", "format", "pattern", "uniqueItems", "required", *BOUNDS)

# Where the model takes more than the spec, on purpose: (path, fact) -> what the model states instead (None: nothing).
MODEL_TAKES_MORE: dict[tuple[str, str], Any] = {
    # A config written by hand may leave out the only auth method (Credentials.auth_method defaults to it).
    ("credentials", "required"): ["client_id", "client_secret", "refresh_token"],
    # A config written by hand may leave out level and granularity: the spec's defaults fill them.
    ("custom_reports[]", "required"): ["columns", "name"],
    # Older configs held date-times ("2022-07-28T00:00:00Z"), whose date is meant (config._day_text).
    ("start_date", "pattern"): None,
    ("custom_reports[].start_date", "pattern"): None,
}

# Facts the model checks in a validator, which its JSON schema cannot state: (path, fact) -> value. Each is shown to
# refuse what the spec refuses in test_a_value_the_spec_refuses_is_refused_by_the_model.
IN_VALIDATORS: dict[tuple[str, str], Any] = {
    ("ad_account_ids[]", "pattern"): "^[0-9]{1,18}$",  # PinterestConfig._numeric_ids
    ("custom_reports[].columns", "uniqueItems"): True,  # CustomReport._known_columns
    ("custom_reports[].columns[]", "enum"): sorted(limits.REPORT_COLUMNS),  # CustomReport._known_columns
    # config.targeting_type_problem, per level: TargetingTypes._level_takes_them, CustomReport's check against its level.
    ("custom_reports[].targeting_types[]", "enum"): sorted(limits.TARGETING_TYPES),
    **{
        (f"targeting_types.{stream}[]", "enum"): sorted(limits.TARGETING_TYPES_BY_LEVEL[level])
        for stream, level in TARGETING_STREAM_LEVELS.items()
    },
}

# A report the spec and the model both take; the spec requires level and granularity.
REPORT = {"name": "Spend", "level": "ADVERTISER", "granularity": "DAY", "columns": ["SPEND_IN_DOLLAR"]}


def fields(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field of a JSON schema by path ("custom_reports[].level"; "[]" is an array's items), $refs resolved."""
    defs = schema.get("$defs", {})
    found: dict[str, dict[str, Any]] = {}

    def visit(node: dict[str, Any], path: str) -> None:
        node = _resolved(node, defs)
        found[path] = node
        for name, child in node.get("properties", {}).items():
            visit(child, f"{path}.{name}" if path else name)
        if "items" in node:
            visit(node["items"], f"{path}[]")

    visit(schema, "")
    return found


def _resolved(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    # The model takes null for an optional field left unset, which the spec says by leaving the field out.
    if "anyOf" in node:
        (branch,) = [b for b in node["anyOf"] if b.get("type") != "null"]
        node = {**_resolved(branch, defs), **{k: v for k, v in node.items() if k != "anyOf"}}
    return node


def facts(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The COMPARED facts each field states."""
    return {path: _facts(node) for path, node in fields(schema).items()}


def _facts(node: dict[str, Any]) -> dict[str, Any]:
    stated = {fact: _canonical(fact, node[fact]) for fact in COMPARED if fact in node}
    if isinstance(stated.get("type"), list):
        # The spec's null ("type": ["null", "array"]): test_a_null_the_spec_takes_is_an_unset_field_to_the_model.
        (stated["type"],) = [kind for kind in stated["type"] if kind != "null"]
    if "default" in stated and stated["default"] in (None, []):
        del stated["default"]  # what an omitted optional field means; the spec leaves it out
    return stated


def _canonical(fact: str, value: Any) -> Any:
    if fact in ("enum", "required"):
        return sorted(value, key=str)  # the form's order is presentation
    if fact == "pattern":
        return value.replace(r"\d", "[0-9]")  # the model keeps \d to ASCII digits (config._numeric_ids)
    return value


def spec_facts() -> dict[str, dict[str, Any]]:
    found = facts(CONNECTION)
    for (path, fact), value in MODEL_TAKES_MORE.items():
        found[path].pop(fact)
        if value is not None:
            found[path][fact] = _canonical(fact, value)
    return found


def model_facts() -> dict[str, dict[str, Any]]:
    found = facts(PinterestConfig.model_json_schema())
    for (path, fact), value in IN_VALIDATORS.items():
        assert fact not in found[path], f"the model's schema states {path} {fact} now: drop it from IN_VALIDATORS"
        found[path][fact] = value
    return found


def differences(spec: dict[str, dict[str, Any]], model: dict[str, dict[str, Any]]) -> list[str]:
    found = [f"{path}: only in the spec" for path in spec.keys() - model.keys()]
    found += [f"{path}: only in the model" for path in model.keys() - spec.keys()]
    for path in sorted(spec.keys() & model.keys()):
        for fact in sorted(spec[path].keys() | model[path].keys()):
            said, read = spec[path].get(fact), model[path].get(fact)
            if said == read:
                continue
            if isinstance(said, list) and isinstance(read, list):
                only_spec, only_model = sorted(set(said) - set(read), key=str), sorted(set(read) - set(said), key=str)
                found.append(f"{path} {fact}: only in the spec {only_spec}, only in the model {only_model}")
            else:
                found.append(f"{path} {fact}: spec {said!r}, model {read!r}")
    return sorted(found)


def config_with(path: str, value: Any) -> dict[str, Any]:
    """A config both sides take, with `value` at `path` ("custom_reports[].columns[]": one report of that column);
    `...` leaves the field out."""
    config = make_config(custom_reports=[dict(REPORT)], targeting_types={})
    *parents, last = path.split(".")
    node: Any = config
    for part in parents:
        node = node[part.removesuffix("[]")]
        node = node[0] if part.endswith("[]") else node
    key = last.removesuffix("[]")
    if value is ...:
        node.pop(key, None)
    else:
        node[key] = [value] if last.endswith("[]") else value
    return config


def spec_takes(config: dict[str, Any]) -> bool:
    return jsonschema.Draft7Validator(CONNECTION).is_valid(config)


def test_every_field_of_the_spec_is_in_the_model_with_the_same_facts_and_no_other():
    assert differences(spec_facts(), model_facts()) == []


def test_a_changed_fact_on_either_side_is_a_difference():
    spec, model = spec_facts(), model_facts()
    spec["num_workers"]["maximum"] = 41
    model["custom_reports[].level"]["enum"] = [*model["custom_reports[].level"]["enum"], "PIN"]
    del model["account_id"]

    assert differences(spec, model) == [
        "account_id: only in the spec",
        "custom_reports[].level enum: only in the spec [], only in the model ['PIN']",
        "num_workers maximum: spec 41, model 40",
    ]


def test_the_config_these_tests_build_on_is_taken_by_both():
    config = config_with("custom_reports[].name", "Spend")

    assert spec_takes(config)
    parse_config(config)


# Values the spec refuses, which the model refuses too: the facts of IN_VALIDATORS, and the disagreements fixed.
REFUSED = [
    ("account_id", "١٢٣"),  # Arabic-Indic digits
    ("ad_account_ids[]", "shop"),
    ("ad_account_ids[]", "1" * 19),
    ("ad_account_ids[]", "١٢٣"),
    ("custom_reports[].columns[]", "SPEND_IN_EUROS"),
    ("status", ["ACTIVE", "ACTIVE"]),
    ("custom_reports[].attribution_types", ["INDIVIDUAL", "INDIVIDUAL"]),
    ("custom_reports[].columns", ["SPEND_IN_DOLLAR", "SPEND_IN_DOLLAR"]),
    ("custom_reports[].campaign_statuses", ["RUNNING", "RUNNING"]),
    ("custom_reports[].name", "x" * 101),
    ("credentials.client_secret", ""),
    ("targeting_types.advertiser_targeting_report[]", "AUDIENCE_MULTIPLIER"),  # CAMPAIGN_TARGETING only
    ("targeting_types.campaign_targeting_report[]", "MEDIA_TYPE"),  # PRODUCT_ITEM_TARGETING only
    ("targeting_types.ad_group_targeting_report[]", "QUIZ_RESULT"),  # a live targeting analytics type only
    ("targeting_types.pin_promotion_targeting_report", ["GEO", "GEO"]),
    ("custom_reports[].targeting_types[]", "CREATIVE_TYPE"),
]


@pytest.mark.parametrize("path,value", REFUSED, ids=[f"{path}={value!r}" for path, value in REFUSED])
def test_a_value_the_spec_refuses_is_refused_by_the_model(path, value):
    config = config_with(path, value)

    assert not spec_takes(config)
    with pytest.raises(AirbyteTracedException):
        parse_config(config)


def test_every_column_the_spec_offers_is_one_the_model_takes():
    columns = CONNECTION["properties"]["custom_reports"]["items"]["properties"]["columns"]["items"]["enum"]
    config = config_with("custom_reports[].columns", columns)

    assert spec_takes(config)
    assert parse_config(config).custom_reports[0].columns == tuple(columns)


SPEC_NULLS = [
    path for path, node in fields(CONNECTION).items() if isinstance(node.get("type"), list) and "null" in node["type"]
]


@pytest.mark.parametrize("path", SPEC_NULLS)
def test_a_null_the_spec_takes_is_an_unset_field_to_the_model(path):
    config = config_with(path, None)

    assert spec_takes(config)
    assert parse_config(config) == parse_config(config_with(path, ...))


def test_the_oauth_flow_fills_fields_the_model_reads():
    oauth = SPEC["advanced_auth"]
    outputs = ("complete_oauth_output_specification", "complete_oauth_server_output_specification")
    written = [
        ".".join(field["path_in_connector_config"])
        for output in outputs
        for field in oauth["oauth_config_specification"][output]["properties"].values()
    ]
    model = model_facts()

    assert sorted(written) == ["credentials.client_id", "credentials.client_secret", "credentials.refresh_token"]
    assert all(path in model for path in written)
    assert model[".".join(oauth["predicate_key"])]["const"] == oauth["predicate_value"]
