"""Response bodies fetched whole, at network speed, into temporary files, and parsed from disk once complete.

A body parsed while its rows are emitted keeps the connection open at the emission rate, and storage (S3) and
proxies drop a slow reader: the report ended with IncompleteRead. Here a body is copied to a file under the system
temp dir (TMPDIR is honoured) as fast as the network delivers it, checked complete (no transport error, every byte
Content-Length and Content-Range promised), and only then parsed from disk one row at a time (JsonRows), so memory
stays flat in the body's size and rows only ever come from a complete body: a retried download cannot duplicate or
drop one.

ReportDownload is one async report's file: a cut download resumes with `Range: bytes=N-` where storage honours it,
and starts over where it does not. JsonArrayBody is one API answer that is a JSON array (live analytics, up to
~27 MB for 250 ids with every column), in a temp file that stays in memory while small.
"""

from __future__ import annotations

import codecs
import errno
import gzip
import http.client
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import IO, Any, Protocol

import orjson
import requests
import urllib3
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.http.errors import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS

logger = logging.getLogger("airbyte")

# Read and parse buffer. Every report or analytics body being parsed holds about four times this (the bytes read,
# their text, and the copy that joins a row cut at the buffer's end), and up to num_workers are parsed at once:
# 1 MiB held 4.2 MB per parser, 256 KiB holds 1.1 MB, for the same CPU a row (12.3 vs 12.5 us, 40-column rows).
CHUNK_BYTES = 1 << 18
IN_MEMORY_BYTES = 1 << 20  # a JsonArrayBody smaller than this never touches the disk
# Text parsed in one orjson call (JsonRows._rows_in_buffer): about 20 report rows, held at once with their dicts in
# each of up to num_workers parses.
WHOLE_ROWS_CHARS = 1 << 14
MAX_CUTS = 5  # cut downloads of one report before its stream fails
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
# What a body that breaks off raises while it is read: urllib3's ProtocolError / IncompleteRead / ReadTimeoutError,
# http.client's IncompleteRead, or the socket's OSError (connection reset).
_BODY_ERRORS = (urllib3.exceptions.HTTPError, requests.RequestException, http.client.HTTPException, OSError)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class BodyCut(Exception):
    """The body ended before it was complete; `copied` bytes of it arrived."""

    def __init__(self, reason: str, copied: int = 0) -> None:
        super().__init__(reason)
        self.copied = copied


class DownloadCancelled(Exception):
    """The stream that wanted this body has stopped; nobody will read it."""


def disk_full(where: str, written: int, error: OSError) -> AirbyteTracedException:
    message = (
        f"No space left on the device for the temporary file {where} ({written} bytes written): free disk space "
        f"there or set TMPDIR to a directory with room for the largest report."
    )
    return AirbyteTracedException(
        message=message, internal_message=f"{message} {error}", failure_type=FailureType.config_error, exception=error
    )


def copy_body(
    response: requests.Response, out: IO[bytes], where: str, decode: bool, cancelled: threading.Event | None = None
) -> int:
    """Copies the body to `out` and returns how many bytes were written. `decode` undoes the Content-Encoding (an
    answer parsed once); without it the stored bytes are the ones on the wire, so offsets match a later Range.
    Raises BodyCut when the connection breaks or fewer bytes arrive than Content-Length announced."""
    chunks = response.raw.stream(CHUNK_BYTES, decode_content=decode)
    written = 0
    while True:
        try:
            chunk = next(chunks, None)
        except _BODY_ERRORS as error:
            raise BodyCut(f"{type(error).__name__}: {error}", written) from error
        if chunk is None:
            break
        try:
            out.write(chunk)
        except OSError as error:
            if error.errno in _DISK_FULL:
                raise disk_full(where, written, error) from error
            raise
        written += len(chunk)
        if cancelled is not None and cancelled.is_set():
            raise DownloadCancelled()
    announced = response.headers.get("Content-Length")
    on_wire = response.raw.tell()
    if announced and announced.isdigit() and on_wire < int(announced):
        raise BodyCut(f"the body ended after {on_wire} of the {announced} bytes of its Content-Length", written)
    return written


def content_range(response: requests.Response) -> tuple[int, int | None] | None:
    """(first byte, full size or None) of a 206 answer's Content-Range; None when it has none we can read."""
    match = _CONTENT_RANGE.fullmatch((response.headers.get("Content-Range") or "").strip())
    if match is None:
        return None
    return int(match.group(1)), None if match.group(3) == "*" else int(match.group(3))


