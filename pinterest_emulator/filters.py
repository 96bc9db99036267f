"""Query-parameter parsing shared by list endpoints: statuses, id lists, order."""

from .errors import bad_param

ENTITY_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT")
DEFAULT_STATUSES = ("ACTIVE", "PAUSED")  # Pinterest's default: archived entities are hidden unless asked for
MAX_IDS = 250


def multi(query: dict, name: str) -> list:
    """A repeated-key parameter that also accepts comma-separated values (both seen in clients)."""
    return [v.strip() for raw in query.get(name, []) for v in raw.split(",") if v.strip()]


def statuses(query: dict) -> set:
    values = multi(query, "entity_statuses")
    for v in values:
        if v not in ENTITY_STATUSES:
            raise bad_param(f"Invalid entity_statuses value '{v}'; allowed: {', '.join(ENTITY_STATUSES)}")
    return set(values or DEFAULT_STATUSES)


def id_list(query: dict, name: str, limit: int = MAX_IDS, required: bool = False) -> list:
    values = multi(query, name)
    if required and not values:
        raise bad_param(f"Parameter '{name}' is required")
    if len(values) > limit:
        raise bad_param(f"Parameter '{name}' accepts at most {limit} values, got {len(values)}")
    for v in values:
        if not v.isdigit():
            raise bad_param(f"'{name}' value '{v}' must match the pattern: ^\\d+$")
    return values


def ordered(query: dict, nodes: list) -> list:
    order = (query.get("order") or ["ASCENDING"])[-1]
    if order not in ("ASCENDING", "DESCENDING"):
        raise bad_param(f"Invalid order '{order}'; use ASCENDING or DESCENDING (parameter 'order')")
    return nodes[::-1] if order == "DESCENDING" else nodes
