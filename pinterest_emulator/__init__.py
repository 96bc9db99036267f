"""Pinterest API v5 emulator: deterministic data, faults and rate limits for testing source-pinterest."""

from .auth import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN
from .emulator import Emulator


def sample_config() -> dict:
    """An Airbyte config for source-pinterest that authenticates against the emulator."""
    return {
        "credentials": {
            "auth_method": "oauth2.0",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        }
    }


__all__ = ["CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN", "Emulator", "sample_config"]
