"""The two entity streams whose behaviour differs from the table's generic reading."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from source_pinterest.streams.entity import EntityStream

logger = logging.getLogger("airbyte")


class AdAccountsStream(EntityStream):
    """GET /ad_accounts, restricted to the accounts named in the config (account_id / ad_account_ids), if any."""

    def keeps(self, record: Mapping[str, Any]) -> bool:
        selected = self.ctx.config.selected_ad_account_ids
        return not selected or str(record.get("id")) in selected

    def list_everything(self) -> Iterable[Mapping[str, Any]]:
        found = set()
        for record in super().list_everything():
            found.add(record.get("id"))
            yield record
        missing = sorted(set(self.ctx.config.selected_ad_account_ids) - found)
        if missing:
            logger.warning(
                f"Stream ad_accounts: the configured ad account(s) {', '.join(missing)} are not visible to this token; "
                f"their campaigns, ads and metrics are skipped. Check the ids and the account's access."
            )


class BoardPinsStream(EntityStream):
    """GET /boards/{board_id}/pins. Very large boards may stop paging before their last pin; when a board's listing
    comes back shorter than its `pin_count`, the pins of its sections are read too (without `pin_metrics`: the section
    endpoint does not take the flag), and a warning names the board if pins are still out of reach."""

    def _fetch_from_api(self, partition: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        seen: set[str | None] = set()  # pin ids
        for record in super()._fetch_from_api(partition):
            seen.add(record.get("id"))
            yield record
        board = self._board(partition["board_id"])
        expected = board.get("pin_count") if board else None
        if not isinstance(expected, int) or len(seen) >= expected:
            return
        sections_stream = self.ctx.streams["board_sections"]
        for section in sections_stream.fetch({"board_id": partition["board_id"]}):
            path = f"boards/{partition['board_id']}/sections/{section['id']}/pins"
            for items in self.client.get_pages(path, {}):
                for item in items:
                    if item.get("id") not in seen:
                        seen.add(item.get("id"))
                        yield self.as_record(item)
        if len(seen) < expected:
            logger.warning(
                f"Stream board_pins: board {partition['board_id']} reports {expected} pins but only {len(seen)} are "
                f"reachable through the board and its sections; the rest cannot be listed through the API."
            )

    def _board(self, board_id: str) -> Mapping[str, Any] | None:
        boards = self.ctx.records_of("boards")
        return next((b for b in boards if b.get("id") == board_id), None)
