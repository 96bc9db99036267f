"""Known-vulnerability audit of the locked dependencies: pip-audit over `poetry export`, judged here.

pip-audit alone is not enough to trust: when it cannot reach its vulnerability database it skips every package
and still says "No known vulnerabilities found" with exit code 0. This gate reads its JSON report instead:

- every package audited, nothing found (or every finding justified in the ignore file): pass;
- a finding that is not justified: fail, naming package, version, vulnerability and the fixed versions;
- the database could not be reached (nothing, or not everything, was audited): a loud NOT RUN line and pass,
  because an offline CI run cannot tell anything about vulnerabilities either way.

The ignore file (.ci/pip-audit-ignore.txt) holds one vulnerability id per line with its justification after '#';
an entry without one is refused, so every ignored finding says why it does not apply.

Usage: python scripts/audit.py --requirements exported.txt [--ignore-file .ci/pip-audit-ignore.txt]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOT_RUN = "pip-audit: NOT RUN: could not reach the vulnerability database"
BANNER = "!" * 100
# What requests and urllib3 say when there is no network; any other reason for no report is a broken audit.
NETWORK_TROUBLE = (
    "ConnectionError",
    "Max retries exceeded",
    "Failed to establish a new connection",
    "NameResolutionError",
    "Temporary failure in name resolution",
    "Name or service not known",
    "timed out",
    "ProxyError",
    "SSLError",
)


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    lines: tuple[str, ...]


def read_ignores(text: str) -> dict[str, str]:
    """{vulnerability id: justification}; raises ValueError for an entry that gives no reason."""
    ignores: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        vuln_id, _, reason = (part.strip() for part in line.partition("#"))
        if not reason:
            raise ValueError(f"line {number}: '{vuln_id}' is ignored without a justification after '#'")
        ignores[vuln_id] = reason
    return ignores


def audit_command(python: str, requirements: str, report: str) -> list[str]:
    """Every pin in the export carries its hashes, so pip-audit needs no resolver and no installation."""
    return [
        python,
        "-m",
        "pip_audit",
        "--requirement",
        requirements,
        "--require-hashes",
        "--disable-pip",
        "--format",
        "json",
        "--output",
        report,
        "--progress-spinner",
        "off",
    ]


def judge(report: Mapping[str, Any] | None, ignores: Mapping[str, str], stderr: str = "") -> Verdict:
    """The gate's decision from pip-audit's JSON report (None when pip-audit wrote none) and its stderr."""
    if report is None:
        last_words = (stderr.strip().splitlines() or ["no output"])[-1]
        if any(sign in stderr for sign in NETWORK_TROUBLE):
            return Verdict(0, (BANNER, f"{NOT_RUN} ({last_words}).", BANNER))
        return Verdict(1, (f"pip-audit: FAILED: it could not audit the export: {last_words}",))
    dependencies = report.get("dependencies") or []
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = [d for d in dependencies if "skip_reason" not in d]
    findings, justified = [], []
    for dependency in audited:
        for vuln in dependency.get("vulns") or []:
            ids = [vuln["id"], *(vuln.get("aliases") or [])]
            reason = next((ignores[i] for i in ids if i in ignores), None)
            where = f"{dependency['name']} {dependency['version']}: {vuln['id']}"
            if reason is None:
                fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                findings.append(f"  {where} (fixed in: {fixed})")
            else:
                justified.append(f"  {where} ignored: {reason}")
    lines = []
    if not dependencies or not audited:
        sample = skipped[0]["skip_reason"] if skipped else "no dependency in the report"
        lines += [BANNER, f"{NOT_RUN} (0 of {len(dependencies)} packages audited; e.g. {sample}).", BANNER]
    elif skipped:
        names = ", ".join(f"{d['name']}" for d in skipped)
        lines.append(
            f"pip-audit: PARTIAL: {len(skipped)} of {len(dependencies)} packages could not be audited: {names}"
        )
    if justified:
        lines.append(f"pip-audit: {len(justified)} known vulnerabilities ignored, each justified in the ignore file:")
        lines += justified
    if findings:
        lines.append(f"pip-audit: FAILED: {len(findings)} known vulnerabilities in locked dependencies:")
        lines += findings
        lines.append("pip-audit: upgrade them in poetry.lock, or justify each in .ci/pip-audit-ignore.txt")
        return Verdict(1, tuple(lines))
    if audited:
        lines.append(f"pip-audit: passed: {len(audited)} packages audited, no unjustified known vulnerability.")
    return Verdict(0, tuple(lines))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", required=True, help="`poetry export` output, with hashes")
    parser.add_argument("--ignore-file", default=".ci/pip-audit-ignore.txt")
    args = parser.parse_args(argv)

    ignore_path = Path(args.ignore_file)
    try:
        ignores = read_ignores(ignore_path.read_text()) if ignore_path.exists() else {}
    except ValueError as error:
        print(f"pip-audit: FAILED: {ignore_path}: {error}")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        report_path = Path(folder) / "report.json"
        completed = subprocess.run(
            audit_command(sys.executable, args.requirements, str(report_path)), capture_output=True, text=True
        )
        report = json.loads(report_path.read_text()) if report_path.exists() and report_path.stat().st_size else None
    verdict = judge(report, ignores, completed.stderr)
    print("\n".join(verdict.lines))
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
