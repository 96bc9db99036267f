"""The console entry point's process set-up: the number of malloc arenas (see run.limit_malloc_arenas)."""

from __future__ import annotations

import pytest

from source_pinterest import run


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
