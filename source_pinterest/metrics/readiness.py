"""Whether Pinterest's ads metrics of recent days are final: GET /resources/metrics_ready_state?date=YYYY-MM-DD.

Pinterest closes its books day by day, oldest first: conversions keep coming in for a while, and the endpoint says
per day whether conversion and non-conversion metrics are final. So the days that are not final are the most recent
ones, and one walk back from today finds them all: it stops at the first final day (every earlier one is final too).
That costs one call per provisional day plus one, once per sync, whatever the number of streams and accounts (the
answers are shared; the calls are in the ads_analytics budget).

The ads metrics streams emit a provisional day as it stands, but their cursors stay before the first provisional
day (state.PassCursor.not_ready), so the next sync reads it again whatever its look-back, and its final numbers
replace the provisional ones (the primary key makes them upserts).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any, Protocol

import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_pinterest import limits

logger = logging.getLogger("airbyte")

PATH = "resources/metrics_ready_state"
# A walk back stops here even if Pinterest still says "not final": the cursor then stays this many days back.
MAX_PROVISIONAL_DAYS = 31


class Getter(Protocol):
    def get(self, path: str, params: dict[str, Any]) -> Any | None: ...


class MetricsReadiness:
    """The first day whose ads metrics are not final yet, asked once per sync and shared by every stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # held while asking: the other streams wait for the one answer
        self._asked = False
        self._first_provisional: dt.date | None = None

    def first_provisional_day(self, client: Getter) -> dt.date | None:
        """The earliest of the most recent days that are not final (None: every day is final)."""
        with self._lock:
            if not self._asked:
                self._first_provisional = self._walk_back(client, limits.today())
                self._asked = True
            return self._first_provisional

    def _walk_back(self, client: Getter, today: dt.date) -> dt.date | None:
        first: dt.date | None = None
        for back in range(MAX_PROVISIONAL_DAYS):
            day = today - dt.timedelta(days=back)
            try:
                answer = client.get(PATH, {"date": day.isoformat()})
            except (AirbyteTracedException, requests.RequestException) as error:
                return self._unknown(today, first, f"the request failed ({_reason(error)})")
            if answer is None:
                return self._unknown(today, first, "the token may not ask (ads:read)")
            final = _is_final(answer)
            if final is None:
                return self._unknown(today, first, f"unexpected answer for {day.isoformat()}: {str(answer)[:200]}")
            if final:
                break
            first = day
        else:
            logger.warning(
                f"Pinterest says the ads metrics of the last {MAX_PROVISIONAL_DAYS} days are not final "
                f"(GET /{PATH}); the metrics streams' cursors stay before {first}."
            )
        if first is not None:
            logger.info(
                f"Ads metrics of {first.isoformat()}..{today.isoformat()} are not final yet (GET /{PATH}): they are "
                f"emitted as they stand, and the ads metrics streams read them again next sync."
            )
        return first

    @staticmethod
    def _unknown(today: dt.date, first: dt.date | None, why: str) -> dt.date:
        """Readiness could not be had: today at least is surely not final, so the cursor stays before it."""
        held = first or today
        logger.warning(
            f"Could not tell which days' ads metrics are final (GET /{PATH}): {why}. Days from {held.isoformat()} "
            f"on are taken as provisional and read again next sync."
        )
        return held


def _is_final(answer: Any) -> bool | None:
    """Both kinds of metrics are final (the rows carry both); None if the answer is not the documented shape."""
    if not isinstance(answer, dict):
        return None
    flags = (answer.get("conversion_metrics_ready"), answer.get("non_conversion_metrics_ready"))
    if not all(isinstance(flag, bool) for flag in flags):
        return None
    return all(flags)


def _reason(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    return message.split("\n", 1)[0][:300]
