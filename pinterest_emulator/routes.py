"""The route table: every emulated endpoint as (method, /v5 template, rate-limit category, handler)."""

import re

from . import auth, endpoints_analytics, endpoints_entities, endpoints_organic, reports

API_PREFIX = "/v5"
ROUTES = (
    auth.ROUTES + endpoints_entities.ROUTES + endpoints_analytics.ROUTES + endpoints_organic.ROUTES + reports.ROUTES
)


def _compile(template: str) -> re.Pattern:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile("^" + API_PREFIX + pattern + "/?$")


_COMPILED = [
    (method, API_PREFIX + template, category, handler, _compile(template))
    for method, template, category, handler in ROUTES
]


def match(method: str, path: str):
    """(template, category, handler, params), or None if no route; ('405', ...) if only the method differs."""
    other_method = None
    for route_method, template, category, handler, regex in _COMPILED:
        m = regex.match(path)
        if not m:
            continue
        if route_method == method:
            return template, category, handler, m.groupdict()
        other_method = (template, category, None, {})
    return other_method
