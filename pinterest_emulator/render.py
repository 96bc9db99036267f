"""Render nodes into API objects shaped like the spec's response schemas.

Details that nothing filters on (budgets, colours, descriptions...) are derived
from a per-id Random, so they cost no memory and never change unless mutated.
"""

import functools
from datetime import UTC, datetime

from .hashing import rng

NAMES = (
    "Spring Sale",
    "Été ☀️ Collection",
    "Holiday 🎄 Push",
    "Brand Awareness",
    "日本語キャンペーン",
    "Rétro Déco",
    "Back to School ✏️",
    "Summer recipes",
    "Crème brûlée",
    "Best of 🏡 Home",
    "Winter ❄️ Looks",
    "Evergreen",
)
COUNTRIES = (("US", "USD"), ("GB", "GBP"), ("DE", "EUR"), ("FR", "EUR"), ("JP", "JPY"), ("CA", "CAD"))
OBJECTIVES = ("AWARENESS", "CONSIDERATION", "WEB_CONVERSION", "CATALOG_SALES", "VIDEO_COMPLETION")
SUMMARY = {
    "ACTIVE": "RUNNING",
    "PAUSED": "PAUSED",
    "ARCHIVED": "ARCHIVED",
    "DRAFT": "DRAFT",
    "DELETED_DRAFT": "DELETED_DRAFT",
}


