"""Async reports: POST creates a job, GET polls it, the file is downloaded without auth from /_emulator/downloads.

Job fates (fail / expire / hang) and expired download URLs come from the fault
injector, keyed on the report request body, so they are deterministic too.
"""

import csv
import io
import json
import secrets
import time
from dataclasses import dataclass, field

from . import downloads
from .analytics_rows import DEFAULT_TARGETING, entity_rows, targeting_rows
from .columns import report_columns
from .dates import check_granularity, check_range, check_window, parse_date
from .endpoints_entities import account_of
from .errors import bad_param
from .faults import REPORT_KINDS
from .levels import ID_COLUMNS, attributes, entities
from .report_files import MemoryFile
from .request import Request, Response

LEVELS = (
    "ADVERTISER",
    "ADVERTISER_TARGETING",
    "CAMPAIGN",
    "CAMPAIGN_TARGETING",
    "AD_GROUP",
    "AD_GROUP_TARGETING",
    "PIN_PROMOTION",
    "PIN_PROMOTION_TARGETING",
    "KEYWORD",
    "PRODUCT_GROUP",
    "PRODUCT_GROUP_TARGETING",
    "PRODUCT_ITEM",
    "PRODUCT_ITEM_TARGETING",
)
# (max days back, max days per report)
LIMITS_DEFAULT, LIMITS_HOUR, LIMITS_PRODUCT_ITEM = (914, 186), (8, 3), (92, 31)
REPORT_LIFETIME = 3600  # a finished report stays downloadable for an hour
FILTERS = {"campaign_ids": "CAMPAIGN_ID", "ad_group_ids": "AD_GROUP_ID", "ad_ids": "AD_ID"}


@dataclass
class ReportJob:
    token: str
    account_id: str
    body: dict
    fate: str | None  # None, report_fail, report_expire or report_hang
    created: float = field(default_factory=time.time)
    polls: int = 0
    file: object | None = None  # a report_files file once rendered
    downloads_issued: int = 0


def validate(state, body) -> dict:
    if not isinstance(body, dict):
        raise bad_param("Request body must be a JSON object")
    level = body.get("level")
    if level not in LEVELS:
        raise bad_param(f"Invalid 'level' {level!r}; allowed: {', '.join(LEVELS)}")
    granularity = check_granularity(body.get("granularity"))
    columns = body.get("columns")
    if not isinstance(columns, list) or not columns:
        raise bad_param("Parameter 'columns' is required and must be a non-empty list")
    for column in columns:
        if column not in report_columns():
            raise bad_param(f"Invalid column '{column}' in 'columns'")
    start = parse_date(body.get("start_date"), "start_date")
    end = parse_date(body.get("end_date"), "end_date")
    if granularity == "HOUR":
        back, span = LIMITS_HOUR
    elif level.startswith("PRODUCT_ITEM"):
        back, span = LIMITS_PRODUCT_ITEM
    else:
        back, span = LIMITS_DEFAULT
    check_range(start, end, state.today, back, span, f"{level} reports with {granularity} granularity")
    for window in ("click_window_days", "engagement_window_days", "view_window_days"):
        check_window(body.get(window), window)
    types = body.get("targeting_types")
    if types is not None:
        if not level.endswith("_TARGETING"):
            raise bad_param("'targeting_types' is only allowed with *_TARGETING levels")
        if not isinstance(types, list) or not 1 <= len(types) <= 5:
            raise bad_param("'targeting_types' must be a list of 1 to 5 values")
    if body.get("report_format", "JSON") not in ("JSON", "CSV"):
        raise bad_param("'report_format' must be JSON or CSV")
    if body.get("primary_sort", "BY_ID") not in ("BY_ID", "BY_DATE"):
        raise bad_param("'primary_sort' must be BY_ID or BY_DATE")
    for name in FILTERS:
        if name in body and (not isinstance(body[name], list) or not 1 <= len(body[name]) <= 500):
            raise bad_param(f"'{name}' must be a list of 1 to 500 ids")
    return {
        "level": level,
        "granularity": granularity,
        "columns": columns,
        "start": start,
        "end": end,
        "targeting_types": types or list(DEFAULT_TARGETING),
    }


