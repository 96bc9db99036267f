"""End-to-end fixtures: an emulator per test module, the real CLI run as a subprocess against it, and the secret
scan that fails any test whose output (CLI runs, captured stdout/stderr/logs, failure reports) shows a credential."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from pinterest_emulator import Emulator, sample_config
from pinterest_emulator.stats import ISSUED_CREDENTIALS
from pinterest_emulator.sync_runner import RUN_OBSERVERS, ConnectorRun, configured_catalog, run_connector

ENTITY_STREAMS = (
    "user_account",
    "boards",
    "board_sections",
    "board_pins",
    "board_section_pins",
    "pins",
    "ad_accounts",
    "campaigns",
    "ad_groups",
    "ads",
    "audiences",
    "customer_lists",
    "conversion_tags",
    "keywords",
    "lead_forms",
    "catalogs",
    "catalogs_feeds",
    "catalogs_product_groups",
)


class Connector:
    """The CLI bound to one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.config = sample_config()
        self._catalog: dict | None = None

    def run(self, command: str, config: Mapping[str, Any] | None = None, **kwargs: Any) -> ConnectorRun:
        return run_connector(command, self.emulator.base_url, config or self.config, **kwargs)

    def catalog(self, streams=ENTITY_STREAMS, incremental: bool = True) -> dict:
        if self._catalog is None:
            self._catalog = configured_catalog(self.run("discover"), incremental=True)
        chosen = [s for s in self._catalog["streams"] if s["stream"]["name"] in set(streams)]
        if not incremental:
            chosen = [{**s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in chosen]
        return {"streams": chosen}

    def read(self, streams=ENTITY_STREAMS, state=None, incremental: bool = True, **kwargs: Any) -> ConnectorRun:
        return self.run("read", catalog=self.catalog(streams, incremental), state=state, **kwargs)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(seed=7, size="small") as emu:
        yield emu


@pytest.fixture
def fresh_emulator() -> Iterator[Emulator]:
    """For tests that mutate data or change faults."""
    with Emulator(seed=11, size="small") as emu:
        yield emu


@pytest.fixture(scope="module")
def connector(emulator: Emulator) -> Connector:
    return Connector(emulator)


def truth(emulator: Emulator, stream: str, **params: Any) -> list[dict]:
    return emulator.truth(stream, **params)["records"]


def campaign_days_in_truth(emulator: Emulator, days: int) -> set[tuple[str, str]]:
    """(campaign id, DATE) of every campaign_analytics row the emulator holds for the last `days` days to today."""
    end = dt.datetime.now(dt.UTC).date()
    rows = emulator.truth(
        "analytics",
        level="CAMPAIGN",
        start_date=(end - dt.timedelta(days=days)).isoformat(),
        end_date=end.isoformat(),
        granularity="DAY",
    )["rows"]
    return {(str(row["CAMPAIGN_ID"]), row["DATE"]) for row in rows}


def assert_records_match_truth(records: list[dict], expected: list[dict], stream: str) -> None:
    """Same ids, no duplicates, none missing, and every field the API returned carried through unchanged."""
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), f"{stream}: duplicate records"
    by_id = {r["id"]: r for r in records}
    expected_by_id = {str(e["id"]): e for e in expected}
    assert set(by_id) == set(expected_by_id), (
        f"{stream}: missing {set(expected_by_id) - set(by_id)}, extra {set(by_id) - set(expected_by_id)}"
    )
    for record_id, expected_record in expected_by_id.items():
        for field, value in expected_record.items():
            got = by_id[record_id].get(field)
            if field == "id" or field.endswith("_id"):
                value = None if value is None else str(value)
            assert got == value, f"{stream} {record_id}.{field}: {got!r} != {value!r}"


# -- the secret scan -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leak:
    kind: str  # "client secret", "refresh token", "rotated refresh token", "access token"
    where: str
    line: str  # the offending line, the secret replaced by ***

    def __str__(self) -> str:
        return f"{self.kind} in {self.where}: {self.line}"


def is_config_control_message(line: str) -> bool:
    """The one line allowed to carry credentials: the platform's CONTROL message with the updated config (a rotated
    refresh token must reach the platform somehow); it is stored encrypted, never shown."""
    if '"CONTROL"' not in line:
        return False
    try:
        message = json.loads(line)
    except ValueError:
        return False
    return (
        isinstance(message, dict)
        and message.get("type") == "CONTROL"
        and (message.get("control") or {}).get("type") == "CONNECTOR_CONFIG"
    )


@dataclass
class SecretScan:
    """Looks for every secret the emulators of this process know or issued (client secret, refresh tokens,
    rotated ones included, and every access token) in text; each find names the kind of secret, never its value."""

    runs_scanned: int = 0
    pending: list[Leak] = dataclasses.field(default_factory=list)

    def leaks_in(self, text: str, where: str) -> list[Leak]:
        if not text:
            return []
        secrets = ISSUED_CREDENTIALS.named()
        # One pass per secret over the whole text (fast); lines are looked at only when a secret is there.
        present = {value: kind for value, kind in secrets.items() if value in text}
        leaks = []
        if present:
            for number, line in enumerate(text.splitlines(), start=1):
                if is_config_control_message(line):
                    continue
                for value, kind in present.items():
                    if value in line:
                        leaks.append(Leak(kind, f"{where}, line {number}", self.redact(line)[:300]))
        return leaks

    def observe_run(self, run: ConnectorRun) -> None:
        """A sync_runner observer: every CLI run's stdout and stderr."""
        self.runs_scanned += 1
        command = " ".join(run.command[2:3])  # the connector command: spec, check, discover or read
        self.pending += self.leaks_in("\n".join(run.stdout_lines), f"stdout of `{command}`")
        self.pending += self.leaks_in(run.stderr, f"stderr of `{command}`")

    def take_pending(self) -> list[Leak]:
        leaks, self.pending = self.pending, []
        return leaks

    @staticmethod
    def redact(text: str) -> str:
        for value in sorted(ISSUED_CREDENTIALS.named(), key=len, reverse=True):
            text = text.replace(value, "***")
        return text


SECRET_SCAN = SecretScan()


@pytest.fixture(scope="session", autouse=True)
def scan_every_cli_run_for_secrets() -> Iterator[SecretScan]:
    RUN_OBSERVERS.append(SECRET_SCAN.observe_run)
    try:
        yield SECRET_SCAN
    finally:
        RUN_OBSERVERS.remove(SECRET_SCAN.observe_run)


def _report_texts(report: pytest.TestReport) -> Iterable[tuple[str, str]]:
    yield from report.sections
    if report.longrepr is not None:
        yield f"failure report of {report.when}", str(report.longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """After each phase of each test: the CLI runs it made and everything it printed are scanned; a find fails
    the test with what leaked and where, and the secret is blanked out of the report pytest is about to print."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    leaks = SECRET_SCAN.take_pending()
    for title, text in _report_texts(report):
        leaks += SECRET_SCAN.leaks_in(text, title)
    if not leaks:
        return
    report.sections = [(title, SECRET_SCAN.redact(content)) for title, content in report.sections]
    verdict = "Secret scan: credentials in the output of this test\n" + "\n".join(f"  {leak}" for leak in leaks)
    earlier = f"\n\n{SECRET_SCAN.redact(str(report.longrepr))}" if report.longrepr is not None else ""
    report.outcome = "failed"
    report.longrepr = verdict + earlier
