"""SlicePrefetcher: slices come back in order with their own records, fetched ahead in parallel."""

from __future__ import annotations

import threading

import pytest

from source_pinterest.concurrency import SlicePrefetcher


def test_records_come_back_per_slice_in_order_while_later_slices_are_fetched_in_parallel():
    slices = [{"board_id": str(i)} for i in range(6)]
    # The first three fetches only finish once all three are running at the same time.
    together = threading.Barrier(3, timeout=5)

    def fetch(stream_slice):
        if int(stream_slice["board_id"]) < 3:
            together.wait()
        return [f"record-of-{stream_slice['board_id']}"]

    prefetcher = SlicePrefetcher(slices, fetch, workers=3)
    results = [prefetcher.result_of(s) for s in slices]
    prefetcher.close()

    assert results == [[f"record-of-{i}"] for i in range(6)]
    assert not together.broken


def test_one_worker_fetches_inline_without_threads():
    threads = set()
    prefetcher = SlicePrefetcher(
        [{"a": 1}, {"a": 2}], lambda s: threads.add(threading.current_thread()) or [s["a"]], workers=1
    )

    assert [prefetcher.result_of({"a": 1}), prefetcher.result_of({"a": 2})] == [[1], [2]]
    assert threads == {threading.current_thread()}


def test_an_error_in_a_slice_surfaces_when_that_slice_is_read():
    def fetch(stream_slice):
        if stream_slice["a"] == 2:
            raise RuntimeError("slice 2 failed")
        return [stream_slice["a"]]

    prefetcher = SlicePrefetcher([{"a": 1}, {"a": 2}, {"a": 3}], fetch, workers=2)

    assert prefetcher.result_of({"a": 1}) == [1]
    with pytest.raises(RuntimeError, match="slice 2 failed"):
        prefetcher.result_of({"a": 2})
    prefetcher.close()
