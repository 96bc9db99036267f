"""Bookmark pagination: opaque bookmarks that encode the offset and the query they belong to."""

import base64
import hashlib
import json

from .errors import bad_param

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 250


def page_size_of(query: dict) -> int:
    raw = query.get("page_size", [str(DEFAULT_PAGE_SIZE)])[-1]
    try:
        size = int(raw)
    except ValueError:
        raise bad_param(f"Parameter 'page_size' was not numeric (was {raw})") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_param(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {size} (parameter 'page_size')")
    return size


def query_fingerprint(path: str, query: dict) -> str:
    """Identifies the listing a bookmark belongs to; page_size may change between pages."""
    items = sorted((k, v) for k, vs in query.items() if k not in ("bookmark", "page_size") for v in vs)
    return hashlib.sha1(json.dumps([path, items]).encode()).hexdigest()[:10]


def encode_bookmark(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "q": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_bookmark(bookmark: str, fingerprint: str) -> int:
    try:
        padded = bookmark + "=" * (-len(bookmark) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(data["o"])
        ok = data["q"] == fingerprint and offset >= 0
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise bad_param("Invalid bookmark (parameter 'bookmark')")
    return offset


def paginate(items: list, path: str, query: dict, cap: int | None = None) -> tuple[list, str | None, int]:
    """Return (page, next bookmark or None, page size). `cap` truncates the listing (board pin cap)."""
    size = page_size_of(query)
    fingerprint = query_fingerprint(path, query)
    bookmark = query.get("bookmark", [""])[-1]
    offset = decode_bookmark(bookmark, fingerprint) if bookmark else 0
    end_all = len(items) if cap is None else min(cap, len(items))
    end = min(offset + size, end_all)
    page = items[offset:end]
    return page, (encode_bookmark(end, fingerprint) if end < end_all else None), size
