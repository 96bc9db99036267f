"""Entity list endpoints (ads, organic, catalogs): collectors return nodes, handlers page and render them.

The collectors are also used by truth.py, so "what a full sync must emit" and
"what the API serves" cannot drift apart.
"""

import re

from . import render
from .auth import SECRET_BOARDS_SCOPE, SECRET_PINS_SCOPE
from .errors import ApiError, bad_param, not_found
from .filters import id_list, multi, ordered, statuses
from .pagination import paginate
from .request import Request, Response

OWNERSHIP_TYPES = ("OWNED", "RECEIVED")
NO_CATALOG = ApiError(409, 4182, "Can't access this feature without an existing catalog.")


def account_of(state, req: Request):
    account_id = req.params["ad_account_id"]
    if not re.fullmatch(r"\d{1,18}", account_id):
        raise bad_param(f"'ad_account_id' value '{account_id}' must match the pattern: ^\\d+$")
    node = state.ds.get("account", account_id)
    if node is None:
        raise ApiError(404, 404, "AdAccount not found.")
    return node


def listing(state, req: Request, nodes: list, cap: int | None = None, extra=None, render_one=None) -> Response:
    page, bookmark, size = paginate(nodes, req.path, req.query, cap)
    state.stats.page_size(size)
    items = [(render_one or render.render)(state.ds, n) for n in page]
    if extra:
        items = [extra(item) for item in items]
    return Response(body={"items": items, "bookmark": bookmark})


# --- collectors: (state, account node or None, query) -> nodes -------------------------------------------------


def collect_campaigns(state, account, query) -> list:
    ids = set(id_list(query, "campaign_ids"))
    wanted = statuses(query)
    nodes = [c for c in state.ds.kids("campaign", account.id) if c.status in wanted and (not ids or c.id in ids)]
    return ordered(query, nodes)


def collect_ad_groups(state, account, query) -> list:
    campaign_ids = set(id_list(query, "campaign_ids"))
    group_ids = set(id_list(query, "ad_group_ids"))
    if campaign_ids and group_ids:
        raise bad_param("Use either 'campaign_ids' or 'ad_group_ids', not both")
    wanted = statuses(query)
    nodes = [
        g
        for c in state.ds.kids("campaign", account.id)
        if not campaign_ids or c.id in campaign_ids
        for g in state.ds.kids("ad_group", c.id)
        if g.status in wanted and (not group_ids or g.id in group_ids)
    ]
    return ordered(query, sorted(nodes, key=lambda n: int(n.id)))


def collect_ads(state, account, query) -> list:
    campaign_ids = set(id_list(query, "campaign_ids"))
    group_ids = set(id_list(query, "ad_group_ids"))
    ad_ids = set(id_list(query, "ad_ids"))
    wanted = statuses(query)
    nodes = [
        a
        for c in state.ds.kids("campaign", account.id)
        if not campaign_ids or c.id in campaign_ids
        for g in state.ds.kids("ad_group", c.id)
        if not group_ids or g.id in group_ids
        for a in state.ds.kids("ad", g.id)
        if a.status in wanted and (not ad_ids or a.id in ad_ids)
    ]
    return ordered(query, sorted(nodes, key=lambda n: int(n.id)))


def collect_keywords(state, account, query) -> list:
    """No filter: only keywords whose parent is the ad account, as Pinterest documents; campaign_id and ad_group_id
    select the keywords whose parent is that campaign or ad group."""
    group_id = (query.get("ad_group_id") or [None])[-1]
    campaign_id = (query.get("campaign_id") or [None])[-1]
    group_ids = id_list(query, "ad_group_ids")
    ds = state.ds
    if group_id or group_ids:
        groups = [ds.get("ad_group", g) for g in ([group_id] if group_id else group_ids)]
        if any(g is None or g.account != account.id for g in groups):
            raise not_found("Ad group not found.")
        nodes = [k for g in groups for k in ds.kids("keyword", g.id)]
    elif campaign_id:
        # Like the account default, the filter matches the keyword's parent_id: the campaign's own (negative)
        # keywords, not those of its ad groups.
        campaign = ds.get("campaign", campaign_id)
        if campaign is None or campaign.account != account.id:
            raise not_found("Campaign not found.")
        nodes = list(ds.kids("keyword", campaign.id))
    else:
        nodes = list(ds.kids("keyword", account.id))
    match_types = set(multi(query, "match_types"))
    if match_types:
        nodes = [k for k in nodes if render.keyword(ds, k)["match_type"] in match_types]
    return sorted(nodes, key=lambda n: int(n.id))


