"""Parallel reading of a stream's slices that still hands them to the CDK one by one, in order.

The CDK reads a stream's slices sequentially and emits state after each one. SlicePrefetcher fetches the next
`workers` slices in background threads while the current one is being emitted, so the per-parent requests
(ad accounts, boards, sections, ad groups, id batches) overlap, yet records, state and its ordering guarantee
stay exactly those of a sequential read: a slice's state is emitted only after all of its records."""

from __future__ import annotations

import json
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

Slice = Mapping[str, Any]


def slice_key(stream_slice: Optional[Slice]) -> str:
    return json.dumps(dict(stream_slice or {}), sort_keys=True, default=str)


class SlicePrefetcher:
    def __init__(self, slices: Iterable[Slice], fetch: Callable[[Slice], Any], workers: int) -> None:
        self._pending: Iterator[Slice] = iter(slices)
        self._fetch = fetch
        self._workers = max(1, workers)
        self._executor: Optional[ThreadPoolExecutor] = None
        self._in_flight: "OrderedDict[str, Future]" = OrderedDict()

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

    def _fill(self) -> None:
        while len(self._in_flight) < self._workers:
            upcoming = next(self._pending, None)
            if upcoming is None:
                return
            self._in_flight[slice_key(upcoming)] = self._executor.submit(self._fetch, upcoming)

    def close(self) -> None:
        for future in self._in_flight.values():
            future.cancel()
        self._in_flight.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
