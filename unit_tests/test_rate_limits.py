"""The shared request budget: categories by path, and windows that follow the server's rate-limit headers."""

from __future__ import annotations

import pytest
import requests
from airbyte_cdk.sources.streams.call_rate import CallRateLimitHit

from source_pinterest.http.budget import build_api_budget, category_of, category_of_template

BASE = "https://api.pinterest.com/v5"


@pytest.mark.parametrize(
    "path, category",
    [
        ("/v5/ad_accounts/1/campaigns", "ads_read"),
        ("/v5/ad_accounts/1/campaigns/analytics", "ads_analytics"),
        ("/v5/ad_accounts/1/reports", "ads_analytics"),
        ("/v5/boards/2/sections/3/pins", "org_read"),
        ("/v5/user_account/analytics", "org_analytics"),
        ("/v5/catalogs/product_groups", "catalogs_read"),
    ],
)
def test_every_path_has_its_category(path, category):
    assert category_of(path) == category


def test_a_path_template_has_the_category_of_its_paths():
    assert category_of_template("ad_accounts/{ad_account_id}/keywords") == "ads_read"
    assert category_of_template("boards/{board_id}/sections/{section_id}/pins") == "org_read"


def request(path: str) -> requests.PreparedRequest:
    return requests.Request("GET", BASE + path).prepare()


def answer(headers: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers.update(headers)
    return response


def calls_left(budget, path: str) -> int:
    policy = budget.get_matching_policy(request(path))
    return policy._call_limit - policy._calls_num


@pytest.mark.parametrize(
    "headers, expected_left",
    [
        ({}, 300 - 1),  # no headers: the published seed
        ({"X-RateLimit-Limit": "900", "X-RateLimit-Remaining": "899", "X-RateLimit-Reset": "60"}, 899),  # more
        ({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "40", "X-RateLimit-Reset": "60"}, 40),  # less
        ({"X-RateLimit-Limit": "100;w=1", "X-RateLimit-Reset": "60"}, 300 - 1),  # a form we do not read
    ],
)
def test_the_window_follows_the_servers_limit_and_remaining(headers, expected_left):
    budget = build_api_budget()
    path = "/ad_accounts/1/campaigns/analytics"
    budget.acquire_call(request(path), block=False)
    budget.update_from_response(request(path), answer(headers))

    assert calls_left(budget, path) == expected_left
    assert calls_left(budget, "/ad_accounts/1/campaigns") == 6000  # other categories are untouched


def test_given_a_daily_cap_answer_then_the_budget_does_not_wait_for_its_reset():
    budget = build_api_budget()
    path = "/ad_accounts/1/campaigns/analytics"
    capped = answer({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "14400"})
    capped.status_code = 429
    budget.acquire_call(request(path), block=False)

    budget.update_from_response(request(path), capped)

    # A minute's window would block the next call for up to a minute; a 4-hour reset must not block it at all.
    budget.acquire_call(request(path), block=False)
    assert calls_left(budget, path) == 300 - 2


def test_given_a_minute_window_spent_then_the_budget_waits_for_its_reset():
    budget = build_api_budget()
    path = "/ad_accounts/1/campaigns/analytics"
    budget.acquire_call(request(path), block=False)

    budget.update_from_response(request(path), answer({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "30"}))

    with pytest.raises(CallRateLimitHit):
        budget.acquire_call(request(path), block=False)
