"""The Docker image's entrypoint, run in an equivalent virtualenv, with no Docker engine: a quick check of the layout
that also runs where Docker cannot (test_docker_image.py runs the real image wherever it can).

The Dockerfile is parsed, not copied: its COPY lines decide which files land in the work directory, its install
step is mirrored by installing the connector's wheel with --no-deps (the dependencies come from the project's
.venv instead of the lock, so nothing is downloaded), and its ENTRYPOINT is run as written, with `python` being
the new virtualenv's interpreter and WORKDIR a temporary directory. What this proves: the image's layout and
entrypoint are enough to run `spec` and `check`, with no help from the repo checkout.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from pinterest_emulator import Emulator, sample_config
from source_pinterest.limits import BASE_URL_ENV

REPO = Path(__file__).resolve().parent.parent
TOOLS_PYTHON = REPO / ".venv-tools" / "bin" / "python"  # has poetry-core, the build backend, from scripts/dev.sh


@dataclass
class Dockerfile:
    base_image: str
    workdir: str
    copies: list[tuple[list[str], str]] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, path: Path) -> Dockerfile:
        text = re.sub(r"\\\n", " ", path.read_text())  # join continuation lines
        args: dict[str, str] = {}
        parsed = cls(base_image="", workdir="/")
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            instruction, _, rest = line.partition(" ")
            instruction = instruction.upper()
            rest = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), rest)
            if instruction == "ARG" and "=" in rest:
                name, value = rest.split("=", 1)
                args[name.strip()] = value.strip().strip('"')
            elif instruction == "FROM":
                parsed.base_image = rest.split()[0]
            elif instruction == "WORKDIR":
                parsed.workdir = rest
            elif instruction == "COPY":
                *sources, destination = shlex.split(rest)
                parsed.copies.append(([s for s in sources if not s.startswith("--")], destination))
            elif instruction == "ENV":
                name, value = rest.split("=", 1)
                parsed.env[name.strip()] = shlex.split(value)[0] if value.strip() else ""
            elif instruction == "ENTRYPOINT":
                parsed.entrypoint = json.loads(rest)
        return parsed

    def destination(self, path: str) -> str:
        return path if path.startswith("/") else f"{self.workdir.rstrip('/')}/{path}"


DOCKERFILE = Dockerfile.parse(REPO / "Dockerfile")


def test_dockerfile_builds_from_the_base_image_declared_in_metadata():
    metadata = yaml.safe_load((REPO / "metadata.yaml").read_text())

    assert DOCKERFILE.base_image == metadata["data"]["connectorBuildOptions"]["baseImage"]


def test_airbyte_entrypoint_env_matches_the_entrypoint():
    """The platform runs AIRBYTE_ENTRYPOINT; `docker run` runs ENTRYPOINT. They must be the same command."""
    assert DOCKERFILE.entrypoint, "the Dockerfile has no ENTRYPOINT"
    assert shlex.split(DOCKERFILE.env["AIRBYTE_ENTRYPOINT"]) == DOCKERFILE.entrypoint


def _lay_out(image_root: Path) -> Path:
    """Copy the files as the COPY lines say; return the work directory."""
    for sources, destination in DOCKERFILE.copies:
        target = image_root / DOCKERFILE.destination(destination).lstrip("/")
        for source in sources:
            origin = REPO / source
            if origin.is_dir():
                subprocess.run(
                    ["cp", "-R", str(origin), str(target if len(sources) == 1 else target / origin.name)], check=True
                )
            else:
                target.mkdir(parents=True, exist_ok=True)
                subprocess.run(
                    ["cp", str(origin), str(target / origin.name if destination.endswith("/") else target)], check=True
                )
    return image_root / DOCKERFILE.workdir.lstrip("/")


def _make_venv(root: Path) -> Path:
    """A bare virtualenv that sees the project's installed dependencies, but not the repo checkout."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # A plain path line, not site.addsitedir: the .pth files in .venv (the editable install that points at the
    # repo) must not apply, or the test would pass on the checkout rather than on the image's files.
    Path(site_packages, "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[Path, Path]:
    """(the image's workdir, the wheel its `pip install --no-deps .` builds)."""
    if not TOOLS_PYTHON.exists():
        pytest.skip(f"{TOOLS_PYTHON} (with poetry-core) is missing: run `bash scripts/dev.sh setup` first")
    root = tmp_path_factory.mktemp("image")
    workdir = _lay_out(root / "fs")
    wheels = root / "wheels"
    # The Dockerfile's `pip install --no-deps .`, in two steps so that nothing is downloaded: build the wheel with
    # the tools env's poetry-core, then install it into the new virtualenv.
    subprocess.run(
        [
            str(TOOLS_PYTHON),
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheels),
            str(workdir),
        ],
        check=True,
        cwd=root,
    )
    (built,) = wheels.glob("source_pinterest-*.whl")
    return workdir, built


@pytest.fixture(scope="module")
def image(wheel, tmp_path_factory) -> Iterator[tuple[Path, Path]]:
    """(python, workdir) of the emulated image: the connector's wheel installed with --no-deps, files copied."""
    workdir, built = wheel
    root = tmp_path_factory.mktemp("venv")
    python = _make_venv(root / "venv")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            str(built),
        ],
        check=True,
        cwd=root,
    )
    yield python, workdir


def _run_entrypoint(image: tuple[Path, Path], *args: str, env: dict[str, str] | None = None) -> list[dict]:
    python, workdir = image
    command = list(DOCKERFILE.entrypoint)
    assert command[0] == "python", f"unexpected entrypoint interpreter {command[0]!r}"
    command[0] = str(python)
    command = [
        workdir.as_posix() + part.removeprefix(DOCKERFILE.workdir) if part.startswith(DOCKERFILE.workdir) else part
        for part in command
    ]
    clean_env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    result = subprocess.run(
        [*command, *args],
        cwd=workdir,
        env={**clean_env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_the_wheel_holds_the_connector_package_only(wheel):
    _, built = wheel
    with zipfile.ZipFile(built) as archive:
        top_level = {name.split("/", 1)[0] for name in archive.namelist()}

    assert {name for name in top_level if not name.endswith(".dist-info")} == {"source_pinterest"}


def test_the_image_reads_the_connector_from_its_own_files_not_the_checkout(image):
    python, workdir = image
    located = subprocess.run(
        [str(python), "-c", "import source_pinterest, sys; print(source_pinterest.__file__)"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
    ).stdout.strip()

    assert not Path(located).is_relative_to(REPO), located


def test_entrypoint_spec_emits_the_connector_spec(image):
    messages = _run_entrypoint(image, "spec")

    specs = [m for m in messages if m["type"] == "SPEC"]
    assert len(specs) == 1
    assert specs[0]["spec"]["connectionSpecification"]["required"] == ["credentials"]
    assert specs[0]["spec"]["advanced_auth"]["auth_flow_type"] == "oauth2.0"


def test_entrypoint_check_succeeds_against_the_emulator(image, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sample_config()))

    with Emulator(seed=1, size="small") as emulator:
        messages = _run_entrypoint(image, "check", "--config", str(config), env={BASE_URL_ENV: emulator.base_url})

    statuses = [m["connectionStatus"]["status"] for m in messages if m["type"] == "CONNECTION_STATUS"]
    assert statuses == ["SUCCEEDED"]
