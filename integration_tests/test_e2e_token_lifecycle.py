"""The refresh token's life through the CLI: the connector asks for continuous refresh, keeps the token's end that
Pinterest answers in the saved config, and warns at check and at every sync once that end is a week away or less."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from integration_tests.conftest import Connector
from pinterest_emulator import Emulator

DAY = 86400


@pytest.fixture
def account() -> Iterator[Connector]:
    with Emulator(seed=3, size="small", rotate_refresh_tokens=True) as emulator:
        yield Connector(emulator)


def expiry_warnings(run) -> list[str]:
    return [line for line in run.logs("WARN") if "refresh token expires on" in line]


def saved_config(run) -> dict:
    """The config the platform saves from the run's control message (the refresh token rotates on every refresh)."""
    (control,) = [m["control"] for m in run.of_type("CONTROL")]
    return control["connectorConfig"]["config"]


def saved_credentials(run) -> dict:
    return saved_config(run)["credentials"]


def test_given_a_token_ending_in_three_days_when_check_and_read_then_each_warns_once_from_the_saved_end(account):
    account.emulator.configure(refresh_token_ttl=3 * DAY + 60)

    check = account.run("check")
    read = account.read(["user_account"], config=saved_config(check))

    assert check.returncode == 0 and read.returncode == 0, (check.errors(), read.errors())
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).date().isoformat()
    assert saved_credentials(check)["refresh_token_expires_at"].startswith(ends)
    for run in (check, read):
        (warning,) = expiry_warnings(run)
        assert f"expires on {ends} (3 days from now)" in warning
    # The read used the access token saved by check: its warning comes from the saved end, without a refresh.
    assert account.emulator.stats()["continuous_refreshes"] == account.emulator.stats()["token_refreshes"] == 1


def test_given_the_default_sixty_day_token_when_read_then_no_warning(account):
    run = account.read(["user_account"])

    assert run.returncode == 0, run.errors()
    assert expiry_warnings(run) == []
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(days=60)).date().isoformat()
    assert saved_credentials(run)["refresh_token_expires_at"].startswith(ends)
