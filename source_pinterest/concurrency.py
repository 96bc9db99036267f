"""Parallel reading that still hands records to the CDK in order: slices read ahead, and streams read side by side.

The CDK reads a stream's slices sequentially and emits state after each one. SlicePrefetcher (whole results, e.g.
report files) and StreamingPrefetcher (records, a bounded number ahead) fetch the next `workers` slices in background
threads while the current one is being emitted, so the per-parent requests (ad accounts, boards, sections, ad groups,
id batches) overlap, yet records, state and its ordering guarantee stay exactly those of a sequential read: a slice's
state is emitted only after all of its records. merge_in_threads reads several groups of streams at once."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from queue import Full, Queue
from typing import Any

Slice = Mapping[str, Any]


def slice_key(stream_slice: Slice | None) -> str:
    return json.dumps(dict(stream_slice or {}), sort_keys=True, default=str)


class SlicePrefetcher:
    """`close` (when the stream ends or fails) cancels the slices not started and hands results nobody will ask
    for to `discard` (e.g. temp files to delete), those still being fetched included once they finish; telling a
    running fetch to stop is the caller's part (report jobs watch an Event)."""

    def __init__(
        self,
        slices: Iterable[Slice],
        fetch: Callable[[Slice], Any],
        workers: int,
        discard: Callable[[Any], None] | None = None,
    ) -> None:
        self._pending: Iterator[Slice] = iter(slices)
        self._fetch = fetch
        self._discard = discard
        self._workers = max(1, workers)
        self._executor: ThreadPoolExecutor | None = None
        self._in_flight: OrderedDict[str, Future] = OrderedDict()

    def result_of(self, stream_slice: Slice) -> Any:
        """What `fetch` returned for this slice; slices must be asked for in the order `slices` yields them."""
        if self._workers == 1:
            return self._fetch(stream_slice)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="pinterest-slice")
        key = slice_key(stream_slice)
        self._fill()
        future = self._in_flight.pop(key, None)
        if future is None:  # asked out of order (should not happen): fetch it directly
            return self._fetch(stream_slice)
        try:
            return future.result()
        finally:
            self._fill()
            if not self._in_flight:  # the last slice was handed out: the stream has ended, its threads can go
                self.close()

    def _fill(self) -> None:
        while len(self._in_flight) < self._workers and self._executor is not None:
            upcoming = next(self._pending, None)
            if upcoming is None:
                return
            self._in_flight[slice_key(upcoming)] = self._executor.submit(self._fetch, upcoming)

    def close(self) -> None:
        for future in self._in_flight.values():
            if not future.cancel() and self._discard is not None:
                future.add_done_callback(self._discard_result)  # runs now if it is done already
        self._in_flight.clear()
        self._pending = iter(())
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _discard_result(self, future: Future) -> None:
        assert self._discard is not None, "close() registers this callback only when there is a discard"
        if not future.cancelled() and future.exception() is None and future.result() is not None:
            self._discard(future.result())


_DONE = object()


class _Pipe:
    """One slice's records on their way from a worker thread to the reader; at most `capacity` chunks wait in it."""

    def __init__(self, capacity: int) -> None:
        self._queue: Queue = Queue(maxsize=capacity)
        self.abandoned = threading.Event()

    def fill(self, items: Iterable[Any], chunk: int) -> None:
        """Runs in the worker: the items in chunks (a queue hand-off per record would cost more than the record)."""
        try:
            batch: list[Any] = []
            for item in items:
                batch.append(item)
                if len(batch) >= chunk:
                    if not self._put(batch):
                        return
                    batch = []
            if batch and not self._put(batch):
                return
            self._put(_DONE)
        except BaseException as error:  # raised to the reader, after the items before it
            self._put(error)

    def drain(self) -> Iterator[Any]:
        while True:
            got = self._queue.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield from got

    def _put(self, item: Any) -> bool:
        while not self.abandoned.is_set():
            try:
                self._queue.put(item, timeout=0.5)
                return True
            except Full:
                continue
        return False


