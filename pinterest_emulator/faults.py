"""Fault injection: parse the --faults spec and decide, deterministically, which request fails how.

A decision hashes (seed, fault kind, request signature, attempt number of that exact
request), so it does not depend on thread scheduling. A fault hits the same request
at most K consecutive times (K=2 unless set), so a client with bounded retries
always recovers and ends with the same data as a clean run.

Grammar (comma-separated items):
    KIND[:PROB][xK|xinf]        e.g. 429:0.1  500:0.05x3  report_hang  bookmark_repeat:0.2xinf
    fail:PATH_TEMPLATE=STATUS   e.g. fail:/v5/ad_accounts/{ad_account_id}/audiences=500 (always, never recovers)
    OPTION=VALUE                max_consecutive=2 slow_seconds=3 timeout_seconds=30 retry_after=1
A KIND without PROB has probability 1.0. `token_<KIND>` (e.g. token_500) targets POST /v5/oauth/token,
which other request faults never touch.
"""

import re
import threading
from dataclasses import dataclass, field

from .hashing import unit

REQUEST_KINDS = (
    "429",
    "429noheaders",
    "500",
    "502",
    "503",
    "reset",
    "truncate",
    "nonjson",
    "slow",
    "timeout",
    "token_revoke",
    "bookmark_repeat",
)
TOKEN_KINDS = tuple("token_" + k for k in ("429", "500", "502", "503", "reset", "truncate", "nonjson", "slow"))
REPORT_KINDS = ("report_fail", "report_expire", "report_hang")
# download_expire is decided when a URL is issued; the body kinds on each fetch of a job's file (any of its URLs).
DOWNLOAD_URL_KINDS = ("download_expire",)
DOWNLOAD_BODY_KINDS = ("download_cut", "download_expire_mid")
DOWNLOAD_KINDS = DOWNLOAD_URL_KINDS + DOWNLOAD_BODY_KINDS
ALL_KINDS = REQUEST_KINDS + TOKEN_KINDS + REPORT_KINDS + DOWNLOAD_KINDS
OPTIONS = {"max_consecutive": 2, "slow_seconds": 3.0, "timeout_seconds": 30.0, "retry_after": 1}
_ITEM = re.compile(r"^(?P<kind>[a-z0-9_]+?)(?::(?P<prob>[0-9.]+))?(?:x(?P<k>\d+|inf))?$")


@dataclass
class FaultRule:
    kind: str
    probability: float
    max_consecutive: int | None  # None: use the max_consecutive option; -1: no cap


@dataclass
class FaultSpec:
    rules: list = field(default_factory=list)
    permanent: dict = field(default_factory=dict)  # path template -> HTTP status
    options: dict = field(default_factory=lambda: dict(OPTIONS))

    def cap(self, rule: FaultRule) -> int:
        return self.options["max_consecutive"] if rule.max_consecutive is None else rule.max_consecutive


def parse(text: str) -> FaultSpec:
    spec = FaultSpec()
    for item in filter(None, (p.strip() for p in (text or "").split(","))):
        if item.startswith("fail:"):
            template, _, status = item[len("fail:") :].rpartition("=")
            spec.permanent[template] = int(status)
            continue
        if "=" in item:
            name, _, value = item.partition("=")
            if name not in OPTIONS:
                raise ValueError(f"unknown fault option {name!r}; known: {sorted(OPTIONS)}")
            spec.options[name] = type(OPTIONS[name])(float(value)) if "." in value else type(OPTIONS[name])(value)
            continue
        m = _ITEM.match(item)
        if not m or m["kind"] not in ALL_KINDS:
            raise ValueError(f"bad fault item {item!r}; kinds: {', '.join(ALL_KINDS)}")
        k = m["k"]
        spec.rules.append(
            FaultRule(
                m["kind"], float(m["prob"]) if m["prob"] else 1.0, None if k is None else (-1 if k == "inf" else int(k))
            )
        )
    return spec


class FaultInjector:
    """Holds the parsed spec plus per-signature attempt and consecutive-fault counters."""

    def __init__(self, seed: int, text: str = ""):
        self.seed = seed
        self._lock = threading.Lock()
        self.load(text)

    def load(self, text: str) -> None:
        spec = parse(text)
        with self._lock:
            self.spec = spec
            self._attempts: dict[str, int] = {}
            self._streak: dict[str, int] = {}

    def option(self, name: str):
        return self.spec.options[name]

    def permanent_status(self, template: str) -> int | None:
        return self.spec.permanent.get(template)

    def choose(self, signature: str, kinds: tuple) -> str | None:
        """The fault for this attempt of this signature among `kinds`, or None."""
        rules = [r for r in self.spec.rules if r.kind in kinds]
        if not rules:
            return None
        with self._lock:
            attempt = self._attempts.get(signature, 0)
            self._attempts[signature] = attempt + 1
            streak = self._streak.get(signature, 0)
            for rule in rules:
                cap = self.spec.cap(rule)
                if cap >= 0 and streak >= cap:
                    continue
                if unit(self.seed, rule.kind, signature, attempt) < rule.probability:
                    self._streak[signature] = streak + 1
                    return rule.kind
            self._streak[signature] = 0
            return None
