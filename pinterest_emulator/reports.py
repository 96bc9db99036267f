"""Async reports: POST creates a job, GET polls it, the file is downloaded without auth from /_emulator/downloads.

Job fates (fail / expire / hang) and expired download URLs come from the fault
injector, keyed on the report request body, so they are deterministic too.
"""

import json
import secrets
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from . import downloads, report_files
from .analytics_rows import DEFAULT_TARGETING, entity_rows, iter_targeting_rows
from .columns import report_columns
from .dates import check_granularity, check_range, check_window, parse_date
from .endpoints_entities import account_of
from .errors import bad_param
from .faults import REPORT_KINDS
from .levels import ID_COLUMN, ID_COLUMNS, MAX_TARGETING_TYPES, TARGETING_TYPES, attributes, entities
from .metrics import CONVERSION_COLUMNS, MODELLED_COLUMNS
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
RENDER_WAIT = 1.0  # seconds a poll waits for a file being rendered before answering IN_PROGRESS
FILTERS = {"campaign_ids": "CAMPAIGN_ID", "ad_group_ids": "AD_GROUP_ID", "ad_ids": "AD_ID"}


@dataclass
class ReportJob:
    token: str
    account_id: str
    body: dict
    fate: str | None  # None, report_fail, report_expire or report_hang
    signature: str  # account and body: download faults are keyed on it, so they repeat run after run
    created: float = field(default_factory=time.time)
    polls: int = 0
    report_scale: int = 1  # the setting when the job was created
    file: report_files.DiskFile | None = None  # once rendered
    rendering: Future | None = None
    render_seconds: float | None = None
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
        if not isinstance(types, list) or not 1 <= len(types) <= MAX_TARGETING_TYPES:
            raise bad_param(f"'targeting_types' must be a list of 1 to {MAX_TARGETING_TYPES} values")
        check_targeting_types(level, types)
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


def check_targeting_types(level: str, types: list) -> None:
    """Every type one the level takes; the truth checks its (longer) lists the same way."""
    if level not in TARGETING_TYPES:
        raise bad_param("'targeting_types' is only allowed with *_TARGETING levels")
    for ttype in types:
        if ttype not in TARGETING_TYPES[level]:
            raise bad_param(
                f"Invalid targeting type {ttype!r} for level {level}; allowed: {', '.join(TARGETING_TYPES[level])}"
            )


def iter_report_rows(state, account_id: str, spec: dict):
    """(entity id, rows iterator) for one account's entities, in file order; the truth endpoint reads the same."""
    level, ds = spec["level"], state.ds
    base_level = level.removesuffix("_TARGETING")
    id_attrs = _id_attrs(spec)
    filters = {FILTERS[k]: set(map(str, v)) for k, v in spec.get("filters", {}).items()}
    scale = spec.get("report_scale", state.settings.report_scale)
    start, end, granularity, columns = spec["start"], spec["end"], spec["granularity"], spec["columns"]
    for node in entities(ds, level, account_id):
        if filters and _filtered_out(ds, node, filters):
            continue
        if level.endswith("_TARGETING"):
            types = spec["targeting_types"]
            rows = iter_targeting_rows(ds, level, node, start, end, granularity, columns, types, id_attrs, scale)
        else:
            rows = iter(entity_rows(ds, base_level, node, start, end, granularity, columns, id_attrs))
        yield node.id, rows


def report_rows(state, account_id: str, spec: dict) -> dict:
    """{entity id: [rows]} for one account, entities without rows left out: the file's content as objects."""
    out = {}
    for entity_id, rows in iter_report_rows(state, account_id, spec):
        rows = list(rows)
        if rows:
            out[entity_id] = rows
    return out


def _id_attrs(spec: dict) -> tuple:
    """Every row has AD_ACCOUNT_ID; the other id columns only when requested (and when the entity has that id)."""
    return ("AD_ACCOUNT_ID", *(c for c in spec["columns"] if c in ID_COLUMNS and c != "AD_ACCOUNT_ID"))


def csv_header(state, account_id: str, spec: dict) -> list:
    """Every column a row of this report can carry, in row order: the level's id, the requested id columns some
    entity has, DATE, the targeting pair, and the requested modelled columns."""
    level, ds = spec["level"], state.ds
    names = [ID_COLUMN[level.removesuffix("_TARGETING")]]
    nodes = entities(ds, level, account_id)
    names += [column for column in _id_attrs(spec) if any(attributes(ds, n).get(column) is not None for n in nodes)]
    if spec["granularity"] != "TOTAL":
        names.append("DATE")
    if level.endswith("_TARGETING"):
        names += ["TARGETING_TYPE", "TARGETING_VALUE"]
    hourly = spec["granularity"] == "HOUR"
    names += [c for c in spec["columns"] if c in MODELLED_COLUMNS and not (hourly and c in CONVERSION_COLUMNS)]
    return list(dict.fromkeys(names))


