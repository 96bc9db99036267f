"""Incremental state, kept per parent (ad account, board, section ...): read, compare, advance and serialize.

Pinterest lists have no updated-since filter and sort by id, so a stream reads every page and keeps the records
whose cursor is at or after the parent's saved value. The parent's cursor only advances once its whole listing
has been read, which makes out-of-order updates and interrupted syncs safe.

State shapes (the same as Airbyte's Pinterest connector, so connections migrate without a reset):
  parentless stream:  {"updated_time": 1700000000}
  per-parent stream:  {"states": [{"partition": {"ad_account_id": "1"}, "cursor": {"updated_time": 1700000000}}]}
A per-parent stream given a flat state (an older connector version) uses that value for every parent.

Two more cursors build on this, for resumed attempts (a sync killed or capped is started again from its last state):
  PassCursor (metrics): a partition whose pass (look-back included) is under way carries where that pass began and
    how far it got, {"partition": ..., "cursor": {"DATE": d}, "pass_start": d0, "pass_done_through": d1}, plus
    "pass_window": {"end": e, "ids_done_through": i} when the id batches of the window ending on e are done up to
    id i, and "pass_not_ready_from": d when a day d read in this pass was not final yet (organic data_status
    PROCESSING, ESTIMATE); a resumed attempt continues from there. The cursor never passes a day that was not
    final: the pass commits at most the day before it, so the next sync reads it again whatever its look-back. An
    entry without those keys (every state written before they existed, too) is a completed pass. The stream's state also names the sync generation its passes belong to,
    "pass_generation" (see `read_generation`): while a generation begun today is unfinished in some metrics stream,
    a read is a resumed attempt and completed partitions read nothing; otherwise every partition begins a new pass.
  ParentsDoneCursor (full refresh with parents): the CDK's resumable full refresh for substreams, i.e.
    {"states": [{"partition": ..., "cursor": {"__ab_full_refresh_sync_complete": true}}]} while a pass is under
    way, and {"__ab_full_refresh_sync_complete": true} once every parent is done, after which the next read
    starts over.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any, TypeVar

from airbyte_cdk.sources.streams.checkpoint import Cursor
from airbyte_cdk.sources.streams.checkpoint.checkpoint_reader import FULL_REFRESH_COMPLETE_STATE
from airbyte_cdk.sources.types import Record, StreamSlice

Partition = Mapping[str, Any]
logger = logging.getLogger("airbyte")
T = TypeVar("T")


def partition_key(partition: Partition) -> str:
    return json.dumps(dict(partition), sort_keys=True)


def _locked(method: Callable[..., T]) -> Callable[..., T]:
    """The method runs holding the cursor's lock (see PerParentCursor._lock)."""

    @functools.wraps(method)
    def locked(self: Any, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


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
        self._state_out: MutableMapping[str, Any] | None = None
        # observe/is_new get the same slice object for every record of a listing: its key is computed once per
        # thread (the partitions of a stream are read in several threads at once).
        self._last = threading.local()
        # Held while the entries change or the state is built from them: partitions close in several threads.
        self._lock = threading.RLock()

    def _key(self, partition: Partition) -> str:
        last = self._last
        if getattr(last, "partition", None) is not partition:
            last.partition, last.key = partition, partition_key(partition)
        return last.key

    # -- state in --------------------------------------------------------------------------------------------
    @_locked
    def set_state(self, state: Mapping[str, Any] | None) -> None:
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
        value = committed["cursor"].get(self.cursor_field) if committed else None
        return self._fallback if value is None else value

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

    @_locked
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
    @_locked
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


PASS_START, PASS_DONE_THROUGH, PASS_WINDOW = "pass_start", "pass_done_through", "pass_window"
PASS_NOT_READY_FROM = "pass_not_ready_from"
PASS_GENERATION = "pass_generation"
(FULL_REFRESH_COMPLETE_KEY,) = FULL_REFRESH_COMPLETE_STATE


def id_order(entity_id: str) -> tuple[int, str]:
    """Pinterest's numeric ids in numeric order (shorter is smaller), so "done through id X" survives a re-listing."""
    return len(entity_id), entity_id


def in_id_order(ids: Iterable[str]) -> list[str]:
    """The distinct ids sorted by id_order, without its key tuple per id (the 60,000 pins of a large account)."""
    ordered = sorted(set(ids))
    ordered.sort(key=len)  # stable: by text within a length
    return ordered


# A generation begun less than this long ago is taken as still being synced even when every metrics stream has
# finished it: the entity streams of the same sync may not have (their state does not say), and Airbyte starts the
# next attempt within minutes. A sync scheduled more often than this re-reads no metrics in between.
RESUME_WINDOW = dt.timedelta(hours=1)


def read_generation(states: Iterable[Mapping[str, Any] | None], now: dt.datetime) -> tuple[str, bool]:
    """The sync generation a read belongs to, given the saved states of the metrics streams it reads incrementally,
    and whether it resumes that generation (an attempt started again after a kill or a daily cap) or begins one.

    Airbyte gives an attempt the same kind of state as a new sync, so the states themselves tell: the newest
    generation in them is resumed while it began today and either some stream has not finished it (no state yet,
    an older generation, or a pass under way) or it began less than RESUME_WINDOW ago. Otherwise the last sync
    finished, and this one begins a generation named by `now` (UTC, to the second)."""
    states = list(states)
    current = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    newest = max((str(s[PASS_GENERATION]) for s in states if s and s.get(PASS_GENERATION)), default=None)
    began = _parsed_generation(newest)
    if newest is None or began is None or began.date() != now.date():
        return current, False
    unfinished = any(not s or s.get(PASS_GENERATION) != newest or _pass_under_way_in(s) for s in states)
    return (newest, True) if unfinished or now - began < RESUME_WINDOW else (current, False)


def resumes_a_pass(
    metrics_states: Iterable[Mapping[str, Any] | None],
    full_refresh_states: Iterable[Mapping[str, Any] | None],
    generation: str,
) -> bool:
    """Some stream's pass of this generation is under way (a metrics partition's, or a full refresh that has not
    reached its last parent): the firm sign of an attempt started again, which RESUME_WINDOW alone is not. Only then
    does a full refresh that completed its pass in the generation read nothing (ParentsDoneCursor)."""

    def of_generation(states: Iterable[Mapping[str, Any] | None]) -> list[Mapping[str, Any]]:
        return [s for s in states if s and s.get(PASS_GENERATION) == generation]

    return any(_pass_under_way_in(s) for s in of_generation(metrics_states)) or any(
        map(full_refresh_under_way, of_generation(full_refresh_states))
    )


def full_refresh_under_way(state: Mapping[str, Any]) -> bool:
    """A resumable full refresh's state from a pass that has not reached its last parent."""
    return not state.get(FULL_REFRESH_COMPLETE_KEY)


def _parsed_generation(value: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _pass_under_way_in(state: Mapping[str, Any]) -> bool:
    entries = state.get("states") if "states" in state else [state]
    return any(isinstance(e, Mapping) and e.get(PASS_START) for e in entries or ())


class PassCursor(PerParentCursor):
    """PerParentCursor for date-windowed metrics: progress is committed per window (and per id batch inside a
    window), and a pass is resumable.

    A pass is what one sync reads of a partition: from the look-back start (or the configured start) to the day it
    began. While it is under way its entry says where it began and the last day (and id) done; the cursor value
    itself is the latest day ever read, as before, so older connector versions still read the state."""

    def __init__(self, cursor_field: str, partitioned: bool) -> None:
        self._passes: dict[str, tuple[str, str]] = {}  # partition key -> (pass_start, pass_done_through)
        self._windows: dict[str, tuple[str, str]] = {}  # partition key -> (window end, last id done in it)
        self._planned: dict[str, tuple[str, str]] = {}  # partition key -> (start, end) of this process's pass
        self._not_ready: dict[str, str] = {}  # partition key -> the first day of the pass whose data was not final
        self._saved_generation: str | None = None
        self.generation: str | None = None  # set by the source for the whole read (read_generation)
        self.resuming = False
        super().__init__(cursor_field, partitioned)

    @_locked
    def set_state(self, state: Mapping[str, Any] | None) -> None:
        self._passes, self._windows, self._planned, self._not_ready = {}, {}, {}, {}
        self._saved_generation = (state or {}).get(PASS_GENERATION)
        entries = (state or {}).get("states") or [] if self.partitioned else [{"partition": {}, **(state or {})}]
        marked: list[Mapping[str, Any]] = []
        for entry in entries:
            if entry.get(PASS_START) and entry.get(PASS_DONE_THROUGH):
                key = partition_key(entry.get("partition") or {})
                self._passes[key] = (str(entry[PASS_START]), str(entry[PASS_DONE_THROUGH]))
                window = entry.get(PASS_WINDOW)
                if isinstance(window, Mapping) and window.get("end") and window.get("ids_done_through"):
                    self._windows[key] = (str(window["end"]), str(window["ids_done_through"]))
                if entry.get(PASS_NOT_READY_FROM):
                    self._not_ready[key] = str(entry[PASS_NOT_READY_FROM])
                marked.append(entry)
        super().set_state(state)  # builds the entries, pass markers included (see _entry)
        for entry in marked:  # a pass planned but with no cursor yet (a partition new in this pass)
            key = partition_key(entry.get("partition") or {})
            if self.partitioned and key not in self._committed:
                self._committed[key] = self._entry(entry.get("partition") or {}, None)

    def pass_under_way(self, partition: Partition) -> tuple[str, str] | None:
        """(first day, last day done) of this partition's unfinished pass; None if its last pass completed."""
        return self._passes.get(self._key(partition))

    def window_under_way(self, partition: Partition) -> tuple[str, str] | None:
        """(end day, last id done) of the window whose id batches are partly done, if any."""
        return self._windows.get(self._key(partition))

    def done_in_this_generation(self, partition: Partition) -> bool:
        """The partition completed its pass of the generation this read resumes: nothing is left to read."""
        key = self._key(partition)
        saved = key in self._committed if self.partitioned else self._fallback is not None
        return self.resuming and self._saved_generation == self.generation and saved and key not in self._passes

    @_locked
    def begin_pass(self, partition: Partition, start: str, end: str) -> None:
        """This process reads the partition's pass from `start` (its first day: the saved one if it is under way)
        to `end`; the pass completes when the window ending on `end` is done. The pass is marked under way from
        now on, so an attempt killed before its first window still continues it instead of paying a look-back."""
        key = self._key(partition)
        self._planned[key] = (start, end)
        if key not in self._passes:
            self._not_ready.pop(key, None)
            before_start = (dt.date.fromisoformat(start) - dt.timedelta(days=1)).isoformat()
            self._passes[key] = (start, before_start)
            self._commit(partition, self.start_of(partition))

    @_locked
    def batch_done(self, partition: Partition, window_end: str, last_id: str) -> None:
        """Every row of the window ending on `window_end` is emitted for the ids up to `last_id` (id_order)."""
        key = self._key(partition)
        self._windows[key] = (window_end, last_id)
        self._commit(partition, self.start_of(partition))

    @_locked
    def not_ready(self, partition: Partition, day: str) -> None:
        """A day read in this pass whose data is not final yet: the cursor stays before it (see window_done)."""
        key = self._key(partition)
        held = self._not_ready.get(key)
        if held is None or day < held:
            self._not_ready[key] = day
            if key in self._passes:
                self._commit(partition, self.start_of(partition))  # the marker goes out with the next state

    @_locked
    def window_done(self, partition: Partition, last_day: str) -> None:
        """Every row of the partition up to `last_day` is emitted: commit it, but never past a day that was not
        final (not_ready); the pass ends with its last window."""
        key = self._key(partition)
        planned_start, end = self._planned.get(key, (last_day, last_day))
        self._windows.pop(key, None)
        value = _later(self.start_of(partition), last_day)
        held = self._not_ready.get(key)
        if held is not None:
            value = min(value, (dt.date.fromisoformat(held) - dt.timedelta(days=1)).isoformat())
        if last_day < end:
            began = self._passes[key][0] if key in self._passes else planned_start
            self._passes[key] = (began, last_day)
        else:
            self._passes.pop(key, None)  # complete: the entry is the plain cursor again
            self._not_ready.pop(key, None)
        self._commit(partition, value)

    @_locked
    def close(self, partition: Partition) -> None:
        """Progress is committed window by window (window_done): nothing is left to do when the partition ends."""

    @_locked
    def keep(self, partition: Partition) -> None:
        """The partition reads nothing this time (its pass is complete): its cursor, perhaps inherited from a flat
        state, is committed as its own, so the state goes on saying how far it got."""
        key = self._key(partition)
        self._passes.pop(key, None)
        self._windows.pop(key, None)
        self._not_ready.pop(key, None)
        self._commit(partition, self.start_of(partition))

    @_locked
    def skip(self, partition: Partition) -> None:
        """The partition cannot be read (no access): its pass is dropped and its entry stays as it was saved, so
        the next sync tries it again from there and this pass is not left looking unfinished."""
        key = self._key(partition)
        self._passes.pop(key, None)
        self._windows.pop(key, None)
        self._not_ready.pop(key, None)
        self._state_out = None
        committed = self._committed.get(key)
        value = committed["cursor"].get(self.cursor_field) if committed else None
        if value is None:
            self._committed.pop(key, None)
        else:
            self._committed[key] = self._entry(partition, value)

    @_locked
    def _commit(self, partition: Partition, value: Any) -> None:
        self._state_out = None
        if self.partitioned:
            if value is not None or self._key(partition) in self._passes:
                self._committed[self._key(partition)] = self._entry(partition, value)
        elif value is not None:
            self._fallback = value

    def _build_state(self) -> MutableMapping[str, Any]:
        state = super()._build_state()
        if not self.partitioned:
            under_way = self._passes.get(partition_key({}))
            if under_way:
                state.update(self._markers(partition_key({})))
        if self.generation:
            state[PASS_GENERATION] = self.generation
        return state

    def _entry(self, partition: Partition, value: Any) -> Mapping[str, Any]:
        if value is None:
            entry: dict[str, Any] = {"partition": dict(partition), "cursor": {}}
        else:
            entry = dict(super()._entry(partition, value))
        entry.update(self._markers(partition_key(partition)))
        return entry

    def _markers(self, key: str) -> dict[str, Any]:
        under_way = self._passes.get(key)
        if not under_way:
            return {}
        markers: dict[str, Any] = {PASS_START: under_way[0], PASS_DONE_THROUGH: under_way[1]}
        window = self._windows.get(key)
        if window:
            markers[PASS_WINDOW] = {"end": window[0], "ids_done_through": window[1]}
        if key in self._not_ready:
            markers[PASS_NOT_READY_FROM] = self._not_ready[key]
        return markers


class ParentsDoneCursor(Cursor):
    """The CDK's resumable full refresh cursor for a stream read per parent, with an end to the pass.

    Each parent is closed once its listing is emitted; a resumed attempt skips the closed ones. When the last parent
    of the pass closes, the state becomes the CDK's "sync complete" value, and a read that starts from it starts a
    new pass over every parent (the CDK's own substream cursor never says the pass is over), unless it is an attempt
    of the same sync generation started again while some pass of it is still under way (`resumes_a_pass`): then the
    completed pass is not read again (Airbyte keeps every attempt's records of a sync), which is what lets a chain
    of attempts capped or killed in a long sync make progress. The state names its generation, "pass_generation"."""

    def __init__(self, stream_name: str = "") -> None:
        self._stream_name = stream_name
        self._done: dict[str, Mapping[str, Any]] = {}
        self._planned: set[str] | None = None
        self._complete = False
        self._done_in_this_generation = False
        self._lock = threading.Lock()
        self.generation: str | None = None  # set by the source for the whole read (read_generation)
        self.resumes_a_pass = False

    def join_generation(self, generation: str, resumes_a_pass: bool) -> None:
        """The sync generation of this read, and whether it resumes a pass of it, before the CDK sets the state."""
        self.generation, self.resumes_a_pass = generation, resumes_a_pass

    # -- state in --------------------------------------------------------------------------------------------
    def set_initial_state(self, stream_state: Mapping[str, Any] | None) -> None:
        # The CDK sets the state again after it has drawn the first slices (which planned the pass): the plan stays.
        state = stream_state or {}
        with self._lock:
            self._done = {}
            for entry in state.get("states") or []:
                if (entry.get("cursor") or {}) == FULL_REFRESH_COMPLETE_STATE:
                    partition = dict(entry.get("partition") or {})
                    self._done[partition_key(partition)] = {"partition": partition, "cursor": dict(entry["cursor"])}
            self._done_in_this_generation = (
                self.resumes_a_pass
                and self.generation is not None
                and state.get(PASS_GENERATION) == self.generation
                and state.get(FULL_REFRESH_COMPLETE_KEY) is True
            )
            self._complete = self._done_in_this_generation or (
                self._planned is not None and self._planned <= set(self._done)
            )

    def to_read(self, partitions: Iterable[Partition]) -> list[Partition]:
        """The parents of this pass not closed yet, in order; the pass is complete at once if there are none, or
        if an earlier attempt of this sync completed it."""
        if self._done_in_this_generation:
            logger.info(
                f"Stream {self._stream_name}: an earlier attempt of this sync read it whole (sync generation "
                f"{self.generation}); nothing is read again."
            )
            pending: list[Partition] = []
        else:
            pending = [p for p in partitions if partition_key(p) not in self._done]
        with self._lock:
            self._planned = {partition_key(p) for p in pending}
            if not pending:
                self._complete = True
        return pending

    # -- progress --------------------------------------------------------------------------------------------
    def observe(self, stream_slice: StreamSlice, record: Record) -> None:
        """Progress is per parent (close_slice), not per record."""

    def close_slice(self, stream_slice: StreamSlice, *args: Any) -> None:
        partition = dict(stream_slice.partition)
        key = partition_key(partition)
        with self._lock:
            self._done[key] = {"partition": partition, "cursor": dict(FULL_REFRESH_COMPLETE_STATE)}
            if self._planned is not None and self._planned <= set(self._done):
                self._complete = True

    def should_be_synced(self, record: Record) -> bool:
        return True  # a full refresh keeps every record of the parents it reads

    def select_state(self, stream_slice: StreamSlice | None = None) -> Mapping[str, Any] | None:
        if self._complete:
            return FULL_REFRESH_COMPLETE_STATE
        done = self._done.get(partition_key(stream_slice.partition if stream_slice is not None else {}))
        return done["cursor"] if done else {}

    # -- state out -------------------------------------------------------------------------------------------
    def get_stream_state(self) -> MutableMapping[str, Any]:
        with self._lock:
            state: dict[str, Any] = (
                dict(FULL_REFRESH_COMPLETE_STATE) if self._complete else {"states": list(self._done.values())}
            )
        if self.generation:
            state[PASS_GENERATION] = self.generation
        return state
