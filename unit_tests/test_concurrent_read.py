"""Every stream is read through the CDK's concurrent framework from one pool: the partitions of one stream and those
of different streams side by side; num_workers 1 reads in catalog order; the full refresh streams come after all
the others; a failed stream stops no other; a parent two streams need is listed once; state only ever covers records
emitted before it."""

from __future__ import annotations

import threading

import pytest
from airbyte_cdk.models import Type
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import InMemoryMessageRepository
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.streams.base import CHECKPOINT
from source_pinterest.streams.entity import EntityStream
from source_pinterest.sync.concurrency import (
    RECORDS_PER_BATCH,
    STATE_MAX_SECONDS,
    STATE_SHARES,
    RecordBatch,
    SlicePartition,
    StreamCheckpoints,
)
from unit_tests.conftest import API, make_config, read_streams, records_of

BOARD = {"id": "1", "name": "b", "created_at": "2024-01-01T00:00:00"}
AD_ACCOUNT = {"id": "7", "name": "a", "updated_time": 1700000000}


def test_partitions_of_one_stream_are_read_at_the_same_time(api, monkeypatch):
    # Each board's pins only answer once the other board's have been asked for: a sequential read would break it.
    both_asked = threading.Barrier(2, timeout=5)
    api.pages("boards", [[BOARD, {**BOARD, "id": "2"}]])
    real_fetch = EntityStream._fetch_from_api

    def fetch_from_api(stream, partition):
        if stream.name == "board_pins":
            both_asked.wait()
            yield {"id": f"pin-of-{partition['board_id']}", "created_at": "2024-01-01T00:00:00"}
        else:
            yield from real_fetch(stream, partition)

    monkeypatch.setattr(EntityStream, "_fetch_from_api", fetch_from_api)

    output = read_streams(make_config(), ["board_pins"])

    assert not output.errors
    assert sorted(r["id"] for r in records_of(output, "board_pins")) == ["pin-of-1", "pin-of-2"]


def test_state_is_emitted_after_every_record_of_its_partitions(api):
    api.pages("boards", [[BOARD, {**BOARD, "id": "2"}]])
    api.pages("boards/1/pins", [[{"id": "p1", "created_at": "2024-01-01T00:00:00"}]])
    api.pages("boards/2/pins", [[{"id": "p2", "created_at": "2024-02-01T00:00:00"}]])

    output = read_streams(make_config(), ["board_pins"])

    board_of = {"p1": "1", "p2": "2"}
    seen: set[str] = set()
    for message in output._messages:
        if message.type == Type.RECORD:
            seen.add(board_of[message.record.data["id"]])
        elif message.type == Type.STATE:
            state = message.state.stream.stream_state.__dict__
            # The boards done in this pass, or every board once the pass is complete.
            covered = {e["partition"]["board_id"] for e in state["states"]} if "states" in state else {"1", "2"}
            assert covered <= seen, f"state covers boards {covered - seen} before their records"


@pytest.mark.parametrize(
    "streams",
    [("ad_accounts", "catalogs_feeds"), ("boards", "pins")],
    ids=["incremental, first phase", "full refresh, second phase"],
)
def test_streams_of_one_phase_are_read_at_the_same_time(api, monkeypatch, streams):
    # Each listing only answers once the other one has been asked for: a sequential read would break the barrier.
    # (The listing itself is replaced: requests-mock answers one request at a time, whatever the threads.)
    both_asked = threading.Barrier(2, timeout=5)

    def fetch_from_api(stream, partition):
        if stream.name in streams:
            both_asked.wait()
            yield {"id": f"{stream.name}-1"}

    monkeypatch.setattr(EntityStream, "_fetch_from_api", fetch_from_api)

    output = read_streams(make_config(), list(streams))

    assert not output.errors
    for stream in streams:
        assert [r["id"] for r in records_of(output, stream)] == [f"{stream}-1"]


def test_given_one_worker_then_streams_are_read_one_after_another_in_catalog_order(api):
    api.pages("boards", [[BOARD]])
    api.pages("ad_accounts", [[AD_ACCOUNT]])

    output = read_streams(make_config(num_workers=1), ["ad_accounts", "boards"])

    assert [m.record.stream for m in output.records] == ["ad_accounts", "boards"]


def test_the_full_refresh_streams_are_read_after_every_other_stream_is_done(api):
    # A completed full refresh pass is read again whole by an attempt started again: the last thing an attempt does.
    api.pages("boards", [[BOARD]])
    api.pages("ad_accounts", [[AD_ACCOUNT]])
    api.json("user_account", {"id": "u1", "username": "me"})

    for workers in (1, 20):
        output = read_streams(make_config(num_workers=workers), ["user_account", "boards", "ad_accounts"])

        streams = [m.record.stream for m in output.records]
        assert streams[0] == "ad_accounts" and sorted(streams[1:]) == ["boards", "user_account"], workers