def iso(epoch: int) -> str:
    """Pinterest's organic timestamps: ISO-8601 without offset, e.g. 2024-05-01T12:00:00."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def name_of(ds, node) -> str:
    if node.name is not None:
        return node.name
    r = rng(ds.seed, "name", node.kind, node.id)
    return f"{r.choice(NAMES)} {node.kind.replace('_', ' ')} #{node.n}"


def account_meta(ds, account_id: str) -> tuple:
    """(country, currency) of an ad account, stable per id."""
    return rng(ds.seed, "country", account_id).choice(COUNTRIES)


def objective_of(ds, campaign) -> str:
    r = rng(ds.seed, "objective", campaign.id)
    choices = OBJECTIVES if campaign.account != ds.no_catalog_account else OBJECTIVES[:3]
    return r.choice(choices)


def ad_account(ds, n) -> dict:
    country, currency = account_meta(ds, n.id)
    # The partner's accounts: the token user is an admin there through Business Access, not the owner.
    shared = n.id in ds.partner_accounts
    owner = ds.partner if shared else ds.user
    return {
        "id": n.id,
        "name": name_of(ds, n),
        "owner": {"id": owner["id"], "username": owner["username"]},
        "country": country,
        "currency": currency,
        "permissions": ["ADMIN"] if shared else ["OWNER"],
        "created_time": n.created,
        "updated_time": n.updated,
    }


def campaign(ds, n) -> dict:
    r = rng(ds.seed, "campaign", n.id)
    cap = r.choice((None, r.randint(5, 500) * 1_000_000))
    return {
        "id": n.id,
        "ad_account_id": n.account,
        "name": name_of(ds, n),
        "status": n.status,
        "lifetime_spend_cap": None,
        "daily_spend_cap": cap,
        "order_line_id": None,
        "tracking_urls": None,
        "start_time": n.created,
        "end_time": None,
        "is_flexible_daily_budgets": r.random() < 0.3,
        "is_campaign_budget_optimization": r.random() < 0.2,
        "is_performance_plus": False,
        "is_automated_campaign": False,
        "objective_type": objective_of(ds, n),
        "summary_status": SUMMARY[n.status],
        "type": "campaign",
        "created_time": n.created,
        "updated_time": n.updated,
    }


def ad_group(ds, n) -> dict:
    r = rng(ds.seed, "ad_group", n.id)
    return {
        "id": n.id,
        "ad_account_id": n.account,
        "campaign_id": n.parent,
        "name": name_of(ds, n),
        "status": n.status,
        "budget_in_micro_currency": r.randint(1, 100) * 1_000_000,
        "bid_in_micro_currency": r.randint(1, 50) * 100_000,
        "budget_type": r.choice(("DAILY", "LIFETIME")),
        "start_time": n.created,
        "end_time": None,
        "targeting_spec": {"GEO": ["US"], "LOCALE": ["en-US"]},
        "lifetime_frequency_cap": None,
        "tracking_urls": None,
        "auto_targeting_enabled": r.random() < 0.5,
        "placement_group": "ALL",
        "pacing_delivery_type": "STANDARD",
        "conversion_learning_mode_type": None,
        "summary_status": SUMMARY[n.status],
        "feed_profile_id": "0",
        "billable_event": "IMPRESSION",
        "bid_strategy_type": "AUTOMATIC_BID",
        "optimization_goal_metadata": {},
        "type": "adgroup",
        "created_time": n.created,
        "updated_time": n.updated,
    }


def ad(ds, n) -> dict:
    r = rng(ds.seed, "ad", n.id)
    return {
        "id": n.id,
        "ad_account_id": n.account,
        "campaign_id": n.extra,
        "ad_group_id": n.parent,
        "name": name_of(ds, n),
        "status": n.status,
        "creative_type": r.choice(("REGULAR", "VIDEO", "CAROUSEL")),
        "destination_url": f"https://example.com/p/{n.n}",
        "pin_id": str(394_000_000_000_000_000 + n.n),
        "android_deep_link": None,
        "ios_deep_link": None,
        "carousel_android_deep_links": None,
        "carousel_destination_urls": None,
        "carousel_ios_deep_links": None,
        "click_tracking_url": None,
        "view_tracking_url": None,
        "tracking_urls": None,
        "is_pin_deleted": False,
        "is_removable": True,
        "lead_form_id": None,
        "grid_click_type": "CLOSEUP",
        "customizable_cta_type": None,
        "collection_items_destination_url_template": None,
        "quiz_pin_data": None,
        "rejected_reasons": [],
        "rejection_labels": [],
        "review_status": "APPROVED",
        "summary_status": SUMMARY[n.status],
        "type": "pinpromotion",
        "created_time": n.created,
        "updated_time": n.updated,
    }


def audience(ds, n) -> dict:
    r = rng(ds.seed, "audience", n.id)
    received = n.kind == "received_audience"
    return {
        "id": n.id,
        # A received audience belongs to the ad account that shared it (the partner's), not the receiving one.
        "ad_account_id": ds.partner_source_account if received else n.account,
        "name": name_of(ds, n),
        "audience_type": r.choice(("CUSTOMER_LIST", "VISITOR", "ENGAGEMENT", "ACTALIKE")),
        "description": "Emulated audience",
        "rule": {},
        "size": r.randint(100, 10_000_000),
        "status": "READY",
        "type": "audience",
        "created_by_company_name": "Emulated Partner" if received else "Emulator",
        "created_timestamp": n.created,
        "updated_timestamp": n.updated,
    }


def customer_list(ds, n) -> dict:
    r = rng(ds.seed, "customer_list", n.id)
    return {
        "id": n.id,
        "ad_account_id": n.account,
        "name": name_of(ds, n),
        "status": "READY",
        "type": "customerlist",
        "num_batches": r.randint(1, 5),
        "num_removed_user_records": 0,
        "num_uploaded_user_records": r.randint(100, 50_000),
        "exceptions": {},
        "created_time": n.created,
        "updated_time": n.updated,
    }


def conversion_tag(ds, n) -> dict:
    return {
        "id": n.id,
        "ad_account_id": n.account,
        "name": name_of(ds, n),
        "status": "ACTIVE",
        "version": "3",
        "code_snippet": "<script type=text/javascript>/* emulated */</script>",
        "enhanced_match_status": "VALIDATION_COMPLETE",
        "last_fired_time_ms": n.updated * 1000,
        "configs": {"aem_enabled": False, "md_frequency": 1.0},
    }


# The spec: "Advertisers and campaigns can only be assigned keywords with excluding ('_NEGATIVE')". The emulator's
# account-level keywords predate this model and keep their positive types (their records are committed test data).
NEGATIVE_MATCH_TYPES = ("EXACT_NEGATIVE", "PHRASE_NEGATIVE")


def keyword(ds, n) -> dict:
    r = rng(ds.seed, "keyword", n.id)
    value = r.choice(("summer dress", "décor idées", "鍋 レシピ", "running shoes", "🎁 gifts"))
    positive = r.choice(("BROAD", "PHRASE", "EXACT"))
    return {
        "id": n.id,
        "value": value,
        "match_type": r.choice(NEGATIVE_MATCH_TYPES) if n.extra == "campaign" else positive,
        "bid": r.choice((None, r.randint(1, 30) * 100_000)),
        "archived": False,
        "parent_id": n.parent,
        "parent_type": n.extra,
        "type": "keyword",
    }


# Board privacy (the spec's BoardPrivacy), weighted: most boards are public. A protected board is an ad-only board
# (the spec: setting is_ads_only makes a board PROTECTED), and its pins are the "protected pins" of GET /pins.
PRIVACY_WEIGHTS = (("PUBLIC", 6), ("SECRET", 2), ("PROTECTED", 1))


def privacy_of(ds, board_node) -> str:
    """A board's privacy, stable per id; board #0 (the big one) is always public."""
    if board_node.n == 0:
        return "PUBLIC"
    return _drawn_privacy(ds.seed, board_node.id)