def report_rows(state, account_id: str, spec: dict) -> dict:
    """{entity id: [rows]} for one account; the truth endpoint flattens the same data."""
    level, ds = spec["level"], state.ds
    out = {}
    base_level = level.removesuffix("_TARGETING")
    # Every row has AD_ACCOUNT_ID; the other id columns only when requested (and when the entity has that id).
    id_attrs = ("AD_ACCOUNT_ID", *(c for c in spec["columns"] if c in ID_COLUMNS and c != "AD_ACCOUNT_ID"))
    filters = {FILTERS[k]: set(map(str, v)) for k, v in spec.get("filters", {}).items()}
    for node in entities(ds, level, account_id):
        if filters and _filtered_out(ds, node, filters):
            continue
        if level.endswith("_TARGETING"):
            rows = targeting_rows(
                ds,
                level,
                node,
                spec["start"],
                spec["end"],
                spec["granularity"],
                spec["columns"],
                spec["targeting_types"],
                id_attrs,
            )
        else:
            rows = entity_rows(
                ds, base_level, node, spec["start"], spec["end"], spec["granularity"], spec["columns"], id_attrs
            )
        if rows:
            out[node.id] = rows
    return out


def _filtered_out(ds, node, filters: dict) -> bool:
    """campaign_ids / ad_group_ids / ad_ids filters, applied where the entity carries that id."""
    attrs = attributes(ds, node)
    return any(attrs.get(col) is not None and attrs[col] not in ids for col, ids in filters.items())


def _render_file(by_id: dict, body: dict) -> bytes:
    rows = [row for rs in by_id.values() for row in rs]
    if body.get("report_format") == "CSV":
        names = list(dict.fromkeys(k for row in rows for k in row))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, names, restval=0)
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue().encode()
    if body.get("primary_sort") == "BY_DATE":
        by_date: dict = {}
        for row in rows:
            by_date.setdefault(row.get("DATE", "TOTAL"), []).append(row)
        return json.dumps(by_date).encode()
    return json.dumps(by_id).encode()


def create_report(state, req: Request) -> Response:
    account = account_of(state, req)
    if req.query:
        raise bad_param("This endpoint does not accept query parameters; send them in the JSON body")
    body = req.json()
    validate(state, body)
    signature = "report:" + account.id + json.dumps(body, sort_keys=True)
    fate = state.faults.choose(signature, REPORT_KINDS)
    if fate:
        state.stats.fault(fate)
    token = secrets.token_hex(16)
    state.reports[token] = ReportJob(token, account.id, body, fate)
    state.stats.bump("reports_created")
    return Response(body={"token": token, "report_status": "IN_PROGRESS", "message": None})


def poll_report(state, req: Request) -> Response:
    account = account_of(state, req)
    token = req.one("token")
    if not token:
        raise bad_param("Parameter 'token' is required")
    job = state.reports.get(token)
    if job is None or job.account_id != account.id:
        return Response(body={"report_status": "DOES_NOT_EXIST", "url": None, "size": None})
    job.polls += 1
    if job.fate == "report_hang" or job.polls <= state.settings.report_polls:
        return Response(body={"report_status": "IN_PROGRESS", "url": None, "size": None})
    if job.fate == "report_fail":
        return Response(body={"report_status": "FAILED", "url": None, "size": None})
    if job.fate == "report_expire" or time.time() - job.created > REPORT_LIFETIME:
        return Response(body={"report_status": "EXPIRED", "url": None, "size": None})
    if job.file is None:
        spec = validate(state, job.body)
        spec["filters"] = {k: job.body[k] for k in FILTERS if k in job.body}
        job.file = MemoryFile(_render_file(report_rows(state, job.account_id, spec), job.body))
    return Response(body={"report_status": "FINISHED", "url": downloads.issue(state, job), "size": job.file.size})


ROUTES = [
    ("POST", "/ad_accounts/{ad_account_id}/reports", "ads_analytics", create_report),
    ("GET", "/ad_accounts/{ad_account_id}/reports", "ads_analytics", poll_report),
]
