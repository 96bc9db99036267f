"""What a failed stream and a failed sync tell the user: the stream, the request or download, what happened, what
to do, and a failure type the platform can act on (retry by itself, ask the user, or report a bug)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http.client import IncompleteRead
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType, StreamDescriptor
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from urllib3.exceptions import ProtocolError

from source_pinterest.http.errors import endpoint_of

# Errors of the network or the server's connection: another attempt later is likely to succeed.
NETWORK_ERRORS = (requests.RequestException, ProtocolError, IncompleteRead, ConnectionError, TimeoutError)
# The sync's closing error takes the most severe of its streams' types: a bug of ours outranks a setting the user
# must fix, which outranks a failure that passes by itself (a daily cap, a flaky network).
SEVERITY = (FailureType.transient_error, FailureType.config_error, FailureType.system_error)
MAX_DETAIL_CHARS = 300
MAX_STREAM_MESSAGE_CHARS = 1000
_URL = re.compile(r"https?://[^\s'\"<>]+")

TRANSIENT_ADVICE = (
    "This is a network or server problem that usually passes: run the sync again, it resumes from the saved state."
)
SYSTEM_ADVICE = (
    "This is a problem in the connector or an answer it does not understand, not a setting to fix: please report it "
    "with this message and the sync's logs. The other streams are read as usual."
)
CONFIG_ADVICE = "Check the connection's credentials (re-authorize the app if needed) and settings, then sync again."
ADVICE = {
    FailureType.transient_error: TRANSIENT_ADVICE,
    FailureType.config_error: CONFIG_ADVICE,
    FailureType.system_error: SYSTEM_ADVICE,
}


def without_urls(text: str) -> str:
    """Every URL replaced by its path: a live analytics URL carries its id lists and runs to about 11 kB, and a
    report's pre-signed download URL carries a signature."""
    return _URL.sub(lambda url: urlsplit(url.group(0)).path or "/", text)


def most_severe(failure_types: Iterable[FailureType | None]) -> FailureType:
    return max(
        (t or FailureType.system_error for t in failure_types), key=SEVERITY.index, default=FailureType.system_error
    )


def is_network_error(error: BaseException | None) -> bool:
    """The error, or one it was explicitly raised from, is a network one."""
    while error is not None:
        if isinstance(error, NETWORK_ERRORS):
            return True
        error = error.__cause__
    return False


def stream_failure(stream: str, error: Exception, api_host: str | None) -> AirbyteTracedException:
    """What stopped a stream, as the traced exception the user sees: the stream, the request or download, what
    happened and what to do. A traced exception keeps its type and words (named for the stream if they are not);
    any other one would reach the user as the CDK's "Something went wrong in the connector"."""
    descriptor = StreamDescriptor(name=stream)
    if isinstance(error, AirbyteTracedException):
        message = without_urls(error.message or error.internal_message or "")
        failure_type = error.failure_type or FailureType.system_error
        if f"Stream {stream}" not in message:
            # The CDK's own words ("API rate limit exceeded.") keep ours, the last error, in the internal message.
            detail = without_urls(error.internal_message or "")
            if detail and detail not in message:
                message += f" ({_shortened(detail, MAX_STREAM_MESSAGE_CHARS)})"
            message = f"Stream {stream}: {message} {ADVICE[failure_type]}"
        if message == error.message:
            return error
        return AirbyteTracedException(
            internal_message=error.internal_message,
            message=message,
            failure_type=failure_type,
            exception=error,
            stream_descriptor=descriptor,
        )
    return unexpected_failure(f"Stream {stream}", "the read", error, api_host, descriptor)


def unexpected_failure(
    who: str,
    doing: str,
    error: BaseException,
    api_host: str | None,
    descriptor: StreamDescriptor | None = None,
) -> AirbyteTracedException:
    """An exception no one classified, as a traced one: transient if the network broke, else ours (system). The
    message names the request or download it came from, else what `who` was `doing`."""
    failure_type = FailureType.transient_error if is_network_error(error) else FailureType.system_error
    detail = _shortened(without_urls(" ".join(str(error).split())), MAX_DETAIL_CHARS) or "no detail"
    subject = _subject(error, api_host) or doing
    message = f"{who}: {subject} failed with {type(error).__name__}: {detail}. {ADVICE[failure_type]}"
    return AirbyteTracedException(
        internal_message=f"{type(error).__name__}: {error}",
        message=message,
        failure_type=failure_type,
        exception=error,
        stream_descriptor=descriptor,
    )


def sync_failure(failures: Mapping[str, AirbyteTracedException], streams_in_sync: int) -> AirbyteTracedException:
    """The sync's closing error: each failed stream with its own type and message, the most severe type overall."""
    lines = [
        f"{stream} ({(failure.failure_type or FailureType.system_error).value}): "
        + without_urls(failure.message or failure.internal_message or "no message").removeprefix(f"Stream {stream}: ")
        for stream, failure in failures.items()
    ]
    message = f"{len(failures)} of {streams_in_sync} streams did not sync successfully:\n" + "\n".join(lines)
    return AirbyteTracedException(
        internal_message=message,
        message=message,
        failure_type=most_severe(failure.failure_type for failure in failures.values()),
    )


def _subject(error: BaseException, api_host: str | None) -> str | None:
    request = _request_of(error)
    if request is None or not request.url:
        return None
    host = urlsplit(request.url).hostname
    if api_host and host != api_host:
        return f"the report file download from {host}"
    return endpoint_of(request)


def _request_of(error: BaseException) -> requests.PreparedRequest | None:
    """The request an exception came from. requests attaches it to most of its exceptions; those raised while a
    body is read (ChunkedEncodingError from iter_content, urllib3's ProtocolError, a parser's ValueError) carry
    none, but a frame they were raised through holds the response or the request: the innermost one wins."""
    request = getattr(error, "request", None)
    if isinstance(request, requests.PreparedRequest):
        return request
    frames = []
    trace = error.__traceback__
    while trace is not None:
        frames.append(trace.tb_frame)
        trace = trace.tb_next
    for frame in reversed(frames):
        for value in frame.f_locals.values():
            if isinstance(value, requests.Response) and value.request is not None:
                return value.request
            if isinstance(value, requests.PreparedRequest):
                return value
    return None


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
