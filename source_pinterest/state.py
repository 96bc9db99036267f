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
        self._committed: dict[str, tuple[Partition, Any]] = {}
        self._pending: dict[str, Any] = {}
        self._fallback: Any = None

    # -- state in --------------------------------------------------------------------------------------------
    def set_state(self, state: Optional[Mapping[str, Any]]) -> None:
        self._committed, self._pending, self._fallback = {}, {}, None
        if not state:
            return
        for entry in state.get("states") or []:
            partition = entry.get("partition") or {}
            value = (entry.get("cursor") or {}).get(self.cursor_field)
            if value is not None:
                self._committed[partition_key(partition)] = (dict(partition), value)
        if self.cursor_field in state:
            self._fallback = state[self.cursor_field]

    def start_of(self, partition: Partition) -> Any:
        """The saved cursor of this parent; None (read everything) for a parent never synced before."""
        if not self.partitioned:
            return self._fallback
        committed = self._committed.get(partition_key(partition))
        return committed[1] if committed else self._fallback

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
        key = partition_key(partition)
        self._pending[key] = _later(self._pending.get(key), record.get(self.cursor_field))

    def close(self, partition: Partition) -> None:
        """The parent's listing is complete: its cursor may advance to the latest value seen."""
        key = partition_key(partition)
        seen = self._pending.pop(key, None)
        latest = _later(self.start_of(partition), seen)
        if latest is None:
            return
        if self.partitioned:
            self._committed[key] = (dict(partition), latest)
        else:
            self._fallback = latest

    # -- state out -------------------------------------------------------------------------------------------
    def get_state(self) -> MutableMapping[str, Any]:
        if not self.partitioned:
            return {self.cursor_field: self._fallback} if self._fallback is not None else {}
        states = [
            {"partition": dict(partition), "cursor": {self.cursor_field: value}}
            for partition, value in self._committed.values()
        ]
        # An inherited flat value is not carried on: a parent that appears later must be read from the start.
        return {"states": states}