def account_children(kind: str):
    def collect(state, account, query) -> list:
        return ordered(query, list(state.ds.kids(kind, account.id)))

    return collect


def collect_audiences(state, account, query) -> list:
    """ownership_type OWNED (the default): the account's own audiences; RECEIVED: those shared with it."""
    ownership = (query.get("ownership_type") or ["OWNED"])[-1]
    if ownership not in OWNERSHIP_TYPES:
        raise bad_param(f"Invalid ownership_type '{ownership}'; use one of {', '.join(OWNERSHIP_TYPES)}")
    kind = "audience" if ownership == "OWNED" else "received_audience"
    return ordered(query, list(state.ds.kids(kind, account.id)))


def collect_catalogs(state, query) -> list:
    owner = catalog_owner(state, query)
    return [c for c in state.ds.catalogs if c.parent == owner]


def collect_feeds(state, query) -> list:
    owner = catalog_owner(state, query)
    catalog_id = (query.get("catalog_id") or [None])[-1]
    ds = state.ds
    return [
        f
        for f in ds.feeds
        if ds.get("catalog", f.parent).parent == owner and (not catalog_id or f.parent == catalog_id)
    ]


def collect_product_groups(state, query) -> list:
    owner = catalog_owner(state, query)
    catalog_id = (query.get("catalog_id") or [None])[-1]
    feed_id = (query.get("feed_id") or [None])[-1]
    ids = set(id_list(query, "id", limit=1000))
    ds = state.ds
    nodes = [
        g
        for g in ds.product_groups
        if ds.get("catalog", ds.get("feed", g.parent).parent).parent == owner
        and (not feed_id or g.parent == feed_id)
        and (not ids or g.id in ids)
        and (not catalog_id or ds.get("feed", g.parent).parent == catalog_id)
    ]
    if not any(c.parent == owner for c in ds.catalogs):
        raise NO_CATALOG
    return nodes


def catalog_owner(state, query) -> str | None:
    """Whose catalogs a catalogs call reads (the spec's "operation user_account"): the token user's, or with
    ad_account_id (Business Access) the owner's of that ad account: "user", "partner", or None for the ad account
    that has no catalog access."""
    account = (query.get("ad_account_id") or [None])[-1]
    if account is None:
        return "user"
    if not re.fullmatch(r"\d{1,18}", account):
        raise bad_param(f"'ad_account_id' value '{account}' must match the pattern: ^\\d+$")
    ds = state.ds
    if ds.get("account", account) is None:
        raise ApiError(403, 29, "You are not permitted to access that resource.")
    if account == ds.no_catalog_account:
        return None
    return "partner" if account in ds.partner_accounts else "user"


# --- organic content by privacy: what a token's scopes and a request's flags let it see --------------------------


def board_visible(state, board, scopes) -> bool:
    """Secret boards only for a token with boards:read_secret; public and protected boards for every token."""
    return board is not None and (SECRET_BOARDS_SCOPE in scopes or render.privacy_of(state.ds, board) != "SECRET")


def visible_boards(state, scopes) -> list:
    return [b for b in state.ds.boards if board_visible(state, b, scopes)]


def pin_visible(state, pin, scopes, include_protected: bool) -> bool:
    """A pin shares its board's privacy: pins on a secret board need pins:read_secret, pins on a protected
    (ad-only) board come with include_protected_pins=true (a flag of GET /pins only; board listings show them)."""
    privacy = render.privacy_of(state.ds, state.ds.get("board", pin.parent))
    if privacy == "SECRET":
        return SECRET_PINS_SCOPE in scopes
    return privacy != "PROTECTED" or include_protected


def collect_pins(state, scopes, include_protected: bool) -> list:
    return [p for p in state.ds.pins if pin_visible(state, p, scopes, include_protected)]


def collect_board_pins(state, board, scopes) -> list:
    return [p for p in state.ds.kids("pin", board.id) if pin_visible(state, p, scopes, True)]


def collect_section_pins(state, section, scopes) -> list:
    return [p for p in state.ds.kids("section_pin", section.id) if pin_visible(state, p, scopes, True)]


def _scopes(state, req: Request) -> frozenset:
    return state.tokens.scopes_of(req.access_token)


def _flag(req: Request, name: str) -> bool:
    return (req.one(name) or "").lower() == "true"


def _pin_renderer(req: Request):
    """pin_metrics=true (GET /pins and GET /boards/{id}/pins take it) adds the pins' 90-day and lifetime metrics."""
    return render.pin_with_metrics if _flag(req, "pin_metrics") else render.pin


