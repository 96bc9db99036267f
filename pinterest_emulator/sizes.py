"""How many entities each dataset size generates; one row per size."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SizeSpec:
    accounts: int
    campaigns_per_account: int
    ad_groups_per_campaign: int
    ads_per_ad_group: int
    audiences_per_account: int
    customer_lists_per_account: int
    conversion_tags_per_account: int
    account_keywords_per_account: int
    keywords_per_ad_group: int
    boards: int
    max_sections_per_board: int
    pins: int
    big_board_pins: int  # pins on board #0, to exercise deep pagination (> 1,000 in medium/large)
    feeds: int
    product_groups: int
    # The share of days an ad group is in flight (metrics.in_flight): its ads and keywords deliver only then, in
    # flights of FLIGHT_DAYS. None: every ad and keyword can deliver every day since its creation (small, medium).
    flight_share: float | None = None
    lead_forms_per_account: int = 3
    received_audiences_per_account: int = 2


SIZES = {
    "small": SizeSpec(2, 10, 3, 3, 4, 3, 2, 3, 2, 10, 3, 300, 0, 2, 4),
    "medium": SizeSpec(3, 30, 3, 3, 10, 5, 3, 5, 2, 50, 4, 1500, 1100, 3, 10),
    "large": SizeSpec(10, 100, 4, 6, 50, 20, 5, 20, 2, 500, 4, 60000, 5000, 5, 50, flight_share=0.08),
}
