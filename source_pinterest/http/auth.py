"""OAuth2 for Pinterest: the CDK's single-use refresh-token authenticator, told how Pinterest's token endpoint works."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Callable, MutableMapping
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.requests_native_auth import SingleUseRefreshTokenOauth2Authenticator
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets, filter_secrets
from airbyte_cdk.utils.datetime_helpers import AirbyteDateTime
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest.http.errors import PinterestError

TOKEN_PATH = "oauth/token"
# Pinterest's refresh tokens are "continuous": 60 days, renewed by every refresh. Apps created before 2025-09-25 get
# them only when the refresh asks for `continuous_refresh=true` (the operation's description; the request schema has
# no such property, API_FACTS section 2); newer apps have them anyway.
CONTINUOUS_REFRESH = {"continuous_refresh": "true"}
# Where the refresh token's end (the refresh answer's refresh_token_expires_at) is kept in the config, so that a
# later sync that needs no refresh still knows it.
REFRESH_TOKEN_EXPIRY_FIELD = "refresh_token_expires_at"
EXPIRY_WARNING_AHEAD = dt.timedelta(days=7)

logger = logging.getLogger("airbyte")


class PinterestAuthenticator(SingleUseRefreshTokenOauth2Authenticator):
    """Pinterest returns a refresh token on every refresh and may rotate it, so the CDK's single-use flavour fits:
    it saves the new token in the config and emits the control message that updates the stored config. What this
    class adds: HTTP Basic client authentication (the spec's `basic` security for /oauth/token), a control
    message only when the refresh token really changed, and errors that tell a bad app secret from a dead token."""

    def __init__(self, config: MutableMapping[str, Any], base_url: str) -> None:
        credentials = config["credentials"]
        basic = base64.b64encode(f"{credentials['client_id']}:{credentials['client_secret']}".encode()).decode()
        self._emitted_refresh_token: str | None = credentials["refresh_token"]
        self._emitted_expiry: str | None = credentials.get(REFRESH_TOKEN_EXPIRY_FIELD)
        self._parsed_expiry: tuple[Any, AirbyteDateTime] | None = None
        self.granted_scopes: frozenset[str] | None = None  # the `scope` of the last refresh; None before one
        self._expiry_warned = False
        self._credentials = credentials  # the config's own mapping: what is written here is saved with it
        super().__init__(
            connector_config=config,
            token_refresh_endpoint=base_url + TOKEN_PATH,
            refresh_request_headers={"Authorization": f"Basic {basic}"},
            refresh_request_body=CONTINUOUS_REFRESH,
        )

    # The workers share this authenticator. The CDK serializes refreshes on its `_token_refresh_lock` (a private
    # member, airbyte-cdk 7.x), but checks the expiry and reads the token outside it, walking the config (dpath)
    # while another worker's refresh writes into it: "dictionary changed size during iteration". Reads take the
    # same lock; it is re-entrant, and held only for a dict lookup unless a refresh is under way.
    def get_access_token(self) -> str:
        with self._token_refresh_lock:
            return super().get_access_token()

    def refresh_and_set_access_token(self) -> None:
        with self._token_refresh_lock:
            super().refresh_and_set_access_token()

    def authorization(self) -> str | None:
        """The Authorization header every worker sends now (errors.SharedToken)."""
        return self.get_auth_header().get("Authorization")

    def replace_refused(self, refused: str | None) -> bool:
        """Refresh unless another worker already replaced the refused token (errors.SharedToken). Checked under the
        refresh lock, so two workers refused the same token refresh it once."""
        with self._token_refresh_lock:
            if refused != self.authorization():
                return False
            self.refresh_and_set_access_token()
            return True

    def get_token_expiry_date(self) -> AirbyteDateTime:
        # The CDK parses the stored expiry string on every request (half a millisecond, more than the rest of the
        # request's own work); it only changes when the token is refreshed, so the parse is kept per string.
        stored = self._get_config_value_by_path(self._token_expiry_date_config_path)
        parsed = self._parsed_expiry
        if parsed is None or parsed[0] != stored:
            parsed = (stored, super().get_token_expiry_date())
            self._parsed_expiry = parsed
        return parsed[1]

    def set_refresh_token(self, new_refresh_token: str) -> None:
        add_to_secrets(new_refresh_token)
        super().set_refresh_token(new_refresh_token)

    def _emit_control_message(self) -> None:
        # Every refresh answers with a refresh token; the stored config is updated when it changed, or when its end
        # moved by a day or more (a continuous token renewed in place), so that a later sync that needs no refresh
        # warns from the current end. Seconds of drift between refreshes are not worth a config update.
        current, expiry = self.get_refresh_token(), self._credentials.get(REFRESH_TOKEN_EXPIRY_FIELD)
        if current != self._emitted_refresh_token or _moved_a_day(self._emitted_expiry, expiry):
            self._emitted_refresh_token, self._emitted_expiry = current, expiry
            super()._emit_control_message()

    # The CDK's SingleUseRefreshTokenOauth2Authenticator widens AbstractOauth2Authenticator's 2-tuple to a 3-tuple
    # (and ignores the same override error itself); this keeps its signature.
    def refresh_access_token(self) -> tuple[str, AirbyteDateTime, str | None]:  # type: ignore[override]
        try:
            return super().refresh_access_token()
        except requests.HTTPError as error:
            raise token_endpoint_error(error.response, self._redact) from None

    def _make_handled_request(self) -> Any:
        # The refresh response requires `scope` (OauthAccessTokenResponseRefresh): what the token may read, kept so
        # that content a scope hides without an error (secret boards and pins) can be named in a warning.
        response = super()._make_handled_request()
        if not isinstance(response, dict):
            return response  # the CDK's own checks name what is missing
        scope = response.get("scope")
        if isinstance(scope, str):
            self.granted_scopes = frozenset(scope.replace(",", " ").split())
        expires_at = response.get(REFRESH_TOKEN_EXPIRY_FIELD)
        if isinstance(expires_at, int) and not isinstance(expires_at, bool):
            # Saved with the rotated refresh token (the control message carries the whole config).
            when = dt.datetime.fromtimestamp(expires_at, dt.UTC).replace(microsecond=0).isoformat()
            self._credentials[REFRESH_TOKEN_EXPIRY_FIELD] = when
            self.warn_if_refresh_token_ends_soon()
        return response

    def refresh_token_expires_at(self) -> dt.datetime | None:
        """When the refresh token stops working, as Pinterest last said; None when it never said."""
        stored = self._credentials.get(REFRESH_TOKEN_EXPIRY_FIELD)
        try:
            when = dt.datetime.fromisoformat(stored) if isinstance(stored, str) else None
        except ValueError:
            return None
        return when if when is None or when.tzinfo else when.replace(tzinfo=dt.UTC)

    def warn_if_refresh_token_ends_soon(self, now: dt.datetime | None = None) -> None:
        """One warning per run when the refresh token ends within EXPIRY_WARNING_AHEAD: after that day every sync
        fails until the account is authenticated again."""
        when = self.refresh_token_expires_at()
        now = now or dt.datetime.now(dt.UTC)
        if self._expiry_warned or when is None or when - now > EXPIRY_WARNING_AHEAD:
            return
        self._expiry_warned = True
        left = max(0, (when - now).days)
        logger.warning(
            f"The Pinterest refresh token expires on {when.date().isoformat()} ({left} days from now): "
            f"re-authenticate the Pinterest account in this source's settings before then, or syncs will fail "
            f"with a config error."
        )

    def _redact(self, text: str) -> str:
        # Pinterest's error message may echo what it was sent; a check status is not passed through the CDK's filter.
        text = filter_secrets(text)
        for secret in (self.get_refresh_token(), self.get_client_secret()):
            if secret:
                text = text.replace(secret, "****")
        return text


def _moved_a_day(before: str | None, after: str | None) -> bool:
    if after is None or before == after:
        return False
    try:
        return before is None or abs(dt.datetime.fromisoformat(after) - dt.datetime.fromisoformat(before)).days >= 1
    except (TypeError, ValueError):
        return True  # an unreadable saved end is replaced


def token_endpoint_error(
    response: requests.Response | None, redact: Callable[[str], str] = filter_secrets
) -> AirbyteTracedException:
    """A config error that says which credential Pinterest refused, with Pinterest's own code and message."""
    if response is None:
        return AirbyteTracedException(
            message="Pinterest's token endpoint could not be reached.", failure_type=FailureType.transient_error
        )
    error = PinterestError.of(response)
    pinterest_says = f"Pinterest answered HTTP {error.status}" + (
        f", code {error.code}" if error.code is not None else ""
    )
    pinterest_says += f": {error.message or 'no message'}"
    if error.status == 401:
        advice = "The app credentials were refused: check client_id and client_secret (the app's ID and secret key)."
    elif error.status in (400, 403):
        advice = (
            "The refresh token was refused (revoked, expired or already used): re-authenticate the Pinterest "
            "account to get a new refresh token."
        )
    else:
        advice = "The access token could not be refreshed."
    failure = FailureType.config_error if error.status in (400, 401, 403) else FailureType.transient_error
    message = redact(f"{advice} {pinterest_says}")
    return AirbyteTracedException(message=message, internal_message=message, failure_type=failure)