class ReportDownload:
    """One report's file in a temp file: fetched from the pre-signed URLs its job hands out (`fetch` is the job
    runner's fetch), resumed after a cut, parsed once complete (`rows`), then deleted (`delete`).

    `send(url, headers)` GETs the URL without our Authorization header and returns the response (stream=True).
    Storage answering 400/403/404 means the URL has expired (they live 5 minutes): `fetch` returns None and the
    runner polls the job for a fresh one. The bytes on disk are resumed from a fresh URL only when the file's full
    size is known and the 206 answer's Content-Range names that same size (and If-Range carries the ETag where
    storage gave one, so a changed file is sent whole); otherwise the download starts over. At most MAX_CUTS cut
    bodies per report, each logged with its reason, then the stream fails with a transient error."""

    def __init__(
        self,
        describe: str,
        send: Callable[[str, Mapping[str, str]], requests.Response],
        cancelled: threading.Event | None = None,
        max_cuts: int = MAX_CUTS,
    ) -> None:
        self.describe = describe
        self._send = send
        self._cancelled = cancelled
        self._max_cuts = max_cuts
        fd, self.path = tempfile.mkstemp(prefix="pinterest-report-", suffix=".json")
        os.close(fd)
        self.received = 0  # bytes on disk
        self.total: int | None = None  # the file's full size, once storage said it
        self.cuts = 0
        self._etag: str | None = None
        self._encoding = "identity"

    def restart(self) -> None:
        """Forget the bytes so far (a new report job makes a new file)."""
        self.received, self.total, self._etag, self._encoding = 0, None, None, "identity"

    def fetch(self, url: str) -> ReportDownload | None:
        """This download, complete on disk; None when the URL has expired."""
        while True:
            headers = {"Accept-Encoding": "gzip"}
            resuming = self.received > 0 and self.total is not None
            if resuming:
                headers["Range"] = f"bytes={self.received}-"
                if self._etag:
                    headers["If-Range"] = self._etag
            response = self._send(url, headers)
            try:
                if response.status_code in (400, 403, 404):
                    logger.info(
                        f"{self.describe}: the download URL expired (HTTP {response.status_code}) with "
                        f"{self.received} bytes on disk; asking the job for a fresh URL"
                    )
                    return None
                self._take(response, resuming)
                return self
            except BodyCut as cut:
                self._count_cut(cut)
            finally:
                response.close()

    def _take(self, response: requests.Response, resuming: bool) -> None:
        status = response.status_code
        if status == 206:
            first, size = content_range(response) or (None, None)
            if not resuming or first != self.received or size is None or size != self.total:
                said = response.headers.get("Content-Range")
                self.restart()
                raise BodyCut(f"storage answered Content-Range {said!r}, which does not continue this file")
        elif status == 200:
            if resuming:
                logger.info(
                    f"{self.describe}: storage ignored the Range request (HTTP 200); starting over, "
                    f"{self.received} bytes dropped"
                )
            self.restart()
            length = response.headers.get("Content-Length")
            self.total = int(length) if length and length.isdigit() else None
            self._etag = response.headers.get("ETag")
            self._encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        else:  # e.g. 416: the range is gone; the next try starts over
            self.restart()
            raise BodyCut(f"storage answered HTTP {status} to the download")
        with open(self.path, "r+b") as out:
            out.seek(self.received)
            out.truncate()
            try:
                self.received += copy_body(response, out, self.path, decode=False, cancelled=self._cancelled)
            except BodyCut as cut:
                self.received += cut.copied
                raise
        if self.total is not None and self.received != self.total:
            raise BodyCut(f"the file has {self.received} of its {self.total} bytes")

    def _count_cut(self, cut: BodyCut) -> None:
        self.cuts += 1
        so_far = f"{self.received} of {self.total if self.total is not None else 'an unknown number of'} bytes"
        if self.cuts > self._max_cuts:
            message = (
                f"{self.describe}: the report file could not be downloaded, cut {self.cuts} times; "
                f"last after {so_far}: {cut}."
            )
            raise AirbyteTracedException(
                message=message, internal_message=message, failure_type=FailureType.transient_error
            )
        wait = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (self.cuts - 1))
        then = f"resuming at byte {self.received}" if self.received and self.total is not None else "starting over"
        logger.warning(
            f"{self.describe}: download cut after {so_far} ({cut}); try {self.cuts + 1} of {self._max_cuts + 1}, "
            f"{then} in {wait:.1f} s"
        )
        if self._cancelled is not None:
            self._cancelled.wait(wait)  # a stopped stream does not wait out the backoff
        else:
            time.sleep(wait)

    def rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(entity id, row) pairs of the JSON file ({"<entity id>": [rows]}), parsed from disk as they are read."""
        with open(self.path, "rb") as raw:
            source: Readable = gzip.GzipFile(fileobj=raw) if self._encoding == "gzip" else raw
            try:
                for entity_id, row in JsonRows(source).of_object_of_arrays():
                    yield str(entity_id), row
            except (ValueError, EOFError, gzip.BadGzipFile) as error:
                message = (
                    f"{self.describe}: the downloaded report file ({self.received} bytes, all that storage "
                    f"announced) is not complete JSON: {error}"
                )
                raise AirbyteTracedException(
                    message=message, internal_message=message, failure_type=FailureType.system_error
                ) from error

    def delete(self) -> None:
        with suppress(FileNotFoundError):
            os.unlink(self.path)


@contextmanager
def deleted_on_failure(downloads: list[ReportDownload]) -> Iterator[None]:
    """Deletes the files if the block fails or is closed early; on success the caller keeps them."""
    try:
        yield
    except BaseException:
        for download in downloads:
            download.delete()
        raise


@contextmanager
def deleted_after(downloads: list[ReportDownload]) -> Iterator[None]:
    try:
        yield
    finally:
        for download in downloads:
            download.delete()


def _spooled_file() -> IO[bytes]:
    """A temp file that stays in memory below IN_MEMORY_BYTES."""
    return tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)


class JsonArrayBody:
    """One API answer that is a JSON array, copied whole into a temp file (in memory below IN_MEMORY_BYTES) and then
    parsed item by item: the answer is never one Python list. `problem()` says why a body is not complete JSON."""

    def __init__(self, response: requests.Response, describe: str, cancelled: threading.Event | None = None) -> None:
        self.describe = describe
        self._file = _spooled_file()  # this object owns it: closed by close(), or below when copying fails
        self._cut: BodyCut | None = None
        try:
            self.size = copy_body(response, self._file, f"in {tempfile.gettempdir()}", decode=True, cancelled=cancelled)
        except BodyCut as cut:
            self._cut, self.size = cut, cut.copied
        except BaseException:
            self._file.close()
            raise

    def problem(self) -> str | None:
        """None for a complete array; else what is wrong (a cut body, or one that is not a JSON array at all). A
        body whose transport was complete and whose first and last characters are an array's is complete."""
        if self._cut is not None:
            return f"cut after {self.size} bytes: {self._cut}"
        first, last = self._edge(0), self._edge(-1)
        if first != b"[":
            return f"{self.size} bytes starting with {first!r}, not a JSON array"
        if last != b"]":
            return f"{self.size} bytes, the array is not closed"
        return None

    def _edge(self, side: int) -> bytes:
        """The first (side 0) or last (side -1) non-blank byte."""
        window = 64
        self._file.seek(0 if side == 0 else max(0, self.size - window))
        text = self._file.read(window).strip()
        return text[side:][:1] if text else b""

    def items(self) -> Iterator[Any]:
        """The array's items; the file is closed once they are read, or when the reader stops early."""
        try:
            self._file.seek(0)
            yield from JsonRows(self._file).of_array()
        except ValueError as error:
            # Complete as far as transport and brackets tell, yet broken inside: asking again would not help.
            message = f"{self.describe}: the answer ({self.size} bytes) is not valid JSON: {error}"
            raise AirbyteTracedException(
                message=message, internal_message=message, failure_type=FailureType.system_error
            ) from error
        finally:
            self._file.close()

    def close(self) -> None:
        self._file.close()


