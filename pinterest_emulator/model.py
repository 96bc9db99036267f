"""In-memory shape of the generated dataset: compact nodes plus parent indexes.

Nodes hold only what filtering, ordering and mutation need; full API records are
rendered on demand (see render.py) so a large dataset stays memory-lean.
"""

from dataclasses import dataclass, field


class Node:
    """One entity. `parent` is the id of the owning entity (account, campaign, board...)."""

    __slots__ = ("account", "created", "extra", "id", "kind", "n", "name", "parent", "status", "updated")

    def __init__(self, kind, id_, n, parent, account, status, created, updated, name=None, extra=None):
        self.kind = kind
        self.id = id_
        self.n = n
        self.parent = parent
        self.account = account
        self.status = status
        self.created = created
        self.updated = updated
        self.name = name  # None means "derive from the seed" (render.py); set by mutation
        self.extra = extra  # kind-specific small value (e.g. a pin's section id)

    def __repr__(self) -> str:
        return f"Node({self.kind}, {self.id}, parent={self.parent}, status={self.status})"


def _index() -> dict:
    return {}


@dataclass
class Dataset:
    """All entities, ordered by id within each list, plus lookup indexes by parent."""

    seed: int
    size: str
    today_epoch: int  # 00:00 UTC of the emulated "today"
    user: dict = field(default_factory=dict)
    has_catalog: bool = True
    no_catalog_account: str = ""  # the ad account with no catalog-related data
    # Another user, who owns the ad accounts in `partner_accounts` and shares its catalog through them (Business
    # Access), and whose own ad account `partner_source_account` (not visible to the token) shares audiences.
    partner: dict = field(default_factory=dict)
    partner_accounts: set = field(default_factory=set)
    partner_source_account: str = ""
    accounts: list = field(default_factory=list)
    by_id: dict = field(default_factory=_index)  # (kind, id) -> Node
    children: dict = field(default_factory=_index)  # (kind, parent id) -> [Node] ordered by id
    boards: list = field(default_factory=list)
    pins: list = field(default_factory=list)
    catalogs: list = field(default_factory=list)
    feeds: list = field(default_factory=list)
    product_groups: list = field(default_factory=list)
    counters: dict = field(default_factory=_index)  # kind -> next sequence number
    restated: dict = field(default_factory=_index)  # date ordinal -> conversion restatement version
    # The first day (date ordinal) whose conversions are not final yet: from it on, metrics_ready_state says
    # conversion metrics are not ready and the conversion counts are provisional (half the final ones). None: all.
    conversions_pending_from: int | None = None
    flight_share: float | None = None  # SizeSpec.flight_share; None: leaves deliver on any day
    flights: dict = field(default_factory=_index)  # flight key -> (length, cycle, phase), see metrics.in_flight
    version: int = 0  # bumped by every mutation

    def add(self, node: Node) -> Node:
        """Register a node under its id and its parent; callers add in id order."""
        self.by_id[(node.kind, node.id)] = node
        self.children.setdefault((node.kind, node.parent), []).append(node)
        return node

    def kids(self, kind: str, parent: str) -> list:
        return self.children.get((kind, parent), [])

    def get(self, kind: str, id_: str):
        return self.by_id.get((kind, id_))

    def all_of(self, kind: str) -> list:
        """Every node of a kind across parents, ordered by id."""
        nodes = [n for (k, _), lst in self.children.items() if k == kind for n in lst]
        nodes.sort(key=lambda n: int(n.id))
        return nodes