def test_a_failed_stream_does_not_keep_the_full_refresh_streams_from_being_read(api):
    api.pages("ad_accounts", [[]], status_code=400)
    api.json("user_account", {"id": "u1", "username": "me"})

    output = read_streams(make_config(), ["user_account", "ad_accounts"], expect_failure=True)

    assert [r["id"] for r in records_of(output, "user_account")] == ["u1"]
    assert {m.trace.error.stream_descriptor.name for m in output.errors if m.trace.error.stream_descriptor} == {
        "ad_accounts"
    }


def test_a_failed_stream_stops_no_other_and_the_sync_fails_naming_each(api):
    api.pages("boards", [[]], status_code=400)
    api.pages("pins", [[{"id": "9", "created_at": "2024-01-01T00:00:00"}]])
    api.pages("ad_accounts", [[]], status_code=400)

    output = read_streams(make_config(), ["boards", "pins", "ad_accounts"], expect_failure=True)

    assert [r["id"] for r in records_of(output, "pins")] == ["9"]
    failed = {m.trace.error.stream_descriptor.name for m in output.errors if m.trace.error.stream_descriptor}
    assert failed == {"boards", "ad_accounts"}
    closing = output.errors[-1].trace.error.message
    assert "boards" in closing and "ad_accounts" in closing


def test_a_parent_needed_by_two_streams_is_listed_once(api):
    # ad_accounts is read as a stream and, at the same time, listed for ad_account_analytics' partitions; a slow
    # answer makes sure the second asks while the first listing is under way.
    def slow_listing(request, context):
        threading.Event().wait(0.3)  # a real wait: time.sleep is patched out in unit tests
        return {"items": [AD_ACCOUNT], "bookmark": None}

    listing = api.mocker.get(API + "ad_accounts", json=slow_listing)
    api.json("ad_accounts/7/analytics", [])

    output = read_streams(make_config(), ["ad_accounts", "ad_account_analytics"])

    assert not output.errors
    assert [r["id"] for r in records_of(output, "ad_accounts")] == ["7"]
    assert listing.call_count == 1
    assert len(api.requests_to("ad_accounts/7/analytics")) == 1


class GrowingState:
    """A stream whose state lists one entry per closed partition, as a per-parent one does."""

    name = "keywords"

    def __init__(self) -> None:
        self.state: dict = {"states": []}


def emitted_states(repository: InMemoryMessageRepository) -> int:
    return sum(1 for message in repository.consume_queue() if message.type == Type.STATE)


def test_a_stream_of_many_parents_emits_a_bounded_number_of_state_messages():
    stream, repository = GrowingState(), InMemoryMessageRepository()
    checkpoints = StreamCheckpoints(stream, ConnectorStateManager([]), repository, lambda name: None, clock=lambda: 0.0)

    for number in range(3000):
        stream.state["states"].append({"partition": {"ad_group_id": str(number)}, "cursor": {}})
        checkpoints.close_partition(None)

    # One per partition for the first STATE_SHARES, then one per 2% more: STATE_SHARES * (1 + ln(3000 / 50)) ~ 255,
    # where one per partition would be 3,000 (and quadratic in bytes).
    assert STATE_SHARES <= emitted_states(repository) <= 6 * STATE_SHARES


def test_a_closed_partition_waits_at_most_state_max_seconds_for_its_state_message():
    stream, repository = GrowingState(), InMemoryMessageRepository()
    now = [0.0]
    checkpoints = StreamCheckpoints(
        stream, ConnectorStateManager([]), repository, lambda name: None, clock=lambda: now[0]
    )
    stream.state["states"] = [{"partition": {"ad_group_id": str(n)}, "cursor": {}} for n in range(1000)]
    checkpoints.close_partition(None)
    assert emitted_states(repository) == 0  # 1 of 1,000 entries is new: not due yet

    now[0] += STATE_MAX_SECONDS
    checkpoints.close_partition(None)

    assert emitted_states(repository) == 1


class SliceStream:
    """A stream whose one slice yields `items` (records, CHECKPOINT) and then raises `error` if given."""

    name, sync_mode = "campaigns", None

    def __init__(self, items: list, error: Exception | None = None) -> None:
        self.items, self.error, self.state = items, error, {}

    def read_records(self, sync_mode, stream_slice):
        yield from self.items
        if self.error:
            raise self.error


