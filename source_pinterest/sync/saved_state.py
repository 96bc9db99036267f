"""State and catalog as the platform hands them over: files read with clear config errors, the state shapes Airbyte's
own Pinterest connector saved mapped onto ours, and cursors in the future brought back to now.

Shapes of Airbyte's connector that arrive here (facts of its saved state, not its code):
  0.x, a legacy state file: one JSON object, stream name -> flat state, e.g. {"campaigns": {"updated_time": 1628867244}}
  1.x, per-stream messages with a flat state: {"updated_time": 1628867244} or {"DATE": "2021-06-09"}
  2.x, the manifest connector, per partition:
      {"states": [{"partition": {"id": "<id>", "parent_slice": {...}}, "cursor": {"updated_time": "1700000000"}}],
       "state": {"updated_time": "1700000000"}, "lookback_window": 1, "use_global_cursor": false, "parent_state": ...}
    The partition's `id` is the stream's parent (an ad account, a board), or for analytics the campaign, ad group or
    ad itself, whose `parent_slice` chain leads up to the ad account.
Flat states are already ours (a flat value serves every parent). A 2.x state becomes our per-parent state: each of
its partitions is walked up its parent chain to our partition keys (outermost first), several of its partitions on
one of ours keep the oldest cursor so that nothing is skipped, epochs saved as text become numbers, and the global
`state` becomes the flat fallback; nothing else of the old shape is kept. A full-refresh stream's state that holds
a cursor, ours or theirs (boards and pins were incremental on created_at), is dropped with one line naming it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airbyte_cdk.models import (
    AirbyteStateMessage,
    AirbyteStateMessageSerializer,
    AirbyteStateType,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    FailureType,
)
from airbyte_cdk.sources.streams.checkpoint.checkpoint_reader import FULL_REFRESH_COMPLETE_STATE
from airbyte_cdk.sources.streams.core import NO_CURSOR_STATE_KEY
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.sync.state import PASS_GENERATION

logger = logging.getLogger("airbyte")


def input_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def _json_file(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except OSError as error:
        raise input_error(f"The {what} file {path} cannot be read: {error.strerror or error}.") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise input_error(
            f"The {what} file {path} is not valid JSON ({error}). Pass the file the platform saved."
        ) from None


def _problem(error: Exception) -> str:
    """The first line of a serializer's complaint: it names the missing or mistyped field."""
    return " ".join(str(error).split())[:300]


# -- state ---------------------------------------------------------------------------------------------------------


def read_state_file(path: str) -> list[AirbyteStateMessage]:
    """Per-stream state messages from the file: a list of messages, one message, or the legacy object that maps each
    stream name to its state (converted, as older Airbyte versions wrote it). Anything else is a config error."""
    content = _json_file(path, "state")
    if content in (None, [], {}):
        return []
    if isinstance(content, dict) and "type" not in content:
        return _legacy_messages(path, content)
    items = content if isinstance(content, list) else [content]
    messages = []
    for index, item in enumerate(items):
        where = f"The state file {path}, message {index}"
        if not isinstance(item, dict):
            raise input_error(f"{where} is a JSON {type(item).__name__}, not an object.")
        try:
            message = AirbyteStateMessageSerializer.load(item)
        except Exception as error:  # the serializer raises several types; each means a malformed message
            raise input_error(f"{where} is not an Airbyte state message: {_problem(error)}") from None
        if message.type == AirbyteStateType.GLOBAL or (message.stream is None and message.data is None):
            raise input_error(
                f"{where} is not a per-stream state (type {message.type}); this connector saves one per stream."
            )
        if message.stream is None:  # a LEGACY message: its data is the old object form
            messages += _legacy_messages(path, message.data or {})
        else:
            messages.append(message)
    return messages


