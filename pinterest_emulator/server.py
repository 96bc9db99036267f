"""HTTP layer: parse requests, apply latency / rate limits / faults / auth, dispatch, write responses."""

import contextlib
import fcntl
import json
import socket
import struct
import termios
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import admin, downloads, routes
from .errors import ApiError
from .faults import REQUEST_KINDS, TOKEN_KINDS
from .report_files import read_chunks
from .request import FileBody, Request, Response
from .stats import ISSUED_CREDENTIALS

DOWNLOAD_PREFIX = downloads.PREFIX
HTML_ERROR = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
# Faults that replace the response before the handler runs.
ERROR_FAULTS = {"429": 429, "429noheaders": 429, "500": 500, "502": 502, "503": 503}


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, state):
        self.state = state
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        """Injected resets and clients hanging up are expected; stay quiet about them."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PinterestEmulator/1.0"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle + delayed ACK add ~40 ms each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        """Silence per-request logging; stats cover it."""

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_HEAD(self):
        self._serve("HEAD")

    def do_DELETE(self):
        self._serve("DELETE")

    def do_PATCH(self):
        self._serve("PATCH")

    # --- dispatch -----------------------------------------------------------------------------------------------

    def _serve(self, method: str):
        state = self.server.state
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not url.path.startswith("/_emulator/") or url.path.startswith(DOWNLOAD_PREFIX):
            state.stats.check_credential_placement(self.path, dict(self.headers.items()), body)
        if url.path.startswith("/_emulator/"):
            self._send(self._admin(state, method, url, body))
            return
        query = parse_qs(url.query, keep_blank_values=True)
        state.stats.arrived(method, url.path, query)
        headers = {k.lower(): v for k, v in self.headers.items()}
        found = routes.match(method, url.path)
        if found is None:
            self._send(_error(ApiError(404, 404, f"Not found: {method} {url.path}")))
            return
        template, category, handler, params = found
        if handler is None:
            self._send(_error(ApiError(405, 405, "Method not allowed")))
            return
        req = Request(method, url.path, template, params, query, headers, body)
        endpoint = f"{method} {template}"
        if state.settings.latency_ms:
            time.sleep(state.settings.latency_ms / 1000)
        status = self._api(state, req, category, handler)
        state.stats.record(endpoint, category, status)

    def _api(self, state, req: Request, category: str, handler) -> int | str:
        """Serve one API request; returns the status recorded in stats ('reset' for dropped connections)."""
        is_token = req.template.endswith("/oauth/token")
        try:
            limit_headers = state.limiter.hit(category)
        except ApiError as e:
            return self._send(_error(e))
        try:
            if not is_token:
                req.access_token = state.tokens.check_bearer(req.headers.get("authorization"))
        except ApiError as e:
            return self._send(_error(e, limit_headers))
        permanent = state.faults.permanent_status(req.template)
        if permanent:
            state.stats.fault(f"fail:{permanent}")
            return self._send(_error(ApiError(permanent, permanent, "Emulated permanent failure"), limit_headers))
        fault = self._fault(state, req, is_token)
        if fault in ERROR_FAULTS:
            return self._send(self._error_fault(state, fault, limit_headers))
        if fault == "reset":
            self._reset()
            return "reset"
        if fault == "token_revoke":
            state.tokens.revoke(req.access_token)
            return self._send(
                _error(ApiError(401, 2, "Authentication failed: access token was revoked."), limit_headers)
            )
        if fault in ("slow", "timeout"):
            time.sleep(float(state.faults.option(f"{fault}_seconds")))
        try:
            resp = handler(state, req)
        except ApiError as e:
            resp = _error(e)
        if is_token and resp.status == 200 and isinstance(resp.body, dict):
            ISSUED_CREDENTIALS.add(resp.body.get("access_token"), "access token")
            ISSUED_CREDENTIALS.add(resp.body.get("refresh_token"), "rotated refresh token")
        resp.headers.update(limit_headers)
        if fault == "bookmark_repeat" and isinstance(resp.body, dict) and "items" in resp.body:
            # The server "forgets" to advance: it hands back the bookmark it was sent, even on the last page.
            resp.body["bookmark"] = req.one("bookmark")
        if fault == "nonjson":
            resp = Response(200, HTML_ERROR, dict(limit_headers), "text/html")
        if fault == "truncate":
            return self._send(resp, truncate=True)
        return self._send(resp)

    def _fault(self, state, req: Request, is_token: bool) -> str | None:
        if is_token:
            kinds = TOKEN_KINDS
        else:
            kinds = tuple(k for k in REQUEST_KINDS if k != "bookmark_repeat" or req.one("bookmark"))
        items = sorted((k, v) for k, vs in req.query.items() for v in vs)
        signature = f"{req.method} {req.path} {items} {req.body!r}" if not is_token else "POST /oauth/token"
        fault = state.faults.choose(signature, kinds)
        if fault:
            state.stats.fault(fault)
        # token_<kind> faults hit the token endpoint as <kind>; "token_revoke" is a data-call fault of its own.
        return fault.removeprefix("token_") if fault and is_token else fault

    def _error_fault(self, state, fault: str, limit_headers: dict) -> Response:
        status = ERROR_FAULTS[fault]
        if status != 429:
            return _error(ApiError(status, status, f"Emulated server error {status}"), limit_headers)
        headers = {}
        if fault == "429":
            retry_after = str(state.faults.option("retry_after"))
            headers = {
                **limit_headers,
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": retry_after,
                "Retry-After": retry_after,
            }
        return _error(ApiError(429, 8, "You have exceeded your rate limit. Try again later."), headers)

    def _admin(self, state, method: str, url, body: bytes) -> Response:
        try:
            if method in ("GET", "HEAD") and url.path.startswith(DOWNLOAD_PREFIX):
                token = url.path[len(DOWNLOAD_PREFIX) :].rsplit(".", 1)[0]
                headers = {k.lower(): v for k, v in self.headers.items()}
                return downloads.download(state, token, headers, head=method == "HEAD")
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            if method == "GET" and url.path in admin.GET:
                return Response(body=admin.GET[url.path](state, query))
            if method == "POST" and url.path in admin.POST:
                parsed = json.loads(body) if body.strip() else {}
                return Response(body=admin.POST[url.path](state, parsed))
            return _error(ApiError(404, 404, f"Unknown admin endpoint {method} {url.path}"))
        except ApiError as e:
            return _error(e)
        except (ValueError, TypeError) as e:
            return _error(ApiError(400, 1, str(e)))

    # --- writing ------------------------------------------------------------------------------------------------

    def _send(self, resp: Response, truncate: bool = False) -> int:
        if isinstance(resp.body, FileBody):
            return self._send_file(resp)
        payload = resp.body if isinstance(resp.body, bytes) else json.dumps(resp.body).encode()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return resp.status
        if truncate:  # promise the full length, send half, hang up
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self._reset()
            return resp.status
        self.wfile.write(payload)
        return resp.status

    def _send_file(self, resp: Response) -> int:
        """Write a report file in chunks. Like a storage host behind its load balancer, drop a reader that takes
        no bytes for download_stall_seconds (the socket timeout, which each send() restarts)."""
        body: FileBody = resp.body
        stats = self.server.state.stats
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(body.length))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.connection.settimeout(self.server.state.settings.download_stall_seconds)
        self.body_bytes_sent = 0
        try:
            self.end_headers()
            if self.command == "HEAD":
                return resp.status
            for chunk in read_chunks(body.handle, body.start, body.stop):
                if body.cut_at is not None and self.body_bytes_sent + len(chunk) >= body.cut_at:
                    self._write_patiently(chunk[: body.cut_at - self.body_bytes_sent])
                    self._reset_when_sent()
                    return resp.status
                self._write_patiently(chunk)
            if body.cut_at is not None:  # an empty body: nothing to cut but the connection
                self._reset_when_sent()
                return resp.status
            stats.bump("downloads_completed")
        except TimeoutError:
            stats.bump("downloads_dropped_slow")
            self._reset()
        except OSError:  # the client hung up
            self.close_connection = True
        finally:
            body.handle.close()
            stats.download_sent(body.level, self.body_bytes_sent)
            if not self.close_connection:
                self.connection.settimeout(None)
        return resp.status

    def _write_patiently(self, data: bytes) -> None:
        """Send all of data; each send() waits at most the socket timeout for room, so only a reader that takes
        nothing for that long times out, however slowly it reads. sendall() would time the whole chunk."""
        view = memoryview(data)
        while view:
            n = self.connection.send(view)
            self.body_bytes_sent += n
            view = view[n:]

    def _reset_when_sent(self):
        """Reset once the peer has acknowledged every byte written, so it receives exactly what was sent:
        a reset discards whatever is still queued."""
        deadline = time.monotonic() + self.server.state.settings.download_stall_seconds
        while time.monotonic() < deadline:
            try:
                queued = struct.unpack("i", fcntl.ioctl(self.connection, termios.TIOCOUTQ, b"\0\0\0\0"))[0]
            except OSError:
                break
            if queued == 0:
                break
            time.sleep(0.005)
        self._reset()

    def _reset(self):
        """Drop the connection with a TCP RST and no (further) response bytes."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def finish(self):
        with contextlib.suppress(OSError):
            super().finish()


def _error(e: ApiError, headers: dict | None = None) -> Response:
    return Response(e.status, e.body(), {**(headers or {}), **e.headers})
