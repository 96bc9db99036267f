"""Incremental state, kept per parent (ad account, board, section ...): read, compare, advance and serialize.

Pinterest lists have no updated-since filter and sort by id, so a stream reads every page and keeps the records
whose cursor is at or after the parent's saved value. The parent's cursor only advances once its whole listing
has been read, which makes out-of-order updates and interrupted syncs safe.

State shapes (the same as Airbyte's Pinterest connector, so connections migrate without a reset):
  parentless stream:  {"updated_time": 1700000000}
  per-parent stream:  {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"updated_time": 1700000000}}]}
A per-parent stream given a flat state (an older connector version) uses that value for every parent.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, MutableMapping, Optional

Partition = Mapping[str, Any]


def partition_key(partition: Partition) -> str:
    return json.dumps(dict(partition), sort_keys=True)


def _later(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    try:
        return b if b > a else a
    except TypeError:
        return a


class PerParentCursor:
    def __init__(self, cursor_field: str, partitioned: bool) -> None:
        self.cursor_field = cursor_field
        self.partitioned = partitioned
        # partition key -> its entry in the emitted state; an entry is replaced on change, never edited.
        self._committed: dict[str, Mapping[str, Any]] = {}
        self._pending: dict[str, Any] = {}
        self._fallback: Any = None
        # The CDK reads `state` after every record; it only changes when a parent closes, so it is built then.
        self._state_out: Optional[MutableMapping[str, Any]] = None
        # observe/is_new get the same slice object for every record of a listing: its key is computed once.
        self._last_partition: Optional[Partition] = None
        self._last_key = ""

    def _key(self, partition: Partition) -> str:
        if partition is not self._last_partition:
            self._last_partition, self._last_key = partition, partition_key(partition)
        return self._last_key

    # -- state in --------------------------------------------------------------------------------------------
    def set_state(self, state: Optional[Mapping[str, Any]]) -> None:
        self._committed, self._pending, self._fallback = {}, {}, None
        self._state_out = None
        if not state:
            return
        for entry in state.get("states") or []:
            partition = entry.get("partition") or {}
            value = (entry.get("cursor") or {}).get(self.cursor_field)
            if value is not None:
                self._committed[partition_key(partition)] = self._entry(partition, value)
        if self.cursor_field in state:
            self._fallback = state[self.cursor_field]

    def start_of(self, partition: Partition) -> Any:
        """The saved cursor of this parent; None (read everything) for a parent never synced before."""
        if not self.partitioned:
            return self._fallback
        committed = self._committed.get(self._key(partition))
        return committed["cursor"][self.cursor_field] if committed else self._fallback

    def is_new(self, partition: Partition, record: Mapping[str, Any]) -> bool:
        value = record.get(self.cursor_field)
        start = self.start_of(partition)
        if value is None or start is None:
            return True
        try:
            return value >= start
        except TypeError:
            return True  # values of another type than the state's: never drop a record on a type mismatch

    # -- progress --------------------------------------------------------------------------------------------
    def observe(self, partition: Partition, record: Mapping[str, Any]) -> None:
        key = self._key(partition)
        self._pending[key] = _later(self._pending.get(key), record.get(self.cursor_field))

    def close(self, partition: Partition) -> None:
        """The parent's listing is complete: its cursor may advance to the latest value seen."""
        key = self._key(partition)
        seen = self._pending.pop(key, None)
        latest = _later(self.start_of(partition), seen)
        if latest is None:
            return
        self._state_out = None
        if self.partitioned:
            self._committed[key] = self._entry(partition, latest)
        else:
            self._fallback = latest

    # -- state out -------------------------------------------------------------------------------------------
    def get_state(self) -> MutableMapping[str, Any]:
        """The committed state; the same object until a parent closes or the state is set (never edited in place)."""
        if self._state_out is None:
            self._state_out = self._build_state()
        return self._state_out

    def _build_state(self) -> MutableMapping[str, Any]:
        if not self.partitioned:
            return {self.cursor_field: self._fallback} if self._fallback is not None else {}
        # An inherited flat value is not carried on: a parent that appears later must be read from the start.
        return {"states": list(self._committed.values())}

    def _entry(self, partition: Partition, value: Any) -> Mapping[str, Any]:
        return {"partition": dict(partition), "cursor": {self.cursor_field: value}}
