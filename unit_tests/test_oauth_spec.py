"""The OAuth flow the platform runs from the spec (advanced_auth) asks Pinterest for every scope the streams read
with, the two secret ones included, and exchanges the code the way the token endpoint takes it."""

from __future__ import annotations

import json
from importlib import resources

from airbyte_cdk.models import ConnectorSpecificationSerializer

from source_pinterest.http.errors import SCOPES_BY_PATH_PREFIX
from source_pinterest.streams.specs import SECRET_BOARDS, SECRET_PINS

SPEC = json.loads(resources.files("source_pinterest").joinpath("spec.json").read_text())
FLOW = SPEC["advanced_auth"]["oauth_config_specification"]["oauth_connector_input_specification"]


def requested_scopes() -> list[str]:
    return FLOW["scope"].split(",")


def test_the_spec_with_its_oauth_flow_is_a_valid_connector_specification():
    spec = ConnectorSpecificationSerializer.load(SPEC)

    assert spec.advanced_auth is not None
    assert spec.advanced_auth.oauth_config_specification.oauth_connector_input_specification is not None


def test_the_flow_asks_for_every_scope_a_stream_reads_with_and_the_secret_ones():
    needed = {scope for _, scopes in SCOPES_BY_PATH_PREFIX for scope in scopes.split(" and ")}

    assert needed | set(SECRET_BOARDS) | set(SECRET_PINS) == set(requested_scopes())
    assert len(requested_scopes()) == len(set(requested_scopes()))


def test_the_refresh_token_field_names_the_scopes_the_flow_asks_for():
    description = SPEC["connectionSpecification"]["properties"]["credentials"]["properties"]["refresh_token"][
        "description"
    ]

    assert all(scope in description for scope in requested_scopes())


def test_the_consent_page_and_the_code_exchange_are_pinterests():
    assert FLOW["consent_url"].startswith("https://www.pinterest.com/oauth/?")
    assert "response_type=code" in FLOW["consent_url"] and "{{ scope_key }}" in FLOW["consent_url"]
    assert FLOW["access_token_url"] == "https://api.pinterest.com/v5/oauth/token"
    assert FLOW["access_token_params"]["grant_type"] == "authorization_code"
    assert FLOW["access_token_headers"]["Authorization"].startswith("Basic ")
    assert FLOW["extract_output"] == ["refresh_token"]
