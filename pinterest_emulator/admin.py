"""The /_emulator/* admin API: truth, stats, mutation and run-time configuration (no auth, no faults)."""

from .errors import bad_param
from .mutate import mutate
from .ratelimit import parse_limits
from .truth import (
    analytics_rows,
    pin_analytics,
    report_truth_rows,
    report_truth_summary,
    stream_records,
    top_pins,
    user_account_analytics,
)


def configure(state, body: dict) -> dict:
    """Change faults, latency or rate limits while running."""
    if not isinstance(body, dict):
        raise bad_param("Body must be a JSON object")
    if "faults" in body:
        state.faults.load(body["faults"] or "")
        state.settings.faults = body["faults"] or ""
    if "latency_ms" in body:
        state.settings.latency_ms = int(body["latency_ms"])
    if "rate_limits" in body or "rate_limit_overrides" in body or "daily_caps" in body:
        state.limiter.configure(
            body.get("rate_limits"),
            parse_limits(body["rate_limit_overrides"]) if "rate_limit_overrides" in body else None,
            parse_limits(body["daily_caps"], "/day") if "daily_caps" in body else None,
        )
    if "report_polls" in body:
        state.settings.report_polls = int(body["report_polls"])
    if "download_ttl" in body:
        state.settings.download_ttl = int(body["download_ttl"])
    if "download_stall_seconds" in body:
        stall = float(body["download_stall_seconds"])
        if stall <= 0:
            raise bad_param("'download_stall_seconds' must be > 0")
        state.settings.download_stall_seconds = stall
    if "download_ranges" in body:
        state.settings.download_ranges = _flag(body["download_ranges"])
    if "report_scale" in body:
        state.settings.report_scale = _scale(body["report_scale"])
    if "report_disk_budget_mb" in body:
        state.settings.report_disk_budget_mb = int(body["report_disk_budget_mb"])
    if "refresh_token_ttl" in body:
        state.tokens.refresh_token_ttl = int(body["refresh_token_ttl"])
    if "organic_processing_days" in body:
        days = int(body["organic_processing_days"])
        if days < 0:
            raise bad_param("'organic_processing_days' must be an integer >= 0")
        state.settings.organic_processing_days = days
    if "conversions_pending_days" in body:
        days = int(body["conversions_pending_days"])
        if days < 0:
            raise bad_param("'conversions_pending_days' must be an integer >= 0")
        state.set_conversions_pending(days)
    if "multi_pin_analytics" in body:
        state.settings.multi_pin_analytics = _flag(body["multi_pin_analytics"])
    return {
        "faults": state.settings.faults,
        "latency_ms": state.settings.latency_ms,
        "rate_limits": state.limiter.mode,
        "report_polls": state.settings.report_polls,
        "download_ttl": state.settings.download_ttl,
        "download_stall_seconds": state.settings.download_stall_seconds,
        "download_ranges": state.settings.download_ranges,
        "report_scale": state.settings.report_scale,
        "report_disk_budget_mb": state.settings.report_disk_budget_mb,
        "refresh_token_ttl": state.tokens.refresh_token_ttl,
        "organic_processing_days": state.settings.organic_processing_days,
        "multi_pin_analytics": state.settings.multi_pin_analytics,
        "conversions_pending_days": state.settings.conversions_pending_days,
    }


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _scale(value) -> int:
    scale = int(value)
    if scale < 1:
        raise bad_param("'report_scale' must be an integer >= 1")
    return scale


def truth(state, query: dict) -> dict:
    statuses = [s for s in (query.get("statuses") or "").split(",") if s] or None
    return {"records": stream_records(state, query.get("stream", ""), statuses)}


GET = {
    "/_emulator/truth": truth,
    "/_emulator/truth/analytics": lambda state, q: {"rows": analytics_rows(state, q)},
    "/_emulator/truth/report": lambda state, q: {"rows": report_truth_rows(state, q)},
    "/_emulator/truth/report_summary": report_truth_summary,
    "/_emulator/truth/user_account_analytics": user_account_analytics,
    "/_emulator/truth/pin_analytics": pin_analytics,
    "/_emulator/truth/top_pins": top_pins,
    "/_emulator/stats": lambda state, q: state.stats.snapshot(),
    "/_emulator/health": lambda state, q: {"ok": True, "base_url": state.base_url},
}
POST = {
    "/_emulator/stats/reset": lambda state, body: (state.stats.reset(), {"ok": True})[1],
    "/_emulator/mutate": lambda state, body: mutate(state, (body or {}).get("seed")),
    "/_emulator/config": configure,
}
