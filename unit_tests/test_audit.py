"""The dependency audit gate (scripts/audit.py): what it asks pip-audit, and how it judges the answer, offline."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from scripts import audit

REPO = Path(__file__).resolve().parent.parent
POETRY = REPO / ".venv-tools" / "bin" / "poetry"


def dependency(name: str, version: str = "1.0", vulns=(), skip_reason: str | None = None) -> dict:
    if skip_reason:
        return {"name": name, "skip_reason": skip_reason}
    return {"name": name, "version": version, "vulns": list(vulns)}


def vuln(vuln_id: str, aliases=(), fixed=("2.0",)) -> dict:
    return {"id": vuln_id, "aliases": list(aliases), "fix_versions": list(fixed), "description": "..."}


NOT_FOUND = "Dependency not found on PyPI and could not be audited: requests (2.32.3)"

VERDICTS = [
    # id, pip-audit's report, its stderr, ignore file, exit code, a line the verdict must hold
    ("nothing found", {"dependencies": [dependency("requests")]}, "", {}, 0, "passed: 1 packages audited"),
    (
        "a finding",
        {"dependencies": [dependency("requests", "2.31.0", [vuln("GHSA-9wx4-h78v-vm56")])]},
        "",
        {},
        1,
        "requests 2.31.0: GHSA-9wx4-h78v-vm56 (fixed in: 2.0)",
    ),
    (
        "a finding ignored by an alias, with its reason",
        {"dependencies": [dependency("requests", "2.31.0", [vuln("PYSEC-1", aliases=["CVE-2024-1"])])]},
        "",
        {"CVE-2024-1": "only in tests"},
        0,
        "PYSEC-1 ignored: only in tests",
    ),
    (
        "every package skipped: the database was not reached",
        {"dependencies": [dependency("requests", skip_reason=NOT_FOUND)]},
        "",
        {},
        0,
        audit.NOT_RUN,
    ),
    (
        "no report, network down",
        None,
        "requests.exceptions.ConnectionError: Max retries exceeded",
        {},
        0,
        audit.NOT_RUN,
    ),
    ("no report, another reason", None, "ERROR: hash mismatch for six", {}, 1, "FAILED: it could not audit"),
    (
        "some packages skipped",
        {"dependencies": [dependency("requests"), dependency("private-lib", skip_reason="not found")]},
        "",
        {},
        0,
        "PARTIAL: 1 of 2 packages could not be audited: private-lib",
    ),
    (
        "a finding while others were skipped still fails",
        {"dependencies": [dependency("urllib3", "1.0", [vuln("GHSA-1")]), dependency("x", skip_reason="not found")]},
        "",
        {},
        1,
        "FAILED: 1 known vulnerabilities",
    ),
]


@pytest.mark.parametrize(
    "report,stderr,ignores,exit_code,line", [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS]
)
def test_verdict(report, stderr, ignores, exit_code, line):
    verdict = audit.judge(report, ignores, stderr)

    assert verdict.exit_code == exit_code
    assert any(line in text for text in verdict.lines), verdict.lines


def test_not_run_is_loud():
    verdict = audit.judge({"dependencies": [dependency("requests", skip_reason=NOT_FOUND)]}, {})

    assert verdict.lines[0] == verdict.lines[2] == audit.BANNER
    assert verdict.lines[1].startswith("pip-audit: NOT RUN: could not reach the vulnerability database")


def test_ignore_entries_need_a_justification():
    text = "# comment\n\nGHSA-aaaa  # only the test cache uses duckdb\nPYSEC-2\n"

    with pytest.raises(ValueError, match="line 4: 'PYSEC-2' is ignored without a justification"):
        audit.read_ignores(text)
    assert audit.read_ignores(text.replace("PYSEC-2\n", "")) == {"GHSA-aaaa": "only the test cache uses duckdb"}


def test_the_committed_ignore_file_justifies_every_entry():
    audit.read_ignores((REPO / ".ci" / "pip-audit-ignore.txt").read_text())


def test_pip_audit_checks_the_hashed_pins_without_resolving_or_installing():
    command = audit.audit_command("python", "reqs.txt", "out.json")

    assert command[:3] == ["python", "-m", "pip_audit"]
    assert {"--require-hashes", "--disable-pip"} <= set(command)
    assert command[command.index("--requirement") + 1] == "reqs.txt"
    assert command[command.index("--format") + 1] == "json" and command[command.index("--output") + 1] == "out.json"


def test_given_pip_audit_cannot_reach_its_database_when_the_gate_runs_then_it_says_so_and_passes(
    monkeypatch, capsys, tmp_path
):
    def offline_pip_audit(command, **kwargs):
        report = {"dependencies": [dependency("requests", skip_reason=NOT_FOUND)], "fixes": []}
        Path(command[command.index("--output") + 1]).write_text(json.dumps(report))
        return subprocess.CompletedProcess(command, 0, "", "No known vulnerabilities found")

    monkeypatch.setattr(audit.subprocess, "run", offline_pip_audit)

    exit_code = audit.main(["--requirements", "reqs.txt", "--ignore-file", str(tmp_path / "none.txt")])

    assert exit_code == 0
    assert audit.NOT_RUN in capsys.readouterr().out


def test_given_an_unjustified_ignore_when_the_gate_runs_then_it_fails_before_auditing(monkeypatch, capsys, tmp_path):
    ignores = tmp_path / "ignore.txt"
    ignores.write_text("GHSA-1\n")
    monkeypatch.setattr(audit.subprocess, "run", lambda *a, **k: pytest.fail("pip-audit must not run"))

    assert audit.main(["--requirements", "reqs.txt", "--ignore-file", str(ignores)]) == 1
    assert "without a justification" in capsys.readouterr().out


@pytest.mark.skipif(not POETRY.exists(), reason="the Poetry of scripts/dev.sh is not installed")
def test_the_export_pins_every_locked_package_with_its_hashes(tmp_path):
    exported = tmp_path / "requirements.txt"
    subprocess.run(
        [str(POETRY), "export", "--with", "dev", "--format", "requirements.txt", "--output", str(exported)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )

    entries = re.split(r"\n(?=\S)", exported.read_text().strip())
    pins = {}
    for entry in entries:
        match = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", entry)
        assert match, f"not an exact pin: {entry[:80]}"
        assert "--hash=sha256:" in entry, f"{match.group(1)} is exported without a hash"
        pins[match.group(1).lower()] = match.group(2)
    locked = {p["name"].lower(): p["version"] for p in tomllib.loads((REPO / "poetry.lock").read_text())["package"]}
    assert pins["pip-audit"] == locked["pip-audit"]
    assert all(locked[name] == version for name, version in pins.items())
