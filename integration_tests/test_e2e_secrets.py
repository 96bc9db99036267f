"""Credentials stay where they belong: the access token only in the Authorization header of API calls (never in a
URL, another header or a body), no Authorization header on report downloads, and no secret in any output.

The output side is enforced for every end-to-end test by the secret scan in conftest.py; the tests here prove that
scan really fails a test that shows a secret, and that it is wired to the CLI runs."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

from integration_tests.conftest import SECRET_SCAN, Connector, SecretScan
from pinterest_emulator import CLIENT_SECRET, REFRESH_TOKEN, Emulator
from pinterest_emulator.stats import ISSUED_CREDENTIALS
from pinterest_emulator.sync_runner import ConnectorRun

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent


def run_with_output(stdout_lines: list[str], stderr: str = "") -> ConnectorRun:
    return ConnectorRun(["python", "main.py", "read"], 0, [], stdout_lines, stderr, 0.0)


def control_message_with(refresh_token: str) -> str:
    config = {"credentials": {"client_secret": CLIENT_SECRET, "refresh_token": refresh_token}}
    return json.dumps(
        {"type": "CONTROL", "control": {"type": "CONNECTOR_CONFIG", "connectorConfig": {"config": config}}}
    )


# -- the scanner ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stdout_lines,stderr,kind",
    [
        ([f'{{"type": "LOG", "log": {{"message": "secret={CLIENT_SECRET}"}}}}'], "", "client secret"),
        ([], f"Traceback ...\nrefresh_token={REFRESH_TOKEN}\n", "refresh token"),
        (["not json at all " + REFRESH_TOKEN], "", "refresh token"),
    ],
    ids=["client secret in a log line", "refresh token in stderr", "refresh token in a raw line"],
)
def test_the_scan_finds_a_planted_secret_and_names_it_without_its_value(stdout_lines, stderr, kind):
    scan = SecretScan()

    scan.observe_run(run_with_output(stdout_lines, stderr))

    (leak,) = scan.take_pending()
    assert leak.kind == kind
    assert "`read`" in leak.where
    assert CLIENT_SECRET not in str(leak) and REFRESH_TOKEN not in str(leak)
    assert "***" in leak.line


def test_the_scan_knows_every_access_token_an_emulator_issued(connector):
    before = set(ISSUED_CREDENTIALS.access_tokens())

    connector.run("check")

    issued = set(ISSUED_CREDENTIALS.access_tokens()) - before
    assert issued, "the check refreshed a token; the registry should hold it"
    scan = SecretScan()
    scan.observe_run(run_with_output([f"Bearer {token}" for token in issued]))
    assert {leak.kind for leak in scan.take_pending()} == {"access token"}


def test_the_config_control_message_is_the_one_line_allowed_to_carry_credentials():
    scan = SecretScan()

    scan.observe_run(run_with_output([control_message_with(REFRESH_TOKEN)]))
    assert scan.take_pending() == []

    # The same text in anything else, even another CONTROL message, is a leak.
    other_control = control_message_with(REFRESH_TOKEN).replace("CONNECTOR_CONFIG", "SOMETHING_ELSE")
    scan.observe_run(run_with_output([other_control]))
    assert {leak.kind for leak in scan.take_pending()} == {"client secret", "refresh token"}


def test_the_session_scan_sees_every_cli_run(connector):
    connector.catalog()  # the discover run behind the catalog is not counted below
    before = SECRET_SCAN.runs_scanned

    connector.run("spec")
    connector.read(("ad_accounts",))

    assert SECRET_SCAN.runs_scanned == before + 2


def test_a_test_that_shows_a_secret_fails_with_the_secret_blanked_out(pytester, monkeypatch):
    """A whole pytest session with this folder's hooks: each way a secret can reach the output fails its test."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makeconftest(
        "from integration_tests.conftest import pytest_runtest_makereport, scan_every_cli_run_for_secrets\n"
    )
    pytester.makepyfile(
        test_planted=textwrap.dedent(
            """
            import logging
            import requests
            from pinterest_emulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, Emulator
            from pinterest_emulator.sync_runner import ConnectorRun, _observed, run_connector
            from integration_tests.test_e2e_secrets import control_message_with

            def test_prints_the_client_secret():
                print("config:", CLIENT_SECRET)

            def test_logs_the_refresh_token():
                logging.getLogger("airbyte").warning("refreshing with %s", REFRESH_TOKEN)

            def test_fails_with_an_access_token_in_the_assertion():
                with Emulator(seed=1) as emulator:
                    token = requests.post(
                        emulator.base_url + "/oauth/token",
                        auth=(CLIENT_ID, CLIENT_SECRET),
                        data={"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN},
                    ).json()["access_token"]
                assert token == "something else"

            def test_cli_run_printing_a_secret():
                _observed(ConnectorRun(["python", "main.py", "read"], 0, [], [], "token " + REFRESH_TOKEN, 0.0))

            def test_clean_cli_run():
                with Emulator(seed=1) as emulator:
                    run = run_connector("spec", emulator.base_url, {})
                assert run.returncode == 0

            def test_prints_the_config_control_message():
                print(control_message_with(REFRESH_TOKEN))
            """
        )
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-rf")

    outcomes = result.parseoutcomes()
    assert (outcomes.get("failed"), outcomes.get("passed")) == (4, 2), result.outlines[-20:]
    output = "\n".join(result.outlines + result.errlines)
    for test, kind in [
        ("test_prints_the_client_secret", "client secret in Captured stdout call"),
        ("test_logs_the_refresh_token", "refresh token in Captured log call"),
        ("test_fails_with_an_access_token_in_the_assertion", "access token in failure report of call"),
        ("test_cli_run_printing_a_secret", "refresh token in stderr of `read`"),
    ]:
        assert f"FAILED test_planted.py::{test}" in output
        assert kind in output, kind
    assert CLIENT_SECRET not in output and REFRESH_TOKEN not in output
    assert not any(token in output for token in ISSUED_CREDENTIALS.access_tokens())


# -- where the tokens travel ----------------------------------------------------------------------------------------


def test_given_tokens_expiring_mid_sync_then_no_token_ever_travels_outside_the_authorization_header():
    """Entity pages, report creation, polls and downloads, with access tokens that live 1 second and refresh tokens
    that rotate, so one sync uses several of each."""
    start_date = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)).isoformat()
    with Emulator(seed=5, size="small", report_polls=1, token_ttl=1, rotate_refresh_tokens=True) as emulator:
        connector = Connector(emulator)
        connector.config = {**connector.config, "start_date": start_date}
        run = connector.read(
            ("ad_accounts", "campaigns", "boards", "board_pins", "advertiser_report"),
            # A request that reaches the server just after its token expired is refused and retried at once.
            extra_env={"PINTEREST_BACKOFF_BASE_SECONDS": "0.1"},
        )
        stats = emulator.stats()

    assert run.returncode == 0, (run.errors(), run.stderr[-2000:])
    assert stats["token_refreshes"] > 1, "a single token: the check proved less than it claims"
    assert run.of_type("CONTROL"), "rotated refresh tokens reach the platform in CONTROL messages"
    assert stats["downloads"] > 0, "no report file was downloaded: the download check proved nothing"
    assert stats["downloads_with_authorization_header"] == 0
    assert stats["requests_with_credentials_in_url"] == 0
    assert stats["requests_with_access_token_outside_authorization"] == 0