_NOT_BLANK = re.compile(r"[^ \t\n\r]")
_DIGITS_AS_ZEROS, _TWENTY_DIGITS = bytes.maketrans(b"123456789", b"000000000"), b"0" * 20
_LAST_ROW_END = re.compile(r"\}[ \t\n\r]*\]")  # a '}' then the ']' closing the array: where its rows end
_DECODER = json.JSONDecoder()


class JsonRows:
    """The rows of a JSON file, one at a time, each parsed by the standard library's C decoder.

    Why not ijson: its key-value parse of {"<entity id>": [rows]} builds each entity's whole list before handing it
    over, and one campaign of a targeting report can have a million rows (a 387 MB file peaked at 272 MB RSS); its
    event-level parse is row by row but three times slower in Python. Here only the outer brackets are walked in
    Python, and at most a read buffer and its rows are held. The rows of an array that the buffer holds whole are
    parsed in one orjson call (`_rows_in_buffer`: 0.4x the CPU of a json raw_decode a row, and each column name is
    one string for every row); where that cannot be (a row cut by the buffer's end, a '}' inside a string, an
    integer beyond 64 bits, NaN), each row is one raw_decode call. Numbers come out as json.loads makes them (int or
    float, ints of any size). Raises ValueError on JSON that is truncated or not of the expected shape."""

    def __init__(self, source: Readable, chunk: int = CHUNK_BYTES) -> None:
        self._source, self._chunk = source, chunk
        self._text, self._at, self._ended = "", 0, False
        self._whole_rows_fail_before = 0  # where the buffer's last one-call parse failed: rows before it one by one
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    def of_object_of_arrays(self) -> Iterator[tuple[Any, Any]]:
        """(key, row) for every row of {"key": [rows], ...}; a null list has no rows."""
        self._expect("{")
        if self._next_char() == "}":
            return
        while True:
            key = self._value()
            self._expect(":")
            if self._next_char() == "[":
                for row in self._array():
                    yield key, row
            else:
                for row in self._value() or ():
                    yield key, row
            if self._separator("}"):
                return

    def of_array(self) -> Iterator[Any]:
        yield from self._array()
        if self._next_char():
            raise ValueError(f"text after the array at character {self._at}")

    def _array(self) -> Iterator[Any]:
        self._expect("[")
        if self._next_char() == "]":
            self._at += 1
            return
        while True:
            rows = self._rows_in_buffer() if self._next_char() == "{" else None
            if rows is None:
                yield self._value()
            else:
                yield from rows
            if self._separator("]"):
                return

    def _rows_in_buffer(self) -> list[Any] | None:
        """The objects from here up to the buffer's last '}' before this array's end, parsed in one call, or None
        when that text is not a list of whole values (see the class docstring): the caller then reads one row.
        A '}' that does not end a row (inside a string, a nested object) makes the text invalid JSON, so a parse
        that succeeds consumed whole rows only."""
        text, at = self._text, self._at
        if at < self._whole_rows_fail_before:
            return None
        limit = at + WHOLE_ROWS_CHARS
        closing = _LAST_ROW_END.search(text, at, limit)
        end = closing.start() if closing else text.rfind("}", at, limit)
        if end < 0:
            return None
        # orjson makes a float of an integer beyond 64 bits, json an exact int: text with a run of 20 digits goes
        # row by row. (Found as 20 zeros once every digit is a zero: a regex takes 15x as long on report rows.)
        if _TWENTY_DIGITS not in text[at:end].encode().translate(_DIGITS_AS_ZEROS):
            with suppress(orjson.JSONDecodeError):
                rows = orjson.loads("[" + text[at : end + 1] + "]")
                self._at = end + 1
                return rows
        self._whole_rows_fail_before = end + 1
        return None

    def _separator(self, closing: str) -> bool:
        """Reads ',' (False: more follows) or `closing` (True)."""
        char = self._next_char()
        if char not in (",", closing):
            raise ValueError(f"expected ',' or {closing!r} at character {self._at}, found {char or 'the end'!r}")
        self._at += 1
        return char == closing

    def _expect(self, char: str) -> None:
        found = self._next_char()
        if found != char:
            raise ValueError(f"expected {char!r} at character {self._at}, found {found or 'the end'!r}")
        self._at += 1

    def _next_char(self) -> str:
        """The next non-blank character, not consumed; '' at the end of the file."""
        while True:
            found = _NOT_BLANK.search(self._text, self._at)
            if found is not None:
                self._at = found.start()
                return self._text[self._at]
            self._at = len(self._text)
            if not self._read_more():
                return ""

    def _value(self) -> Any:
        self._next_char()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._at)
                # A value reaching the buffer's end may go on in the next chunk (a number cut in two).
                if end < len(self._text) or self._ended:
                    self._at = end
                    return value
            except json.JSONDecodeError:
                if self._ended:
                    raise
            self._read_more(2 * (len(self._text) - self._at))

    def _read_more(self, at_least: int = 0) -> bool:
        if self._ended:
            return False
        raw = self._source.read(max(self._chunk, at_least))
        self._ended = not raw
        self._text = self._text[self._at :] + self._utf8.decode(raw, final=self._ended)
        self._whole_rows_fail_before = max(0, self._whole_rows_fail_before - self._at)
        self._at = 0
        return True
