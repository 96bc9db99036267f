"""State and catalog files as the platform hands them over: Airbyte's connector's shapes, bad files, future cursors."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from airbyte_cdk.models import AirbyteStateMessageSerializer, FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.sync.saved_state import (
    StateLayout,
    clamp_future_cursors,
    from_airbyte_connector,
    in_our_shape,
    read_catalog_file,
    read_state_file,
    saved_cursor_fields,
)

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def write(tmp_path, content, name="state.json"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def stream_message(name, stream_state):
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": stream_state}}


def states_of(messages):
    return {m.stream.stream_descriptor.name: m.stream.stream_state.__dict__ for m in messages}


# -- Airbyte's 2.x manifest shape -----------------------------------------------------------------------------------

AIRBYTE_CAMPAIGNS = {
    "states": [
        {"partition": {"id": "549755885175", "parent_slice": {}}, "cursor": {"updated_time": "1700000000"}},
        {"partition": {"id": "549755885176", "parent_slice": {}}, "cursor": {"updated_time": "1700000500"}},
    ],
    "state": {"updated_time": "1700000000"},
    "lookback_window": 1,
    "use_global_cursor": False,
    "parent_state": {"ad_accounts": {"updated_time": "1700000999"}},
}


def test_given_airbyte_entity_state_then_each_ad_account_keeps_its_cursor_as_a_number_and_nothing_else_remains():
    ours = from_airbyte_connector(AIRBYTE_CAMPAIGNS, ("ad_account_id",), "updated_time")

    assert ours == {
        "states": [
            {"partition": {"ad_account_id": "549755885175"}, "cursor": {"updated_time": 1700000000}},
            {"partition": {"ad_account_id": "549755885176"}, "cursor": {"updated_time": 1700000500}},
        ],
        "updated_time": 1700000000,
    }


def test_given_airbyte_analytics_state_per_campaign_then_each_account_gets_the_oldest_of_its_campaigns():
    def campaign(campaign_id, account_id, day):
        parent = {"id": account_id, "parent_slice": {}}
        return {"partition": {"id": campaign_id, "parent_slice": parent}, "cursor": {"DATE": day}}

    state = {
        "states": [
            campaign("c1", "a1", "2026-11-20"),
            campaign("c2", "a1", "2026-11-03"),
            campaign("c3", "a2", "2026-11-25"),
        ],
        "use_global_cursor": False,
    }

    ours = from_airbyte_connector(state, ("ad_account_id",), "DATE")

    assert ours == {
        "states": [
            {"partition": {"ad_account_id": "a1"}, "cursor": {"DATE": "2026-11-03"}},
            {"partition": {"ad_account_id": "a2"}, "cursor": {"DATE": "2026-11-25"}},
        ]
    }


def test_given_airbyte_state_of_a_section_stream_then_the_parent_chain_names_board_and_section():
    state = {
        "states": [
            {
                "partition": {"id": "s1", "parent_slice": {"id": "b1", "parent_slice": {}}},
                "cursor": {"created_at": "2026-01-01T00:00:00"},
            }
        ]
    }

    ours = from_airbyte_connector(state, ("board_id", "section_id"), "created_at")

    assert ours == {
        "states": [
            {"partition": {"board_id": "b1", "section_id": "s1"}, "cursor": {"created_at": "2026-01-01T00:00:00"}}
        ]
    }


def test_given_airbyte_global_cursor_only_then_it_is_the_fallback_for_every_parent():
    state = {"use_global_cursor": True, "state": {"DATE": "2026-10-01"}, "lookback_window": 30}

    assert from_airbyte_connector(state, ("ad_account_id",), "DATE") == {"DATE": "2026-10-01"}


def test_given_airbyte_partitions_of_a_parentless_stream_then_the_oldest_becomes_its_cursor():
    state = {
        "states": [
            {"partition": {"id": "x"}, "cursor": {"date": "2026-11-02"}},
            {"partition": {"id": "y"}, "cursor": {"date": "2026-10-02"}},
        ]
    }

    assert from_airbyte_connector(state, (), "date") == {"date": "2026-10-02"}


@pytest.mark.parametrize(
    "state",
    [
        {"updated_time": 1700000000},
        {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"updated_time": 1700000000}}]},
        {},
    ],
    ids=["flat (0.x and 1.x)", "ours", "empty"],
)
def test_given_a_state_already_in_our_shape_then_it_passes_unchanged(state):
    assert from_airbyte_connector(state, ("ad_account_id",), "updated_time") == state


# -- state files ----------------------------------------------------------------------------------------------------


def test_given_the_legacy_per_stream_object_then_it_becomes_one_message_per_stream(tmp_path):
    legacy = {"campaigns": {"updated_time": 1628867244}, "ad_account_analytics": {"DATE": "2021-06-09"}}

    messages = read_state_file(write(tmp_path, legacy))

    assert states_of(messages) == legacy


def test_given_a_list_of_stream_messages_then_they_are_read_as_they_are(tmp_path):
    messages = read_state_file(write(tmp_path, [stream_message("boards", {"created_at": "2026-01-01"})]))

    assert states_of(messages) == {"boards": {"created_at": "2026-01-01"}}


def test_given_a_legacy_message_with_data_then_its_streams_become_messages(tmp_path):
    messages = read_state_file(write(tmp_path, [{"type": "LEGACY", "data": {"pins": {"created_at": "2026-01-01"}}}]))

    assert states_of(messages) == {"pins": {"created_at": "2026-01-01"}}


@pytest.mark.parametrize(
    "content, says",
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "message 0 is a JSON int, not an object"),
        (json.dumps([{"type": "STREAM", "stream": {"stream_state": {}}}]), "message 0 is not an Airbyte state message"),
        (json.dumps({"boards": [1]}), "maps stream 'boards' to a JSON list"),
        (json.dumps([{"type": "GLOBAL", "global": {"stream_states": []}}]), "not a per-stream state"),
    ],
    ids=["not JSON", "not objects", "no descriptor", "legacy value not an object", "global state"],
)
def test_given_a_bad_state_file_then_a_config_error_names_the_file_and_the_problem(tmp_path, content, says):
    path = write(tmp_path, content)

    with pytest.raises(AirbyteTracedException) as raised:
        read_state_file(path)

    assert raised.value.failure_type == FailureType.config_error
    assert path in raised.value.message and says in raised.value.message


# -- future cursors --------------------------------------------------------------------------------------------------


def test_given_cursors_in_the_future_then_they_become_now_in_their_own_format_with_one_warning(caplog):
    state = {
        "states": [
            {"partition": {"ad_account_id": "1"}, "cursor": {"DATE": "3021-06-09"}},
            {"partition": {"ad_account_id": "2"}, "cursor": {"DATE": "2026-11-30"}},
        ],
        "updated_time": 9628867244,
        "created_at": "3000-01-01T00:00:00Z",
    }

    with caplog.at_level(logging.WARNING, logger="airbyte"):
        clamped = clamp_future_cursors("ad_account_analytics", state, NOW)

    assert clamped == {
        "states": [
            {"partition": {"ad_account_id": "1"}, "cursor": {"DATE": "2026-12-02"}},
            {"partition": {"ad_account_id": "2"}, "cursor": {"DATE": "2026-11-30"}},
        ],
        "updated_time": int(NOW.timestamp()),
        "created_at": "2026-12-02T12:00:00Z",
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Stream ad_account_analytics: 3 saved cursor value(s)" in warnings[0]


def test_given_cursors_in_the_past_then_nothing_changes_and_nothing_is_logged(caplog):
    state = {"updated_time": 1700000000, "states": [{"partition": {"id": "1"}, "cursor": {"DATE": "2026-01-01"}}]}

    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert clamp_future_cursors("campaigns", state, NOW) == state

    assert not caplog.records


# -- a stream that was incremental and is full refresh only now ------------------------------------------------------

DONE = {"__ab_full_refresh_sync_complete": True}


@pytest.mark.parametrize(
    "state, cursors",
    [
        ({"created_at": "2026-01-01T00:00:00"}, ["created_at"]),
        ({"states": [{"partition": {"board_id": "b1"}, "cursor": {"created_at": "2026-01-01"}}]}, ["created_at"]),
        (
            {
                "states": [{"partition": {"id": "b1", "parent_slice": {}}, "cursor": {"created_at": "2026-01-01"}}],
                "state": {"created_at": "2026-01-01"},
                "use_global_cursor": False,
                "lookback_window": 1,
            },
            ["created_at"],
        ),
        (DONE, []),
        ({"states": [{"partition": {"board_id": "b1"}, "cursor": DONE}]}, []),
        ({"states": [{"partition": {"id": "b1", "parent_slice": {}}, "cursor": DONE}], "parent_state": {}}, []),
        ({"__ab_no_cursor_state_message": True}, []),
        ({}, []),
    ],
    ids=["flat", "ours per board", "airbyte 2.x", "pass complete", "pass under way", "airbyte's rfr", "cdk", "empty"],
)
def test_the_cursor_fields_a_state_holds(state, cursors):
    assert saved_cursor_fields(state) == cursors


def test_given_a_created_at_state_of_a_full_refresh_stream_then_it_is_dropped_with_one_info_line(caplog):
    messages = [
        AirbyteStateMessageSerializer.load(
            stream_message(
                "board_pins", {"states": [{"partition": {"board_id": "b1"}, "cursor": {"created_at": "2026-01-01"}}]}
            )
        ),
        AirbyteStateMessageSerializer.load(stream_message("campaigns", {"updated_time": 1700000000})),
        AirbyteStateMessageSerializer.load(stream_message("keywords", DONE)),
    ]
    layouts = {
        "board_pins": StateLayout(("board_id",), None),
        "campaigns": StateLayout(("ad_account_id",), "updated_time"),
        "keywords": StateLayout(("ad_account_id", "ad_group_id"), None),
    }

    with caplog.at_level(logging.INFO, logger="airbyte"):
        ours = states_of(in_our_shape(messages, layouts, NOW))

    assert ours == {"board_pins": {}, "campaigns": {"updated_time": 1700000000}, "keywords": DONE}
    (line,) = [r for r in caplog.records if r.name == "airbyte"]
    assert line.levelno == logging.INFO
    assert line.getMessage().startswith("Stream board_pins is full refresh only: its saved created_at state")


# -- catalog files ---------------------------------------------------------------------------------------------------


def configured(name="boards"):
    return {
        "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
        "sync_mode": "full_refresh",
        "destination_sync_mode": "overwrite",
    }


def test_given_a_good_catalog_then_it_is_read(tmp_path):
    catalog = read_catalog_file(write(tmp_path, {"streams": [configured()]}, "catalog.json"))

    assert [s.stream.name for s in catalog.streams] == ["boards"]


@pytest.mark.parametrize(
    "content, says",
    [
        ("", "is not valid JSON"),
        ("[]", "is a JSON list, not a configured catalog object"),
        ("{}", "has no 'streams' list"),
        (
            json.dumps({"streams": [configured(), {"stream": {}}]}),
            "stream 1, lacks sync_mode, destination_sync_mode, stream.name, stream.json_schema",
        ),
        (json.dumps({"streams": [{**configured(), "sync_mode": "sometimes"}]}), "is not a configured catalog"),
    ],
    ids=["empty", "a list", "no streams", "fields missing", "bad sync mode"],
)
def test_given_a_bad_catalog_file_then_a_config_error_names_the_file_and_the_problem(tmp_path, content, says):
    path = write(tmp_path, content, "catalog.json")

    with pytest.raises(AirbyteTracedException) as raised:
        read_catalog_file(path)

    assert raised.value.failure_type == FailureType.config_error
    assert path in raised.value.message and says in raised.value.message
