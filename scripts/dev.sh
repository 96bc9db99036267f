#!/usr/bin/env bash
# One entry point for set-up and the everyday tasks: `bash scripts/dev.sh demo|test|lint|audit|bench|emulator`.
# Set-up is idempotent: a virtualenv in .venv, filled from poetry.lock (pinned, hash-checked).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_BIN="${PYTHON:-$(command -v python3.11 || command -v python3)}"
VENV=.venv
TOOLS=.venv-tools
STAMP="$VENV/.lock-installed"

ensure_env() {
  if [ ! -x "$TOOLS/bin/poetry" ]; then
    "$PYTHON_BIN" -m venv "$TOOLS"
    "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "poetry>=2.1,<3" "poetry-plugin-export>=1.8"
  fi
  [ -x "$VENV/bin/python" ] || "$PYTHON_BIN" -m venv "$VENV"
  local want
  want="$(sha256sum poetry.lock pyproject.toml | sha256sum | cut -c1-16)"
  if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
    # `poetry export` reads only the lock file, so the install is exactly what poetry.lock pins.
    "$TOOLS/bin/poetry" export --with dev --format requirements.txt --output "$VENV/requirements.lock.txt"
    # Older pips (23.x) refuse hash-checked installs of pinned packages requested with extras.
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "pip>=25"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$VENV/requirements.lock.txt"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -e .
    echo "$want" > "$STAMP"
  fi
}

task="${1:-help}"
shift || true
case "$task" in
  setup) ensure_env ;;
  demo) ensure_env; exec "$VENV/bin/python" -m pinterest_emulator.demo "$@" ;;
  test)
    ensure_env
    # The image tests (integration_tests/test_docker_image.py) need a Docker engine: installed and started here
    # when missing, and the daemon started here is stopped afterwards. Where Docker cannot run they skip, saying why.
    docker_status=0
    bash scripts/docker.sh up || docker_status=$?
    [ "$docker_status" -eq 0 ] && bash scripts/docker.sh image >/dev/null || true
    test_status=0
    "$VENV/bin/python" -m pytest "$@" || test_status=$?
    bash scripts/docker.sh down
    exit "$test_status" ;;
  audit)
    # Every locked package (main and dev), pinned with its hashes, against the known-vulnerability database;
    # scripts/audit.py explains the verdict and .ci/pip-audit-ignore.txt holds the justified exceptions.
    ensure_env
    "$TOOLS/bin/poetry" export --with dev --format requirements.txt --output "$VENV/audit-requirements.txt"
    exec "$VENV/bin/python" scripts/audit.py --requirements "$VENV/audit-requirements.txt" \
      --ignore-file .ci/pip-audit-ignore.txt "$@" ;;
  lint)
    # The rules are in pyproject.toml ([tool.ruff], [tool.mypy]); CI fails on any finding and on unformatted code.
    ensure_env
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/mypy" source_pinterest ;;
  bench) ensure_env; exec "$VENV/bin/python" -m pinterest_emulator.bench "$@" ;;
  emulator) ensure_env; exec "$VENV/bin/python" -m pinterest_emulator "$@" ;;
  *) echo "usage: bash scripts/dev.sh demo|test|lint|audit|bench|emulator|setup [args]" >&2; exit 2 ;;
esac
