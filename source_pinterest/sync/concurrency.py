"""The read: every selected stream through the CDK's concurrent framework, num_workers partitions at a time.

A stream's partitions are its slices: a parent (an ad account, a board, a section, an ad group), or for a metrics
stream an ad account, whose windows and id batches are read in order inside it (a pass is continued day after day,
see state.PassCursor). Partitions of every stream run side by side in the pool, under the shared rate budgets; a
parent listing that several streams need is listed once (context.ParentListings).

State. Each stream keeps its own checkpoint (state.py); it is emitted as partitions close (StreamCheckpoints), and
inside a metrics partition after every window or id batch (the stream yields CHECKPOINT there), through the CDK's
ConcurrentMessageRepository, i.e. on the queue that carries the records, behind every record the partition has
put there. A stream commits a partition only after its last record, so no state message ever covers a record that
has not been emitted before it: kill -9 anywhere, and the next attempt reads what is missing.

What the CDK's framework gives and what is ours: the pool, the queue, partition generation and reading, stream
statuses and the order of messages are the CDK's (ConcurrentSource, DefaultStream). Ours are the partitions (the
streams' slices, with failures named by failures.stream_failure instead of "An unexpected error occurred"), which
put their records on the queue in batches (BatchingConcurrentSource unpacks them), and the cursor, which hands the
CDK our per-parent and per-pass state instead of ConcurrentCursor's datetime ranges."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any, cast

from airbyte_cdk.models import AirbyteMessage, SyncMode
from airbyte_cdk.sources.concurrent_source.concurrent_read_processor import ConcurrentReadProcessor
from airbyte_cdk.sources.concurrent_source.concurrent_source import ConcurrentSource
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor, CursorField
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.streams.concurrent.partitions.partition_generator import PartitionGenerator
from airbyte_cdk.sources.streams.concurrent.partitions.types import QueueItem
from airbyte_cdk.sources.types import Record
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.streams.base import CHECKPOINT, PinterestStream
from source_pinterest.sync.progress import SyncProgress
from source_pinterest.sync.state import partition_key

# What a partition's failure becomes: the stream's error, or None once the stream has failed already (logged only).
Failed = Callable[[str, Exception], AirbyteTracedException | None]


# A stream's state lists every parent it has done (thousands of ad groups for keywords, ~190 kB of state), so one
# message per closed partition would be quadratic in bytes (540 MB for keywords on the large account). A state
# message goes out once at least 1/STATE_SHARES of the stream's entries are new since the last one, or
# STATE_MAX_SECONDS have passed: at most ~STATE_SHARES messages per stream, and no closed partition waits long.
STATE_SHARES = 50
STATE_MAX_SECONDS = 5.0


class StreamCheckpoints(Cursor):
    """The CDK's concurrent Cursor over one stream's own checkpoint: emits the stream's state as partitions close
    (see STATE_SHARES), at each CHECKPOINT and when the stream ends. Records are filtered and observed by the stream
    itself (PerParentCursor.is_new), which knows the partition they belong to."""

    def __init__(
        self,
        stream: PinterestStream,
        state_manager: ConnectorStateManager,
        repository: MessageRepository,
        on_done: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._state_manager = state_manager
        self._repository = repository
        self._on_done = on_done
        self._clock = clock
        self._lock = threading.Lock()
        self._closed_since_emitted = 0
        self._emitted_at = clock()

    @property
    def state(self) -> MutableMapping[str, Any]:
        return self._stream.state

    def observe(self, record: Record) -> None:
        """The stream observed the record already, with its partition."""

    def close_partition(self, partition: Partition) -> None:
        with self._lock:
            self._closed_since_emitted += 1
            state = self._stream.state
            entries = len(state.get("states") or ()) if isinstance(state.get("states"), list) else 0
            due = self._closed_since_emitted >= max(1, entries // STATE_SHARES)
            if due or self._clock() - self._emitted_at >= STATE_MAX_SECONDS:
                self._emit(state)

    def ensure_at_least_one_state_emitted(self) -> None:
        self.emit()
        self._on_done(self._stream.name)

    def should_be_synced(self, record: Record) -> bool:
        return True

    def emit(self) -> None:
        with self._lock:
            self._emit(self._stream.state)

    def _emit(self, state: Mapping[str, Any]) -> None:
        # Under the lock: the queue order of state messages is the order of the snapshots.
        self._state_manager.update_state_for_stream(self._stream.name, None, dict(state))
        self._repository.emit_message(self._state_manager.create_state_message(self._stream.name, None))
        self._closed_since_emitted = 0
        self._emitted_at = self._clock()


# Records a partition hands the main thread as one queue item. One item a record cost a Queue.put and .get with their
# locks, the CDK's isinstance chain over the item types and a Queue.empty, about a third of the CPU a record spends
# above a bare CDK source's; see BatchingConcurrentSource.
RECORDS_PER_BATCH = 10


class RecordBatch(list[Record]):
    """Records of one partition, in order, travelling the queue as one item."""


class BatchingConcurrentSource(ConcurrentSource):
    """The CDK's ConcurrentSource, unpacking RecordBatches into its own per-record handling (on_record: message,
    stream status, record count). `_handle_item` is private to the CDK (airbyte-cdk 7.x, pinned in pyproject.toml):
    ConcurrentSource offers no hook for the items its queue carries, and its PartitionReader puts each item that
    Partition.read yields on the queue as it is."""

    def _handle_item(
        self, queue_item: QueueItem, concurrent_stream_processor: ConcurrentReadProcessor
    ) -> Iterable[AirbyteMessage]:
        if type(queue_item) is RecordBatch:
            on_record = concurrent_stream_processor.on_record
            for record in queue_item:
                yield from on_record(record)
        else:
            yield from super()._handle_item(queue_item, concurrent_stream_processor)


class SlicePartition(Partition):
    """One slice of a stream, read by the stream's read_records in a worker thread."""

    def __init__(
        self,
        stream: PinterestStream,
        stream_slice: Mapping[str, Any],
        checkpoints: StreamCheckpoints,
        failed: Failed,
        reading_slots: threading.Semaphore,
    ) -> None:
        self._stream = stream
        self._slice = stream_slice
        self._checkpoints = checkpoints
        self._failed = failed
        self._reading_slots = reading_slots
        self._hash = hash((stream.name, partition_key(stream_slice)))

    def read(self) -> Iterable[Record]:
        """The slice's records in RecordBatches (see RecordBatch), each put on the queue as one item; typed as the
        CDK's Partition.read, whose reader passes every item on as it is. A batch goes out when full, before a
        checkpoint (whose state must follow the records it covers) and at the end of the slice. At most num_workers
        partitions are read at once (`reading_slots`), also when num_workers is 1 and the pool has a second thread
        to list partitions (source.py)."""
        with self._reading_slots:
            yield from self._read()

    def _read(self) -> Iterable[Record]:
        name = self._stream.name
        batch = RecordBatch()
        try:
            for item in self._stream.read_records(sync_mode=self._stream.sync_mode, stream_slice=self._slice):
                if item is CHECKPOINT:
                    if batch:
                        yield cast(Record, batch)
                        batch = RecordBatch()
                    self._checkpoints.emit()
                else:  # a record: our streams yield no other message, and an ABC isinstance costs ~1 us a record
                    batch.append(Record(data=cast(Mapping[str, Any], item), stream_name=name))
                    if len(batch) >= RECORDS_PER_BATCH:
                        yield cast(Record, batch)
                        batch = RecordBatch()
            if batch:
                yield cast(Record, batch)
        except Exception as error:
            # The records read before the failure go out first: the stream failed, its rows did not.
            if batch:
                yield cast(Record, batch)
            failure = self._failed(name, error)
            if failure is not None:
                raise failure from error

    def to_slice(self) -> Mapping[str, Any] | None:
        return self._slice

    def stream_name(self) -> str:
        return self._stream.name

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"SlicePartition({self._stream.name}, {self._slice})"


