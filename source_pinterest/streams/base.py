"""The base of every Pinterest stream: the sync context, its own HTTP client, its schema, and helpers all share."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams import CheckpointMixin, Stream
from airbyte_cdk.sources.utils.schema_helpers import ResourceSchemaLoader

from source_pinterest.http.client import PinterestClient
from source_pinterest.sync.context import SyncContext
from source_pinterest.sync.saved_state import StateLayout

# What read_records yields where the stream's state may be emitted before its slice ends (a metrics stream, after
# each window or id batch of an ad account): the record stream's order puts it behind every record yielded so far.
CHECKPOINT: Any = object()


@cache
def load_schema(name: str) -> Mapping[str, Any]:
    return ResourceSchemaLoader("source_pinterest").get_schema(name)


def stringify_ids(value: Any) -> Any:
    """Ids become strings at any depth: an 18-digit id stored as a float loses its last digits."""
    # Runs on every record, so exact `type(...) is` checks (bool is not int here) and strings skipped first.
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            item_kind = type(item)
            if item_kind is str or item is None:
                continue
            if item_kind is int and (key == "id" or key.endswith("_id")):
                value[key] = str(item)
            elif item_kind is list and key.endswith("_ids"):
                value[key] = [str(i) if type(i) is int else i for i in item]
            elif item_kind is dict or item_kind is list:
                stringify_ids(item)
    elif kind is list:
        for item in value:
            if type(item) is dict or type(item) is list:
                stringify_ids(item)
    return value


class PinterestStream(Stream, CheckpointMixin):
    """A CDK Stream holding the sync context and its own HTTP client (client.PinterestClient: Pinterest's error
    handling, the shared authenticator and budget). Subclasses read through `self.client` in read_records and keep
    their checkpoint as `state` (the CDK's CheckpointMixin; state.py holds the cursors)."""

    # Pinterest's lists are read whole (there is no updated-since filter), so per-page checkpointing adds nothing.
    state_checkpoint_interval: int | None = None
    skip_statuses: frozenset[int] = frozenset()

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self.sync_mode = SyncMode.full_refresh  # as configured in the catalog, set when the read begins
        self.client = PinterestClient(self.name, ctx, self.skip_statuses)

    @property
    def requests_made(self) -> int:
        return self.client.requests_made

    @property
    def state_layout(self) -> StateLayout:
        """What this stream's state is keyed by, for mapping the state shapes of Airbyte's connector onto ours."""
        return StateLayout((), None)

    # The CDK declares Stream.get_json_schema as an lru_cache wrapper, which no plain method matches; the schemas are
    # cached by load_schema instead.
    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]
        return load_schema(self.name)
