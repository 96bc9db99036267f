"""What handlers receive and return; independent of http.server so handlers stay testable."""

import json
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str  # without the query string
    template: str  # the matched route template, e.g. /v5/ad_accounts/{ad_account_id}/campaigns
    params: dict  # path parameters
    query: dict  # name -> [values], as parse_qs gives
    headers: dict
    body: bytes = b""
    access_token: str | None = None

    def one(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


@dataclass
class Response:
    status: int = 200
    body: object = None  # JSON-serialisable, or bytes sent as-is
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class FileBody:
    """Bytes [start, stop) of a report file, written to the socket in chunks; `cut_at` bytes then a reset, if set."""

    handle: object  # an open binary file; the server closes it
    start: int
    stop: int
    cut_at: int | None = None
    level: str = ""  # the report's level, for the bytes-per-level counter

    @property
    def length(self) -> int:
        return self.stop - self.start