# --- handlers ---------------------------------------------------------------------------------------------------


def ad_account_list(collect):
    def handler(state, req: Request) -> Response:
        account = account_of(state, req)
        return listing(state, req, collect(state, account, req.query))

    return handler


def conversion_tags(state, req: Request) -> Response:
    """Not paginated: the response is just {"items": [...]}."""
    account = account_of(state, req)
    return Response(body={"items": [render.render(state.ds, n) for n in state.ds.kids("conversion_tag", account.id)]})


def ad_accounts(state, req: Request) -> Response:
    return listing(state, req, ordered(req.query, list(state.ds.accounts)))


def user_account(state, req: Request) -> Response:
    return Response(body=render.user_account(state.ds))


def boards(state, req: Request) -> Response:
    privacy = req.one("privacy", "ALL")
    nodes = visible_boards(state, _scopes(state, req))
    if privacy in ("PUBLIC", "SECRET", "PROTECTED"):
        nodes = [b for b in nodes if render.privacy_of(state.ds, b) == privacy]
    return listing(state, req, nodes)


def _board(state, req: Request):
    board = state.ds.get("board", req.params["board_id"])
    if not board_visible(state, board, _scopes(state, req)):
        raise ApiError(404, 40, "Board not found.")
    return board


def board_sections(state, req: Request) -> Response:
    return listing(state, req, list(state.ds.kids("section", _board(state, req).id)))


def board_pins(state, req: Request) -> Response:
    pins = collect_board_pins(state, _board(state, req), _scopes(state, req))
    return listing(state, req, pins, cap=state.settings.board_pins_cap, render_one=_pin_renderer(req))


def board_section_pins(state, req: Request) -> Response:
    scopes = _scopes(state, req)
    board = state.ds.get("board", req.params["board_id"])
    section = state.ds.get("section", req.params["section_id"])
    if not board_visible(state, board, scopes) or section is None or section.parent != board.id:
        raise ApiError(404, 404, "Board or section not found.")
    return listing(state, req, collect_section_pins(state, section, scopes))


def pins(state, req: Request) -> Response:
    nodes = collect_pins(state, _scopes(state, req), _flag(req, "include_protected_pins"))
    return listing(state, req, nodes, render_one=_pin_renderer(req))


def catalogs(state, req: Request) -> Response:
    return listing(state, req, collect_catalogs(state, req.query))


def catalogs_feeds(state, req: Request) -> Response:
    return listing(state, req, collect_feeds(state, req.query))


def catalogs_product_groups(state, req: Request) -> Response:
    return listing(state, req, collect_product_groups(state, req.query))


ROUTES = [
    # (method, template under /v5, rate-limit category, handler)
    ("GET", "/user_account", "org_read", user_account),
    ("GET", "/boards", "org_read", boards),
    ("GET", "/boards/{board_id}/sections", "org_read", board_sections),
    ("GET", "/boards/{board_id}/sections/{section_id}/pins", "org_read", board_section_pins),
    ("GET", "/boards/{board_id}/pins", "org_read", board_pins),
    ("GET", "/pins", "org_read", pins),
    ("GET", "/ad_accounts", "ads_read", ad_accounts),
    ("GET", "/ad_accounts/{ad_account_id}/campaigns", "ads_read", ad_account_list(collect_campaigns)),
    ("GET", "/ad_accounts/{ad_account_id}/ad_groups", "ads_read", ad_account_list(collect_ad_groups)),
    ("GET", "/ad_accounts/{ad_account_id}/ads", "ads_read", ad_account_list(collect_ads)),
    ("GET", "/ad_accounts/{ad_account_id}/audiences", "ads_read", ad_account_list(collect_audiences)),
    (
        "GET",
        "/ad_accounts/{ad_account_id}/customer_lists",
        "ads_read",
        ad_account_list(account_children("customer_list")),
    ),
    ("GET", "/ad_accounts/{ad_account_id}/conversion_tags", "ads_read", conversion_tags),
    ("GET", "/ad_accounts/{ad_account_id}/keywords", "ads_read", ad_account_list(collect_keywords)),
    ("GET", "/ad_accounts/{ad_account_id}/lead_forms", "ads_read", ad_account_list(account_children("lead_form"))),
    ("GET", "/catalogs", "catalogs_read", catalogs),
    ("GET", "/catalogs/feeds", "catalogs_read", catalogs_feeds),
    ("GET", "/catalogs/product_groups", "catalogs_read", catalogs_product_groups),
]