class StreamingPrefetcher:
    """SlicePrefetcher for slices of any size: the next slices are read ahead in `workers` threads, but each one
    only `chunks_ahead` x `chunk` records ahead of the reader, so memory does not grow with a parent's size (a
    board of 100,000 pins costs what a board of 1,000 does). Records come back per slice, in the slices' order."""

    def __init__(
        self,
        slices: Iterable[Slice],
        fetch: Callable[[Slice], Iterable[Any]],
        workers: int,
        chunk: int = 250,
        chunks_ahead: int = 4,
    ) -> None:
        self._pending: Iterator[Slice] = iter(slices)
        self._exhausted = False
        self._fetch = fetch
        self._workers = max(1, workers)
        self._chunk, self._chunks_ahead = chunk, chunks_ahead
        self._in_flight: OrderedDict[str, _Pipe] = OrderedDict()
        self._jobs: Queue = Queue()  # FIFO: the slice read first always gets a thread first
        self._threads: list[threading.Thread] = []

    def records_of(self, stream_slice: Slice) -> Iterable[Any]:
        """The records of this slice; slices must be asked for in the order `slices` yields them."""
        if self._workers == 1:
            return self._fetch(stream_slice)
        self._fill()
        pipe = self._in_flight.pop(slice_key(stream_slice), None)
        if pipe is None:  # asked out of order (should not happen): fetch it directly
            return self._fetch(stream_slice)
        return self._drain(pipe)

    def _drain(self, pipe: _Pipe) -> Iterator[Any]:
        try:
            yield from pipe.drain()
        finally:
            self._fill()
            if self._exhausted and not self._in_flight:
                self.close()

    def _fill(self) -> None:
        # At most `workers` slices at once, the one being read included, so each has a thread as soon as it starts.
        while len(self._in_flight) < self._workers and not self._exhausted:
            upcoming = next(self._pending, None)
            if upcoming is None:
                self._exhausted = True
                return
            pipe = _Pipe(self._chunks_ahead)
            self._in_flight[slice_key(upcoming)] = pipe
            self._jobs.put((pipe, upcoming))
            if len(self._threads) < self._workers:
                # Daemon threads: a reader that stops early must never keep the process from exiting.
                thread = threading.Thread(target=self._work, name="pinterest-slice", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            pipe, stream_slice = job
            try:
                records = self._fetch(stream_slice)
            except BaseException as error:
                records = _raising(error)
            pipe.fill(records, self._chunk)

    def close(self) -> None:
        for pipe in self._in_flight.values():
            pipe.abandoned.set()
        self._in_flight.clear()
        for _ in self._threads:
            self._jobs.put(None)
        self._threads = []


def _raising(error: BaseException) -> Iterator[Any]:
    raise error
    yield  # a generator, so the error surfaces where the records would have


class _Lane:
    """One producer's output, in order; deque appends and pops are atomic, so no lock per item is needed."""

    def __init__(self) -> None:
        self.items: deque = deque()
        self.room = threading.Event()  # set by the consumer after taking items
        self.done = False
        self.error: BaseException | None = None


def merge_in_threads(producers: Sequence[Callable[[], Iterable[Any]]], max_buffered: int = 200) -> Iterator[Any]:
    """The items of several iterables, each drained in its own thread, as they arrive; each keeps its own order.

    Used to read groups of streams side by side (one per rate-limit category), so one category's budget is not idle
    while another's is spent. A producer more than `max_buffered` items ahead of the consumer waits, so memory stays
    bounded. An exception from one producer is raised after the others have finished, so their work is delivered."""
    if len(producers) == 1:
        yield from producers[0]()
        return
    lanes = [_Lane() for _ in producers]
    ready, stop = threading.Event(), threading.Event()

    def drain(producer: Callable[[], Iterable[Any]], lane: _Lane) -> None:
        try:
            for item in producer():
                while len(lane.items) >= max_buffered and not stop.is_set():
                    lane.room.clear()
                    if len(lane.items) >= max_buffered:
                        lane.room.wait(0.1)
                if stop.is_set():
                    return
                lane.items.append(item)
                ready.set()
        except BaseException as error:  # handed to the consumer and raised there
            lane.error = error
        finally:
            lane.done = True
            ready.set()

    for number, (producer, lane) in enumerate(zip(producers, lanes, strict=True)):
        threading.Thread(target=drain, args=(producer, lane), name=f"pinterest-lane-{number}", daemon=True).start()
    try:
        while True:
            ready.clear()
            finished = all(lane.done for lane in lanes)  # read before draining: a done lane has appended all
            delivered = False
            for lane in lanes:
                for _ in range(len(lane.items)):  # what is there now; then the next lane gets its turn
                    yield lane.items.popleft()
                    delivered = True
                lane.room.set()
            if finished:
                break
            if not delivered:
                ready.wait(0.05)
    finally:
        stop.set()
    errors = [lane.error for lane in lanes if lane.error is not None]
    if errors:
        raise errors[0]
