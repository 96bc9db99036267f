"""Simulate time passing: update and create entities, restate recent conversion metrics."""

from datetime import date, timedelta

from .data import make_id
from .hashing import rng
from .metrics import day_of
from .model import Node


def _new(ds, kind: str, parent: str, account, status, created: int, extra=None) -> Node:
    n = ds.counters.get(kind, 0)
    ds.counters[kind] = n + 1
    return ds.add(Node(kind, make_id(ds.seed, kind, n), n, parent, account, status, created, created, None, extra))


def mutate(state, seed: int | None = None) -> dict:
    """Apply one round of changes; returns {"changed": {stream: [ids]}} (and the restated dates)."""
    with state.lock:
        ds = state.ds
        ds.version += 1
        r = rng("mutate", ds.seed, seed if seed is not None else 0, ds.version)
        now = max(state.now(), max((n.updated for n in ds.by_id.values()), default=0) + 1)
        changed = {"campaigns": [], "ad_groups": [], "ads": [], "pins": [], "boards": [], "analytics_dates": []}
        for kind, stream in (("campaign", "campaigns"), ("ad_group", "ad_groups"), ("ad", "ads")):
            nodes = ds.all_of(kind)
            for node in r.sample(nodes, max(1, len(nodes) // 10)):
                roll = r.random()
                if roll < 0.3:
                    node.status = "ARCHIVED"
                elif roll < 0.6:
                    node.status = "PAUSED" if node.status == "ACTIVE" else "ACTIVE"
                else:
                    node.name = f"Renamed ✏️ {kind.replace('_', ' ')} #{node.n} v{ds.version}"
                node.updated = now
                changed[stream].append(node.id)
        for account in ds.accounts:
            campaign = _new(ds, "campaign", account.id, account.id, "ACTIVE", now)
            group = _new(ds, "ad_group", campaign.id, account.id, "ACTIVE", now)
            ads = [_new(ds, "ad", group.id, account.id, "ACTIVE", now, campaign.id) for _ in range(2)]
            changed["campaigns"].append(campaign.id)
            changed["ad_groups"].append(group.id)
            changed["ads"] += [a.id for a in ads]
        # Edits the API gives no update time for (Board and Pin have created_at only): only a full read sees them.
        edited_board, edited_pin = ds.boards[0], ds.pins[0]
        edited_board.name = f"Renamed board v{ds.version}"
        edited_pin.name = f"Retitled pin v{ds.version}"
        changed["boards"].append(edited_board.id)
        changed["pins"].append(edited_pin.id)
        board = _new(ds, "board", "user", None, None, now)
        ds.boards.append(board)
        changed["boards"].append(board.id)
        for target in (board, board, ds.boards[0]):
            pin = _new(ds, "pin", target.id, None, None, now)
            ds.pins.append(pin)
            changed["pins"].append(pin.id)
        today = date.fromordinal(day_of(ds.today_epoch))
        for back in sorted(r.sample(range(1, 30), 3)):
            day = today - timedelta(days=back)
            ds.restated[day.toordinal()] = ds.restated.get(day.toordinal(), 0) + 1
            changed["analytics_dates"].append(day.isoformat())
        return {"changed": changed}