class SpyCheckpoints:
    def __init__(self, log: list) -> None:
        self.log = log

    def emit(self) -> None:
        self.log.append("state")


def read_partition(stream: SliceStream, failed=lambda name, error: None) -> list:
    """What the partition hands the queue, a batch as the ids of its records, and each checkpoint as 'state'."""
    log: list = []
    partition = SlicePartition(stream, {}, SpyCheckpoints(log), failed, threading.Semaphore())
    for item in partition.read():
        assert type(item) is RecordBatch
        log.append([record.data["id"] for record in item])
    return log


def test_a_partition_hands_its_records_over_in_batches_and_each_checkpoint_after_the_records_it_covers():
    ids = [str(n) for n in range(RECORDS_PER_BATCH + 3)]
    items = [{"id": i} for i in ids] + [CHECKPOINT] + [{"id": "last"}]

    log = read_partition(SliceStream(items))

    assert log == [ids[:RECORDS_PER_BATCH], ids[RECORDS_PER_BATCH:], "state", ["last"]]


def test_a_partition_that_fails_hands_over_the_records_read_before_its_failure():
    error = AirbyteTracedException(message="campaigns failed")
    items = [{"id": "1"}, {"id": "2"}]
    log: list = []
    partition = SlicePartition(
        SliceStream(items, RuntimeError("boom")), {}, SpyCheckpoints(log), lambda n, e: error, threading.Semaphore()
    )
    reader = partition.read()

    assert [r.data["id"] for r in next(reader)] == ["1", "2"]
    with pytest.raises(AirbyteTracedException, match="campaigns failed"):
        next(reader)


def _read_in_time(config, streams, seconds=60):
    """read_streams in a thread, so that a read that hangs fails the test instead of holding up the suite."""
    result: list = []
    reader = threading.Thread(target=lambda: result.append(read_streams(config, streams)), daemon=True)
    reader.start()
    reader.join(seconds)
    assert result, f"the read of {streams} did not end within {seconds} s"
    return result[0]


@pytest.mark.parametrize("workers", [1, 2])
def test_given_more_partitions_than_may_wait_then_few_workers_still_read_them_all(api, monkeypatch, workers):
    # The stream listing board_pins' partitions waits while MAX_PENDING_PARTITIONS of them are unread: the threads
    # listing partitions must leave num_workers to read them (a pool of num_workers threads hung with 1 worker).
    # Slices come slower than the main thread hands them to the pool (as when they are a parent's listing), so that
    # the listing does reach the limit.
    monkeypatch.setattr("source_pinterest.source.MAX_PENDING_PARTITIONS", 2)
    boards = [{**BOARD, "id": str(n)} for n in range(1, 13)]
    api.pages("boards", [boards])
    for board in boards:
        api.pages(f"boards/{board['id']}/pins", [[{"id": f"p{board['id']}", "created_at": "2024-01-01T00:00:00"}]])
    real_slices = EntityStream.stream_slices

    def slowly_listed(stream, **kwargs):
        for stream_slice in real_slices(stream, **kwargs):
            threading.Event().wait(0.02)  # time.sleep is patched
            yield stream_slice

    monkeypatch.setattr(EntityStream, "stream_slices", slowly_listed)

    output = _read_in_time(make_config(num_workers=workers), ["board_pins"])

    assert not output.errors
    assert sorted(r["id"] for r in records_of(output, "board_pins")) == sorted(f"p{b['id']}" for b in boards)


@pytest.mark.parametrize("workers", [1, 3])
def test_no_more_partitions_than_num_workers_are_read_at_once(api, monkeypatch, workers):
    boards = [{**BOARD, "id": str(n)} for n in range(1, 9)]
    api.pages("boards", [boards])
    reading, most = [0], [0]
    lock = threading.Lock()
    real_fetch = EntityStream._fetch_from_api

    def fetch_from_api(stream, partition):
        if stream.name != "board_pins":
            yield from real_fetch(stream, partition)
            return
        with lock:
            reading[0] += 1
            most[0] = max(most[0], reading[0])
        # Long enough for the pool's other threads to start their partitions, if they may (time.sleep is patched).
        threading.Event().wait(0.05)
        with lock:
            reading[0] -= 1
        yield {"id": f"pin-of-{partition['board_id']}", "created_at": "2024-01-01T00:00:00"}

    monkeypatch.setattr(EntityStream, "_fetch_from_api", fetch_from_api)

    output = _read_in_time(make_config(num_workers=workers), ["board_pins"])

    assert len(records_of(output, "board_pins")) == len(boards)
    assert most[0] == workers