def _filtered_out(ds, node, filters: dict) -> bool:
    """campaign_ids / ad_group_ids / ad_ids filters, applied where the entity carries that id."""
    attrs = attributes(ds, node)
    return any(attrs.get(col) is not None and attrs[col] not in ids for col, ids in filters.items())


def _file_pieces(state, job: "ReportJob"):
    """The bytes of a job's file, piece by piece; stops when the emulator is closed."""
    spec = validate(state, job.body)
    spec["filters"] = {k: job.body[k] for k in FILTERS if k in job.body}
    spec["report_scale"] = job.report_scale
    groups = _until_closed(state, iter_report_rows(state, job.account_id, spec))
    if job.body.get("report_format") == "CSV":
        pieces = report_files.csv_rows(groups, csv_header(state, job.account_id, spec))
    elif job.body.get("primary_sort") == "BY_DATE":
        pieces = report_files.json_by_date(groups)
    else:
        pieces = report_files.json_by_id(groups)
    yield from _until_closed(state, pieces)


def _until_closed(state, items):
    """The items, checking between them that the emulator was not closed since the render began."""
    epoch = state.epoch
    for item in items:
        if state.epoch != epoch:
            raise RuntimeError("emulator stopped while rendering a report")
        yield item


def render(state, job: "ReportJob") -> None:
    """Render a job's file once, in the background worker: polls answer IN_PROGRESS until it is written.
    A job asking what an earlier one asked (same account, body, scale and data version), as a retried or
    re-run sync does, shares its file. Only this worker touches the files, so the cache needs no lock."""
    key = (job.account_id, json.dumps(job.body, sort_keys=True), job.report_scale, state.ds.version)
    cached = state.report_files.get(key)
    if cached is not None and not cached.deleted:
        cached.last_used = time.time()
        job.file = cached
        state.stats.bump("report_files_reused")
        return
    _forget_expired(state)
    _keep_disk_budget(state)
    suffix = ".csv" if job.body.get("report_format") == "CSV" else ".json"
    started = time.monotonic()
    state.report_files[key] = job.file = report_files.write(state.report_dir(), _file_pieces(state, job), suffix)
    job.render_seconds = time.monotonic() - started


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
    job = ReportJob(token, account.id, body, fate, signature, report_scale=state.settings.report_scale)
    state.reports[token] = job
    if fate is None:
        job.rendering = state.renderer().submit(render, state, job)
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
    try:
        job.rendering.result(timeout=RENDER_WAIT)
    except FutureTimeout:
        return Response(body={"report_status": "IN_PROGRESS", "url": None, "size": None})
    except Exception:  # a file that could not be written (disk full...) is a failed report
        return Response(body={"report_status": "FAILED", "url": None, "size": None})
    file = job.file
    if file is None or file.deleted:  # evicted to keep the disk budget: the same data renders to the same bytes
        job.rendering = state.renderer().submit(render, state, job)
        return Response(body={"report_status": "IN_PROGRESS", "url": None, "size": None})
    return Response(body={"report_status": "FINISHED", "url": downloads.issue(state, job), "size": file.size})


def _forget_expired(state) -> None:
    """Delete the files no job within its lifetime uses, so a long run does not fill the disk."""
    for key, file in list(state.report_files.items()):
        if file.deleted or time.time() - file.last_used > REPORT_LIFETIME:
            file.delete()
            del state.report_files[key]


def _keep_disk_budget(state) -> None:
    """Before a render, delete the least recently used files until the rest fit in report_disk_budget_mb. Their
    URLs answer 403 expired and their jobs' next poll renders them again; a download already reading one
    finishes (Linux keeps an unlinked file until its last reader closes it)."""
    budget = state.settings.report_disk_budget_mb * 1_000_000
    files = sorted(state.report_files.items(), key=lambda item: item[1].last_used)
    used = sum(file.size for _, file in files)
    for key, file in files:
        if used <= budget:
            return
        used -= file.size
        file.delete()
        del state.report_files[key]
        state.stats.bump("report_files_evicted")


ROUTES = [
    ("POST", "/ad_accounts/{ad_account_id}/reports", "ads_analytics", create_report),
    ("GET", "/ad_accounts/{ad_account_id}/reports", "ads_analytics", poll_report),
]