@functools.cache
def _drawn_privacy(seed: int, board_id: str) -> str:
    # Kept per (seed, id): GET /pins asks it for every pin of the account on every page (60,000 on the large
    # account), and a seeded Random per call made each page take seconds.
    values, weights = zip(*PRIVACY_WEIGHTS, strict=True)
    return rng(seed, "privacy", board_id).choices(values, weights)[0]


def board(ds, n) -> dict:
    r = rng(ds.seed, "board", n.id)
    pins = ds.kids("pin", n.id)
    privacy = privacy_of(ds, n)
    modified = pins[-1].created if pins else n.created
    return {
        "id": n.id,
        "name": name_of(ds, n),
        "description": "Emulated board",
        "owner": {"username": ds.user["username"]},
        "privacy": privacy,
        "created_at": iso(n.created),
        "board_pins_modified_at": iso(max(modified, n.updated)),
        "pin_count": len(pins),
        "follower_count": r.randint(0, 5000),
        "collaborator_count": 0,
        "is_ads_only": privacy == "PROTECTED",
        "media": {"image_cover_url": None, "pin_thumbnail_urls": []},
    }


def section(ds, n) -> dict:
    return {"id": n.id, "name": name_of(ds, n)}


def pin(ds, n) -> dict:
    r = rng(ds.seed, "pin", n.id)
    return {
        "id": n.id,
        "created_at": iso(n.created),
        "link": f"https://example.com/pin/{n.n}",
        "title": name_of(ds, n),
        "description": "Emulated pin",
        "dominant_color": f"#{r.randrange(16**6):06x}",
        "alt_text": None,
        "creative_type": "REGULAR",
        "board_id": n.parent,
        "board_section_id": n.extra,
        "board_owner": {"username": ds.user["username"]},
        "is_owner": True,
        "is_standard": True,
        "has_been_promoted": r.random() < 0.1,
        "parent_pin_id": None,
        "note": None,
        "media": {
            "media_type": "image",
            "images": {"150x150": {"url": f"https://i.example.com/150x150/{n.id}.jpg", "width": 150, "height": 150}},
        },
    }


# The spec's pin_metrics parameter: "If Pin was created before 2023-03-20 lifetime metrics will only be available
# for Video and Idea Pin formats". The emulator's pins are all image pins.
LIFETIME_METRICS_SINCE = int(datetime(2023, 3, 20, tzinfo=UTC).timestamp())


def pin_metrics(ds, n) -> dict:
    """The `pin_metrics` of a pin asked for with pin_metrics=true, shaped as the spec's example: 90-day counts and,
    for pins new enough, lifetime counts (which alone carry reactions and comments). Stable per pin."""
    r = rng(ds.seed, "pin_metrics", n.id)
    recent = {"pin_click": r.randint(0, 400), "impression": r.randint(0, 20_000), "clickthrough": r.randint(0, 300)}
    lifetime = None
    if n.created >= LIFETIME_METRICS_SINCE:
        lifetime = {name: value + r.randint(0, 5 * value + 10) for name, value in recent.items()}
        lifetime |= {"reaction": r.randint(0, 200), "comment": r.randint(0, 40)}
    return {"90d": recent, "lifetime_metrics": lifetime}


