"""Fixtures: a small emulator per module and a tiny authenticated client for it."""

import pytest
import requests

from pinterest_emulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, Emulator

TODAY = "2025-06-01"


class Api:
    """Minimal Pinterest client used by the tests: refreshes a token, pages through bookmarks."""

    def __init__(self, base_url: str, refresh_token: str = REFRESH_TOKEN):
        self.base_url = base_url
        self.root = base_url.removesuffix("/v5")
        self.session = requests.Session()
        self.token = self.refresh(refresh_token).json()["access_token"]

    def refresh(self, refresh_token: str, secret: str = CLIENT_SECRET) -> requests.Response:
        return requests.post(
            f"{self.base_url}/oauth/token",
            auth=(CLIENT_ID, secret),
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        )

    def get(self, path: str, params=None, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.session.get(self.base_url + path, params=params, headers=headers, timeout=30, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.session.post(self.base_url + path, headers=headers, timeout=30, **kw)

    def all_items(self, path: str, params=None) -> list:
        params = dict(params or {})
        items, seen = [], set()
        while True:
            r = self.get(path, params)
            assert r.status_code == 200, r.text
            body = r.json()
            items += body["items"]
            bookmark = body.get("bookmark")
            if not bookmark:
                return items
            assert bookmark not in seen, "bookmark repeated"
            seen.add(bookmark)
            params["bookmark"] = bookmark

    def admin(self, path: str, params=None):
        return requests.get(f"{self.root}/_emulator/{path}", params=params, timeout=30).json()


@pytest.fixture(scope="module")
def emu():
    with Emulator(seed=7, size="small", today=TODAY) as e:
        yield e


@pytest.fixture(scope="module")
def api(emu):
    return Api(emu.base_url)


@pytest.fixture()
def fresh():
    """A private emulator for tests that change its state (faults, mutation, limits)."""
    emulators = []

    def make(**kw):
        kw.setdefault("today", TODAY)
        e = Emulator(**kw)
        e.start()
        emulators.append(e)
        return e, Api(e.base_url)

    yield make
    for e in emulators:
        e.stop()
