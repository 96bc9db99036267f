"""Report files as the storage host holds them: rendered once per job into a temp file, read back in chunks.

A targeting report of a large account is hundreds of MB. Rows are generated one entity at a time and written as
they come, so rendering holds one batch of rows, never the file (BY_DATE JSON excepted: it must regroup every
row by date, so it holds the file's text once). The bytes equal json.dumps / csv.DictWriter of the whole file.
"""

import contextlib
import csv
import io
import json
import os
import tempfile
import time
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
        try:
            os.unlink(self.path)
        except OSError:
            pass


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
