"""The console entry point: the number of malloc arenas (see run.limit_malloc_arenas), and what a command says
when an exception no one classified stops it."""

from __future__ import annotations

import json

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest import run
from source_pinterest.source import SourcePinterest


class FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, parameter: int, value: int) -> int:
        self.calls.append((parameter, value))
        return 1


@pytest.fixture
def libc(monkeypatch) -> FakeLibc:
    fake = FakeLibc()
    monkeypatch.setattr(run.ctypes, "CDLL", lambda name: fake)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    return fake


def test_the_connector_limits_glibc_to_two_malloc_arenas(libc):
    assert run.limit_malloc_arenas() is True
    assert libc.calls == [(-8, 2)]  # M_ARENA_MAX


def test_an_operators_malloc_arena_max_is_left_as_set(libc, monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")

    assert run.limit_malloc_arenas() is False
    assert libc.calls == []


def test_without_glibc_the_connector_starts_as_usual(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)

    def no_library(name):
        raise OSError("no such library")

    monkeypatch.setattr(run.ctypes, "CDLL", no_library)

    assert run.limit_malloc_arenas() is False


def test_on_this_machine_the_real_call_succeeds_where_glibc_is_present(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip(f"not glibc ({platform.libc_ver()[0] or 'unknown'}): nothing to limit")
    assert run.limit_malloc_arenas() is True


# -- exceptions no one classified ----------------------------------------------------------------------------------


@pytest.fixture
def config_file(tmp_path):
    from unit_tests.conftest import make_config

    path = tmp_path / "config.json"
    path.write_text(json.dumps(make_config()))
    return str(path)


def test_given_a_bug_outside_any_stream_then_the_command_fails_saying_what_happened(config_file, monkeypatch):
    def broken_discover(self, logger, config):
        raise KeyError("supports_incremental")

    monkeypatch.setattr(SourcePinterest, "discover", broken_discover)
    entrypoint = run.PinterestEntrypoint(SourcePinterest())

    with pytest.raises(AirbyteTracedException) as raised:
        list(entrypoint.run(entrypoint.parse_args(["discover", "--config", config_file])))

    assert raised.value.failure_type == FailureType.system_error
    assert raised.value.message.startswith(
        "Source Pinterest: the discover command failed with KeyError: 'supports_incremental'. This is a problem in the "
        "connector"
    )


def test_given_the_network_breaks_outside_the_http_client_then_the_command_fails_transiently(config_file, monkeypatch):
    def broken_check(self, logger, config):
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(SourcePinterest, "check_connection", broken_check)
    entrypoint = run.PinterestEntrypoint(SourcePinterest())

    with pytest.raises(AirbyteTracedException) as raised:
        list(entrypoint.run(entrypoint.parse_args(["check", "--config", config_file])))

    assert raised.value.failure_type == FailureType.transient_error
    assert "ConnectionResetError" in raised.value.message and "run the sync again" in raised.value.message


def test_a_traced_exception_passes_through_unchanged(config_file, monkeypatch):
    ours = AirbyteTracedException(message="Invalid configuration. x", failure_type=FailureType.config_error)

    def invalid(self, logger, config):
        raise ours

    monkeypatch.setattr(SourcePinterest, "discover", invalid)
    entrypoint = run.PinterestEntrypoint(SourcePinterest())

    with pytest.raises(AirbyteTracedException) as raised:
        list(entrypoint.run(entrypoint.parse_args(["discover", "--config", config_file])))

    assert raised.value is ours
