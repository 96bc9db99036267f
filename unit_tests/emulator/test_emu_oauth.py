"""POST /v5/oauth/token and bearer checks."""

import requests

from pinterest_emulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, Emulator, sample_config


def test_sample_config_uses_emulator_credentials():
    creds = sample_config()["credentials"]
    assert creds["auth_method"] == "oauth2.0" and creds["refresh_token"] == REFRESH_TOKEN


def test_good_refresh_returns_required_fields(api):
    body = api.refresh(REFRESH_TOKEN).json()
    for key in (
        "access_token",
        "token_type",
        "expires_in",
        "scope",
        "refresh_token",
        "refresh_token_expires_in",
        "refresh_token_expires_at",
    ):
        assert key in body
    assert body["token_type"] == "bearer" and body["refresh_token"] == REFRESH_TOKEN


def test_bad_secret_is_401_code_2(api):
    r = api.refresh(REFRESH_TOKEN, secret="wrong")
    assert r.status_code == 401 and r.json()["code"] == 2


def test_bad_refresh_token_is_400(api):
    r = api.refresh("nope")
    assert r.status_code == 400 and set(r.json()) == {"code", "message"}


def test_missing_or_unknown_bearer_is_401(api):
    assert requests.get(api.base_url + "/ad_accounts").status_code == 401
    r = requests.get(api.base_url + "/ad_accounts", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["code"] == 2


def _refresh(base_url: str, token: str) -> requests.Response:
    return requests.post(
        f"{base_url}/oauth/token",
        auth=(CLIENT_ID, CLIENT_SECRET),
        data={"grant_type": "refresh_token", "refresh_token": token},
    )


def test_rotation_issues_new_token_and_kills_old():
    with Emulator(rotate_refresh_tokens=True) as emu:
        first = _refresh(emu.base_url, REFRESH_TOKEN).json()
        assert first["refresh_token"] != REFRESH_TOKEN
        assert _refresh(emu.base_url, REFRESH_TOKEN).status_code == 400
        second = _refresh(emu.base_url, first["refresh_token"])
        assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
        assert emu.stats()["token_refreshes"] == 2


def test_without_rotation_the_same_refresh_token_comes_back():
    with Emulator() as emu:
        for _ in range(2):
            assert _refresh(emu.base_url, REFRESH_TOKEN).json()["refresh_token"] == REFRESH_TOKEN


def test_expired_access_token_is_401(fresh):
    _emu, api = fresh(token_ttl=0)
    r = api.get("/ad_accounts")
    assert r.status_code == 401 and "expired" in r.json()["message"]
