"""OAuth: the refresh-token grant of POST /v5/oauth/token and bearer-token checks."""

import base64
import secrets
import threading
import time
from urllib.parse import parse_qs

from .errors import ApiError, unauthorized
from .request import Response

CLIENT_ID = "emulator-client-id"
CLIENT_SECRET = "emulator-client-secret"
REFRESH_TOKEN = "emulator-refresh-token"
SCOPES = "ads:read,boards:read,boards:read_secret,catalogs:read,pins:read,pins:read_secret,user_accounts:read"
# What a token needs to see secret boards and the pins on them (API_FACTS section 1); without them those are left out
# of every listing, as GET /boards documents ("based on the scopes of the token"), and nothing fails.
SECRET_BOARDS_SCOPE = "boards:read_secret"
SECRET_PINS_SCOPE = "pins:read_secret"
REFRESH_TOKEN_TTL = 60 * 86400  # "continuous refresh" tokens live 60 days, renewed by every refresh


class TokenStore:
    """Valid refresh tokens and access tokens (with expiry); thread-safe."""

    def __init__(self, token_ttl: int = 3600, rotate_refresh_tokens: bool = False, scopes: str = SCOPES):
        self.token_ttl = token_ttl
        self.rotate = rotate_refresh_tokens
        self.scopes = scopes  # what the account owner granted the app: every token is issued with these
        self._lock = threading.Lock()
        self._refresh = {REFRESH_TOKEN}
        self._access: dict[str, float] = {}
        self._granted: dict[str, frozenset[str]] = {}  # access token -> its scopes
        self.refreshes = 0
        self.refresh_token_ttl = REFRESH_TOKEN_TTL  # what the refresh answers; shorter to try the expiry warning

    def check_client(self, authorization: str | None) -> None:
        """HTTP Basic client_id:client_secret, required by the token endpoint."""
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if authorization != f"Basic {expected}":
            raise unauthorized("Authentication failed. Client id or client secret is invalid.")

    def refresh(self, form: dict) -> dict:
        grant = form.get("grant_type", [""])[-1]
        if grant != "refresh_token":
            raise ApiError(400, 1, f"Invalid grant_type '{grant}': only refresh_token is supported by the emulator")
        token = form.get("refresh_token", [""])[-1]
        with self._lock:
            if token not in self._refresh:
                raise ApiError(400, 1, "invalid_grant: the refresh token is invalid, expired or revoked")
            if self.rotate:  # single-use refresh tokens: the old one dies, a new one is issued
                self._refresh.discard(token)
                token = "emulator-refresh-" + secrets.token_hex(12)
                self._refresh.add(token)
            access = "emulator-access-" + secrets.token_hex(16)
            self._access[access] = time.time() + self.token_ttl
            self._granted[access] = frozenset(self.scopes.split(","))
            self.refreshes += 1
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.token_ttl,
            "scope": self.scopes,
            "response_type": "refresh_token",
            "refresh_token": token,
            "refresh_token_expires_in": self.refresh_token_ttl,
            "refresh_token_expires_at": int(time.time()) + self.refresh_token_ttl,
        }

    def check_bearer(self, authorization: str | None) -> str:
        """Return the access token of a request, or raise 401 code 2."""
        if not authorization or not authorization.startswith("Bearer "):
            raise unauthorized("Authentication failed: missing bearer token.")
        token = authorization[len("Bearer ") :]
        with self._lock:
            expiry = self._access.get(token)
        if expiry is None:
            raise unauthorized("Authentication failed: access token is invalid or revoked.")
        if expiry < time.time():
            raise unauthorized("Authentication failed: access token has expired.")
        return token

    def scopes_of(self, access_token: str | None) -> frozenset[str]:
        """The scopes of a token; a request made without one (handlers called directly) has them all."""
        with self._lock:
            granted = self._granted.get(access_token) if access_token else None
        return granted if granted is not None else frozenset(SCOPES.split(","))

    def revoke(self, access_token: str) -> None:
        with self._lock:
            self._access.pop(access_token, None)


def bearer_session(base_url: str):
    """A requests.Session carrying an access token of this emulator (its app credentials, its refresh token), for
    the measuring tools. requests is imported here: the server itself needs only the standard library."""
    import requests

    token = requests.post(
        f"{base_url}/oauth/token",
        auth=(CLIENT_ID, CLIENT_SECRET),
        data={"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN},
        timeout=30,
    ).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def token_endpoint(state, req) -> Response:
    """POST /v5/oauth/token: Basic client auth + form body; refresh_token grant only."""
    state.tokens.check_client(req.headers.get("authorization"))
    form = parse_qs(req.body.decode("utf-8", "replace"))
    body = state.tokens.refresh(form)
    state.stats.bump("token_refreshes")
    # Apps created before 2025-09-25 are told to send it (the operation's prose; no request-schema property).
    if form.get("continuous_refresh", [""])[-1] == "true":
        state.stats.bump("continuous_refreshes")
    return Response(body=body)


ROUTES = [("POST", "/oauth/token", "org_read", token_endpoint)]