def _legacy_messages(path: str, streams: Mapping[str, Any]) -> list[AirbyteStateMessage]:
    messages = []
    for name, stream_state in streams.items():
        if stream_state is not None and not isinstance(stream_state, dict):
            raise input_error(
                f"The state file {path} maps stream {name!r} to a JSON {type(stream_state).__name__}; a stream's "
                "state is an object."
            )
        messages.append(
            AirbyteStateMessageSerializer.load(
                {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": stream_state or {}}}
            )
        )
    return messages


@dataclass(frozen=True)
class StateLayout:
    """What a stream's state is keyed by: its partition keys, outermost parent first (none for a stream without
    parents), and its cursor field (None for a full-refresh stream)."""

    partition_keys: tuple[str, ...]
    cursor_field: str | None


def in_our_shape(
    messages: Sequence[AirbyteStateMessage], layouts: Mapping[str, StateLayout], now: dt.datetime
) -> list[AirbyteStateMessage]:
    """The incoming per-stream states, each mapped onto our shape and with its future cursors brought back to now."""
    out = []
    for message in messages:
        stream = message.stream
        layout = layouts.get(stream.stream_descriptor.name) if stream is not None else None
        if stream is None or layout is None or stream.stream_state is None:
            out.append(message)
            continue
        name = stream.stream_descriptor.name
        saved = stream.stream_state.__dict__
        cursors = saved_cursor_fields(saved) if layout.cursor_field is None else []
        if cursors:
            # A stream that was incremental once (boards and pins, on created_at) and is full refresh only now.
            logger.info(
                f"Stream {name} is full refresh only: its saved {', '.join(cursors)} state, from an incremental "
                f"sync, is ignored and every record is read."
            )
            ours: dict = {}
        else:
            ours = from_airbyte_connector(saved, layout.partition_keys, layout.cursor_field)
            ours = clamp_future_cursors(name, ours, now)
        stream_message = {"stream_descriptor": {"name": name, "namespace": stream.stream_descriptor.namespace}}
        out.append(
            AirbyteStateMessageSerializer.load({"type": "STREAM", "stream": {**stream_message, "stream_state": ours}})
        )
    return out


# What a state holds besides cursor values: the CDK's full refresh marks, the 2.x shape's bookkeeping, our generation.
NOT_CURSORS = frozenset(
    {"states", "state", "parent_state", "lookback_window", "use_global_cursor", NO_CURSOR_STATE_KEY, PASS_GENERATION}
    | set(FULL_REFRESH_COMPLETE_STATE)
)


def saved_cursor_fields(state: Mapping[str, Any]) -> list[str]:
    """The cursor fields a state holds values of, flat, as 2.x's global `state` or in a partition's cursor."""
    entries = state.get("states")
    listed = entries if isinstance(entries, list) else []
    cursors = [state, state.get("state"), *(entry.get("cursor") for entry in listed if isinstance(entry, dict))]
    return sorted({key for cursor in cursors if isinstance(cursor, dict) for key in cursor} - NOT_CURSORS)


def from_airbyte_connector(state: Mapping[str, Any], partition_keys: Sequence[str], cursor_field: str | None) -> dict:
    """Our state for one stream from a state in any shape Airbyte's connector saved (ours passes through)."""
    entries = state.get("states")
    airbyte_partitions = isinstance(entries, list) and any(_is_airbyte_partition(e) for e in entries)
    if not airbyte_partitions and "use_global_cursor" not in state and "lookback_window" not in state:
        return dict(state)
    if cursor_field is None:
        return {}  # a full-refresh stream: its old progress names no parent of ours, so a new pass begins
    ours: dict[str, Any] = {}
    fallback = _number_if_epoch(
        ((state.get("state") or {}) if isinstance(state.get("state"), dict) else {}).get(cursor_field)
    )
    if fallback is None:
        fallback = _number_if_epoch(state.get(cursor_field))
    partitions: dict[str, tuple[dict, Any]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        value = _number_if_epoch((entry.get("cursor") or {}).get(cursor_field))
        partition = _our_partition(entry.get("partition") or {}, partition_keys)
        if value is None or partition is None:
            continue  # no cursor of ours, or no parent we can name: that parent is read from the start
        key = json.dumps(partition, sort_keys=True)
        kept = partitions.get(key)
        partitions[key] = (partition, value if kept is None else _earlier(kept[1], value))
    if partitions and partition_keys:
        ours["states"] = [{"partition": p, "cursor": {cursor_field: v}} for p, v in partitions.values()]
    elif partitions:  # a stream of ours without parents: the oldest of the old partitions
        fallback = min((v for _, v in partitions.values()), key=_sort_key) if fallback is None else fallback
    if fallback is not None:
        ours[cursor_field] = fallback
    return ours


def _is_airbyte_partition(entry: Any) -> bool:
    partition = entry.get("partition") if isinstance(entry, dict) else None
    return isinstance(partition, dict) and "id" in partition and ("parent_slice" in partition or len(partition) == 1)


def _our_partition(partition: Mapping[str, Any], keys: Sequence[str]) -> dict | None:
    chain = []  # the ids from the partition itself up to its outermost parent
    node: Any = partition
    while isinstance(node, dict) and node.get("id") is not None:
        chain.append(str(node["id"]))
        node = node.get("parent_slice")
    outermost_first = chain[::-1]
    if len(outermost_first) < len(keys):
        return None
    return dict(zip(keys, outermost_first, strict=False))


def _number_if_epoch(value: Any) -> Any:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _earlier(a: Any, b: Any) -> Any:
    try:
        return b if b < a else a
    except TypeError:
        return a


# -- cursors in the future -----------------------------------------------------------------------------------------


def clamp_future_cursors(stream: str, state: Mapping[str, Any], now: dt.datetime) -> dict:
    """The state with every cursor later than `now` set to now, and one warning naming the stream when any was.

    A cursor in the future (a clock gone wrong, a hand-edited state) would otherwise filter out every record, sync
    after sync, without a word."""
    clamped: list[Any] = []

    def fix(value: Any) -> Any:
        later = _later_than(value, now)
        if later is None:
            return value
        clamped.append(value)
        return later

    out = dict(state)
    for field, value in state.items():
        if field != "states":
            out[field] = fix(value)
    if isinstance(state.get("states"), list):
        out["states"] = [
            {**entry, "cursor": {k: fix(v) for k, v in (entry.get("cursor") or {}).items()}}
            if isinstance(entry, dict) and isinstance(entry.get("cursor"), dict)
            else entry
            for entry in state["states"]
        ]
    if clamped:
        logger.warning(
            f"Stream {stream}: {len(clamped)} saved cursor value(s) lie in the future (e.g. {clamped[0]!r}); "
            f"reading as if they were now ({now.isoformat(timespec='seconds')})."
        )
    return out


def _later_than(value: Any, now: dt.datetime) -> Any:
    """`value` expressed as now, in its own format, if it is a time after now; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(now.timestamp()) if value > now.timestamp() else None
    if not isinstance(value, str):
        return None
    if value.isdigit():
        return str(int(now.timestamp())) if int(value) > now.timestamp() else None
    if len(value) == 10:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return None
        return now.date().isoformat() if day > now.date() else None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    if aware <= now:
        return None
    utc_now = now.astimezone(dt.UTC).replace(microsecond=0)
    if value.endswith("Z"):
        return utc_now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (utc_now if moment.tzinfo else utc_now.replace(tzinfo=None)).isoformat()


# -- catalog -------------------------------------------------------------------------------------------------------


def read_catalog_file(path: str) -> ConfiguredAirbyteCatalog:
    content = _json_file(path, "catalog")
    if not isinstance(content, dict):
        raise input_error(
            f"The catalog file {path} is a JSON {type(content).__name__}, not a configured catalog object."
        )
    if not isinstance(content.get("streams"), list):
        raise input_error(
            f"The catalog file {path} has no 'streams' list; pass the configured catalog of the connection."
        )
    for index, configured in enumerate(content["streams"]):
        missing = [
            field
            for field in ("stream", "sync_mode", "destination_sync_mode")
            if not isinstance(configured, dict) or field not in configured
        ]
        stream = configured.get("stream") if isinstance(configured, dict) else None
        if isinstance(stream, dict):
            missing += [f"stream.{field}" for field in ("name", "json_schema") if field not in stream]
        if missing:
            raise input_error(f"The catalog file {path}, stream {index}, lacks {', '.join(missing)}.")
    try:
        return ConfiguredAirbyteCatalogSerializer.load(content)
    except Exception as error:  # the serializer raises several types; each means a malformed catalog
        raise input_error(f"The catalog file {path} is not a configured catalog: {_problem(error)}") from None