def pin_with_metrics(ds, n) -> dict:
    return {**pin(ds, n), "pin_metrics": pin_metrics(ds, n)}


def lead_form(ds, n) -> dict:
    """A LeadFormResponse: the creation fields (LeadFormCommon) plus id, ad account and times."""
    r = rng(ds.seed, "lead_form", n.id)
    custom = {
        "question_type": "CUSTOM",
        "custom_question_field_type": "RADIO_LIST",
        "custom_question_label": "Quand souhaitez-vous être rappelé ?",
        "custom_question_options": ["Matin ☀️", "Après-midi", "Soir"],
    }
    standard = [
        {
            "question_type": q,
            "custom_question_field_type": None,
            "custom_question_label": None,
            "custom_question_options": None,
        }
        for q in ("FULL_NAME", "EMAIL", "PHONE_NUMBER")[: r.randint(1, 3)]
    ]
    return {
        "id": n.id,
        "ad_account_id": n.account,
        "name": name_of(ds, n),
        "status": n.status,
        "has_accepted_terms": True,
        "privacy_policy_link": f"https://example.com/privacy/{n.n}",
        "completion_message": r.choice((None, "Merci ! We will call you soon.")),
        "disclosure_language": None,
        "policy_links": [{"label": "Terms", "link": "https://example.com/terms"}][: r.randint(0, 1)],
        "questions": standard + ([custom] if r.random() < 0.5 else []),
        "created_time": n.created,
        "updated_time": n.updated,
    }


def catalog(ds, n) -> dict:
    return {
        "id": n.id,
        "name": name_of(ds, n),
        "catalog_type": "RETAIL",
        "created_at": iso(n.created),
        "updated_at": iso(n.updated),
    }


def feed(ds, n) -> dict:
    return {
        "id": n.id,
        "catalog_id": n.parent,
        "name": name_of(ds, n),
        "catalog_type": "RETAIL",
        "format": "TSV",
        "location": f"https://example.com/feeds/{n.n}.tsv",
        "status": "ACTIVE",
        "default_country": "US",
        "default_currency": "USD",
        "default_locale": "en-US",
        "default_availability": "IN_STOCK",
        "credentials": None,
        "preferred_processing_schedule": None,
        "created_at": iso(n.created),
        "updated_at": iso(n.updated),
    }


def product_group(ds, n) -> dict:
    feed_node = ds.get("feed", n.parent)
    return {
        "id": n.id,
        "catalog_id": feed_node.parent,
        "feed_id": n.parent,
        "name": name_of(ds, n),
        "catalog_type": "RETAIL",
        "description": None,
        "country": "US",
        "locale": "en-US",
        "filters": {"any_of": [{"MIN_PRICE": {"values": 10, "inclusion": True}}]},
        "is_featured": False,
        "status": "ACTIVE",
        "type": "LOCAL_PRODUCT_GROUP",
        "created_at": n.created,
        "updated_at": n.updated,
    }


RENDERERS = {
    "account": ad_account,
    "campaign": campaign,
    "ad_group": ad_group,
    "ad": ad,
    "audience": audience,
    "received_audience": audience,
    "lead_form": lead_form,
    "customer_list": customer_list,
    "conversion_tag": conversion_tag,
    "keyword": keyword,
    "board": board,
    "section": section,
    "pin": pin,
    "catalog": catalog,
    "feed": feed,
    "product_group": product_group,
}


def render(ds, node) -> dict:
    return RENDERERS[node.kind](ds, node)


def user_account(ds) -> dict:
    return {
        "account_type": "BUSINESS",
        "id": ds.user["id"],
        "username": ds.user["username"],
        "business_name": "Emulated Business ✨",
        "profile_image": "https://i.example.com/profile.jpg",
        "website_url": "https://example.com",
        "about": "Deterministic test data",
        "board_count": len(ds.boards),
        "pin_count": len(ds.pins),
        "follower_count": 1234,
        "following_count": 56,
        "monthly_views": 98765,
    }