class SlicePartitions(PartitionGenerator):
    """A stream's slices as partitions, counted for the progress lines as they are made."""

    def __init__(
        self,
        stream: PinterestStream,
        checkpoints: StreamCheckpoints,
        failed: Failed,
        progress: SyncProgress,
        reading_slots: threading.Semaphore,
    ) -> None:
        self._stream = stream
        self._checkpoints = checkpoints
        self._failed = failed
        self._progress = progress
        self._reading_slots = reading_slots

    def generate(self) -> Iterable[Partition]:
        stream = self._stream
        try:
            for number, stream_slice in enumerate(
                stream.stream_slices(sync_mode=stream.sync_mode, stream_state=stream.state)
            ):
                if number == 0:
                    # The first state says what the read planned (a metrics stream's passes under way, a full
                    # refresh's generation), so that an attempt killed before any partition closes still tells the
                    # next one that a pass of this sync is under way (state.resumes_a_pass).
                    self._checkpoints.emit()
                self._progress.slice_started(stream.name)
                yield SlicePartition(
                    stream, dict(stream_slice or {}), self._checkpoints, self._failed, self._reading_slots
                )
        except Exception as error:
            failure = self._failed(stream.name, error)
            if failure is not None:
                raise failure from error


def concurrent_stream(
    stream: PinterestStream,
    sync_mode: SyncMode,
    state_manager: ConnectorStateManager,
    repository: MessageRepository,
    progress: SyncProgress,
    failed: Failed,
    on_done: Callable[[str], None],
    reading_slots: threading.Semaphore,
    logger: logging.Logger,
) -> DefaultStream:
    """The stream as the CDK's concurrent DefaultStream, its state set from the saved one; its partitions read in
    one of the `reading_slots` (num_workers of them, shared by every stream)."""
    stream.sync_mode = sync_mode
    stream.state = state_manager.get_stream_state(stream.name, None)
    checkpoints = StreamCheckpoints(stream, state_manager, repository, on_done)
    cursor_field = stream.cursor_field if isinstance(stream.cursor_field, str) else None
    primary_key = stream.primary_key
    keys = [primary_key] if isinstance(primary_key, str) else list(primary_key or [])
    return DefaultStream(
        partition_generator=SlicePartitions(stream, checkpoints, failed, progress, reading_slots),
        name=stream.name,
        json_schema=stream.get_json_schema,
        primary_key=keys,  # type: ignore[arg-type]  # our keys are flat field names
        cursor_field=None if cursor_field is None else CursorField(cursor_field),
        logger=logger,
        cursor=checkpoints,
    )
