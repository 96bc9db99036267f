"""Report files as the storage host holds them: rendered once per job into a temp file, read back in chunks;
the worker that renders them and the temp directory they live in.

A targeting report of a large account is hundreds of MB. Rows are generated one entity at a time and written as
they come, so rendering holds one batch of rows, never the file (BY_DATE JSON excepted: it must regroup every
row by date, so it holds the file's text once). The bytes equal json.dumps / csv.DictWriter of the whole file.
"""

import contextlib
import csv
import glob
import io
import json
import os
import queue
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future
from itertools import islice

CHUNK = 64 * 1024  # bytes per socket write and per file read
BATCH = 500  # rows serialised per json.dumps call


class DiskFile:
    """A rendered file in the emulator's temp directory. Each download opens its own handle when it is answered,
    so deleting the file afterwards (eviction) does not cut it short."""

    def __init__(self, path: str):
        self.path = path
        self.size = os.path.getsize(path)
        self.last_used = time.time()  # when a job last got this file (jobs with the same request share it)
        self.deleted = False

    def open(self):
        """A binary handle, or None once the file is deleted."""
        try:
            return open(self.path, "rb")
        except FileNotFoundError:
            return None

    def delete(self) -> None:
        self.deleted = True
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def read_chunks(handle, start: int, stop: int):
    """Bytes [start, stop) of an open file, CHUNK at a time."""
    handle.seek(start)
    left = stop - start
    while left > 0:
        chunk = handle.read(min(CHUNK, left))
        if not chunk:
            return
        left -= len(chunk)
        yield chunk


def write(directory: str, pieces, suffix: str) -> DiskFile:
    """Write the byte pieces to a new file in `directory`; a failure leaves no file behind."""
    fd, path = tempfile.mkstemp(dir=directory, prefix="report-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as f:
            for piece in pieces:
                f.write(piece)
    except BaseException:
        with contextlib.suppress(OSError):  # close() may have removed the directory already
            os.unlink(path)
        raise
    return DiskFile(path)


def _batches(rows):
    rows = iter(rows)
    while batch := list(islice(rows, BATCH)):
        yield batch


def _joined(batch: list) -> bytes:
    """Rows as they appear inside a JSON list, without the brackets."""
    return json.dumps(batch)[1:-1].encode()


def json_by_id(groups):
    """`{entity_id: [rows]}` from (entity_id, rows) pairs; entities without rows are left out."""
    yield b"{"
    sep = b""
    for entity_id, rows in groups:
        batches = _batches(rows)
        first = next(batches, None)
        if first is None:
            continue
        yield sep + json.dumps(entity_id).encode() + b": [" + _joined(first)
        sep = b", "
        for batch in batches:
            yield b", " + _joined(batch)
        yield b"]"
    yield b"}"


def json_by_date(groups):
    """`{DATE: [rows]}` in the order dates first appear (TOTAL reports: one "TOTAL" key)."""
    by_date: dict = {}
    for _, rows in groups:
        for batch in _batches(rows):
            for row in batch:
                by_date.setdefault(row.get("DATE", "TOTAL"), []).append(json.dumps(row))
    yield b"{"
    sep = b""
    for key in list(by_date):
        texts = by_date.pop(key)
        yield sep + json.dumps(key).encode() + b": [" + ", ".join(texts).encode() + b"]"
        sep = b", "
    yield b"}"


def csv_rows(groups, names: list):
    """CSV with a header of `names` (every column the report can fill); a column a row lacks is written 0."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, names, restval=0)
    writer.writeheader()
    for _, rows in groups:
        for batch in _batches(rows):
            writer.writerows(batch)
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


REPORT_DIR_PREFIX = "pinterest-emulator-reports-"


def make_report_dir() -> str:
    """A new temp directory named after this process, after removing those of processes that are gone."""
    _remove_orphan_report_dirs()
    return tempfile.mkdtemp(prefix=f"{REPORT_DIR_PREFIX}{os.getpid()}-")


def _remove_orphan_report_dirs() -> None:
    """Remove report directories whose process is gone (killed without running its exit handlers)."""
    for path in glob.glob(os.path.join(tempfile.gettempdir(), REPORT_DIR_PREFIX + "*-*")):
        pid = os.path.basename(path)[len(REPORT_DIR_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:  # alive, someone else's
            pass


class Worker:
    """A daemon thread that runs submitted calls in order and answers with Futures. Unlike ThreadPoolExecutor's
    threads it does not hold up interpreter exit when an emulator is never stopped mid-render."""

    def __init__(self, name: str):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        self._queue.put((future, fn, args))
        return future

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel the calls still queued, finish the current one (renders stop early once the state is closed)
        and run no more."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as e:  # handed to whoever waits on the future
                future.set_exception(e)
