"""What every stream of one sync shares: parsed config, base URL, authenticator, request budget, parent listings,
the readiness of recent ads metrics."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from airbyte_cdk.sources.streams.call_rate import APIBudget

from source_pinterest.config import PinterestConfig
from source_pinterest.http.auth import PinterestAuthenticator
from source_pinterest.metrics.readiness import MetricsReadiness

Record = Mapping[str, Any]


class ParentListings:
    """Each parent (ad accounts, boards, sections, ad groups) is listed from the API at most once per sync.

    Whoever needs a parent listing first - the parent stream's own sync or a child's slices - triggers it;
    everyone else replays the records kept here. Only parent streams and the metrics' id listings are kept, and only
    for one sync. A kept listing holds just the fields its readers use (`fields`): memory grows with the number of
    parents by a few fields, not by whole records (thousands of ad groups, tens of thousands of ads). The exception
    is a partition a child listed before the stream of that listing, selected in this sync (`replayed`), read it:
    that stream replays it as its own records, so it is kept whole until then (`replayed_partition`).

    A listing kept only for one reader stream (`only_for`, e.g. the pins of pin_analytics) is never kept whole: its
    own stream lists its records again if that reader listed them first (start_order makes it list them first), and
    nothing of it is kept when the reader is not selected (`unused`). Of each of its records it keeps what the
    reader's `compact` function returns, if it has one (tens of thousands of pins)."""

    def __init__(
        self, fields: Mapping[str, frozenset[str]] | None = None, only_for: Mapping[str, str] | None = None
    ) -> None:
        self._records: dict[str, dict[str, list[Record]]] = {}
        self._complete: set[str] = set()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.fields: Mapping[str, frozenset[str]] = fields or {}
        self.only_for: Mapping[str, str] = only_for or {}  # listing -> the one stream it is kept for
        self.compact: Mapping[str, Callable[[Record], Any]] = {}  # listing -> what its one reader keeps of a record
        self.replayed: set[str] = set()  # listings kept whole until their own stream is done (stream_done)
        self.unused: set[str] = set()  # listings kept for a stream this read does not emit: not kept

    def select(self, streams: Iterable[str]) -> None:
        """The streams this read emits: which listings stay whole until replayed, which are not kept at all."""
        selected = set(streams)
        self.replayed = {name for name in selected if name in self.fields and name not in self.only_for}
        self.unused = {listing for listing, reader in self.only_for.items() if reader not in selected}

    def start_order(self, stream: str) -> int:
        """0 for a stream whose listing is kept for another selected stream, so that it lists it for both; else 1."""
        return 0 if stream in self.only_for and stream not in self.unused else 1

    def _lock(self, stream: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(stream, threading.Lock())

    def lock_for(self, stream: str, partition_key: str) -> threading.Lock:
        """Held while one partition is listed, so a stream read in another worker waits and replays, never re-lists."""
        return self._lock(f"{stream}\x00{partition_key}")

    def cached(self, stream: str, partition_key: str) -> list[Record] | None:
        return self._records.get(stream, {}).get(partition_key)

    def keeper(self, stream: str, for_replay: bool = True) -> Callable[[Record], Any]:
        """What is kept of each record of this listing, from now on: whole when it is listed for a stream that is
        still to replay it (`for_replay`: a child listed it), else the fields its readers use."""
        fields = self.fields.get(stream)
        if fields is None or (for_replay and stream in self.replayed):
            return lambda record: record
        if stream in self.compact:
            return self.compact[stream]
        return lambda record: {field: record[field] for field in fields if field in record}

    def replayed_partition(self, stream: str, partition_key: str) -> None:
        """The stream of this listing emitted one kept partition: from now on keep only what readers use of it."""
        keep = self.keeper(stream, for_replay=False)
        with self._guard:
            listing = self._records.get(stream, {})
            if partition_key in listing:
                listing[partition_key] = [keep(record) for record in listing[partition_key]]

    def store(self, stream: str, partition_key: str, records: list[Record]) -> None:
        with self._guard:  # other threads may be copying this listing out (all_records)
            self._records.setdefault(stream, {})[partition_key] = records

    def stream_done(self, stream: str) -> None:
        """The stream that replays this listing as its own records has been read: keep only what readers use."""
        with self._guard:
            if stream not in self.replayed:
                return
            self.replayed.discard(stream)
        keep = self.keeper(stream, for_replay=False)
        with self._guard:
            listing = self._records.get(stream, {})
            for key, records in list(listing.items()):
                listing[key] = [keep(record) for record in records]

    def all_records(self, stream: str, list_everything: Callable[[], Iterable[Record]]) -> list[Any]:
        """Every record of a parent stream, listing it through `list_everything` if no one has yet (of a listing kept
        for one reader, what its `compact` function kept)."""
        with self._lock(stream):
            if stream not in self._complete:
                for _ in list_everything():
                    pass  # listing fills the cache partition by partition
                self._complete.add(stream)
        with self._guard:  # a copy: the listings of other partitions and streams go on being stored
            return [record for records in self._records.get(stream, {}).values() for record in records]


@dataclass
class SyncContext:
    config: PinterestConfig
    raw_config: MutableMapping[str, Any]
    base_url: str
    authenticator: PinterestAuthenticator
    api_budget: APIBudget
    parents: ParentListings = field(default_factory=ParentListings)
    streams: dict[str, Any] = field(default_factory=dict)  # name -> stream, so children can find their parents
    # Entity listings that are not streams, e.g. campaigns of every status for the analytics id batches.
    listings: dict[str, Any] = field(default_factory=dict)
    readiness: MetricsReadiness = field(default_factory=MetricsReadiness)  # which recent days are final

    def records_of(self, name: str, all_statuses: bool = False) -> list[Record]:
        """Every record of an entity stream in this sync (listed once, then replayed)."""
        return self._kept(self.listings[name] if all_statuses else self.streams[name])

    def compact_records_of(self, name: str) -> list[Any]:
        """What a listing kept for one reader holds of each record (ParentListings.compact), e.g. (id, day) of pins."""
        return self._kept(self.streams[name])

    def _kept(self, stream: Any) -> list[Any]:
        return self.parents.all_records(stream.listing_name, stream.list_everything)
