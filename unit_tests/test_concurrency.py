"""SlicePrefetcher: slices come back in order with their own records, fetched ahead in parallel. merge_in_threads:
several iterables drained side by side, each in its own order. StreamingPrefetcher: the same as SlicePrefetcher, a
bounded number of records ahead."""

from __future__ import annotations

import threading

import pytest

from source_pinterest.concurrency import SlicePrefetcher, StreamingPrefetcher, merge_in_threads


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


def test_merged_producers_run_side_by_side_and_each_keeps_its_order():
    together = threading.Barrier(3, timeout=5)

    def producer(name):
        def produce():
            together.wait()  # only passes once all three run at the same time
            for i in range(500):
                yield (name, i)

        return produce

    merged = list(merge_in_threads([producer("a"), producer("b"), producer("c")]))

    assert sorted(merged) == sorted((n, i) for n in "abc" for i in range(500))
    for name in "abc":
        assert [i for n, i in merged if n == name] == list(range(500))


def test_an_error_in_one_producer_is_raised_after_the_others_delivered_everything():
    def failing():
        yield "x1"
        raise RuntimeError("lane failed")

    received = []
    with pytest.raises(RuntimeError, match="lane failed"):
        received.extend(merge_in_threads([failing, lambda: (f"y{i}" for i in range(1000))]))

    assert "x1" in received and [i for i in received if i.startswith("y")] == [f"y{i}" for i in range(1000)]


def test_a_producer_waits_when_the_consumer_falls_behind():
    produced = []

    def fast():
        for i in range(10_000):
            produced.append(i)
            yield i

    merged = merge_in_threads([fast, lambda: iter(())], max_buffered=10)
    assert next(merged) == 0
    threading.Event().wait(0.3)  # plenty of time to produce everything, were it not held back

    assert len(produced) <= 12
    assert list(merged) == list(range(1, 10_000))


def test_streamed_slices_come_back_in_order_and_are_read_in_parallel():
    slices = [{"board_id": str(i)} for i in range(6)]
    together = threading.Barrier(3, timeout=5)

    def fetch(stream_slice):
        if int(stream_slice["board_id"]) < 3:
            together.wait()
        for n in range(600):
            yield f"{stream_slice['board_id']}-{n}"

    prefetcher = StreamingPrefetcher(slices, fetch, workers=3, chunk=100)
    results = [list(prefetcher.records_of(s)) for s in slices]

    assert results == [[f"{i}-{n}" for n in range(600)] for i in range(6)]
    assert not together.broken


def test_a_streamed_slice_is_read_only_a_bounded_number_of_records_ahead():
    produced = []

    def fetch(stream_slice):
        for n in range(100_000):
            produced.append(n)
            yield n

    prefetcher = StreamingPrefetcher([{"a": 1}, {"a": 2}], fetch, workers=2, chunk=10, chunks_ahead=2)
    records = iter(prefetcher.records_of({"a": 1}))
    assert next(records) == 0
    threading.Event().wait(0.3)

    # per slice: the chunk being read, the two waiting, and one more held by the worker until there is room
    assert len(produced) <= 2 * 10 * (1 + 2 + 1)
    prefetcher.close()


def test_records_before_an_error_are_delivered_then_the_error_is_raised():
    def fetch(stream_slice):
        yield "first"
        raise RuntimeError("page 2 failed")

    prefetcher = StreamingPrefetcher([{"a": 1}, {"a": 2}], fetch, workers=2, chunk=1)
    received = []
    with pytest.raises(RuntimeError, match="page 2 failed"):
        received.extend(prefetcher.records_of({"a": 1}))
    assert received == ["first"]
    prefetcher.close()


def test_closing_cancels_slices_not_started_and_discards_results_nobody_will_ask_for():
    started, release = threading.Event(), threading.Event()
    discarded, fetched = [], []

    def fetch(stream_slice):
        fetched.append(stream_slice["a"])
        if stream_slice["a"] == 2:
            started.set()
            release.wait(5)
        return [f"file-{stream_slice['a']}"]

    slices = [{"a": i} for i in range(1, 7)]
    prefetcher = SlicePrefetcher(slices, fetch, workers=3, discard=discarded.append)
    assert prefetcher.result_of({"a": 1}) == ["file-1"]
    started.wait(5)
    prefetcher.close()  # slice 2 still running, 3 done or running, 4 queued; 5 and 6 never submitted
    release.set()
    for _ in range(50):
        if ["file-2"] in discarded:
            break
        threading.Event().wait(0.05)

    assert ["file-2"] in discarded  # handed over once it finished, after close
    assert 5 not in fetched and 6 not in fetched
    assert ["file-1"] not in discarded
