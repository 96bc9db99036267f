"""Determinism and shape of generated data."""

import time

from pinterest_emulator.data import generate
from pinterest_emulator.render import render
from pinterest_emulator.state import Settings, State

EPOCH = 1_748_736_000  # 2025-06-01


def _records(ds):
    return [render(ds, n) for n in sorted(ds.by_id.values(), key=lambda n: (n.kind, int(n.id)))]


def test_given_same_seed_when_generating_then_identical_data():
    assert _records(generate(3, "small", EPOCH)) == _records(generate(3, "small", EPOCH))


def test_given_other_seed_when_generating_then_different_data():
    assert _records(generate(3, "small", EPOCH)) != _records(generate(4, "small", EPOCH))


def test_large_dataset_is_fast_and_big():
    start = time.time()
    ds = generate(1, "large", EPOCH)
    assert time.time() - start < 5
    assert len(ds.by_id) >= 90_000
    assert len(ds.kids("pin", ds.boards[0].id)) > 1000


def test_ids_are_numeric_strings_and_grow_with_creation_time():
    ds = generate(1, "small", EPOCH)
    campaigns = ds.all_of("campaign")
    assert all(c.id.isdigit() and len(c.id) == 18 for c in campaigns)
    assert [c.created for c in campaigns] == sorted(c.created for c in campaigns)
    assert all(n.created < EPOCH for n in ds.by_id.values())


def test_statuses_are_mixed_and_names_include_unicode():
    state = State(Settings(seed=1, size="medium", today="2025-06-01"))
    statuses = {c.status for c in state.ds.all_of("campaign")}
    assert statuses >= {"ACTIVE", "PAUSED", "ARCHIVED", "DRAFT"}
    names = [render(state.ds, c)["name"] for c in state.ds.all_of("campaign")]
    assert any(not n.isascii() for n in names)


def test_record_shapes_follow_the_spec_types():
    ds = generate(1, "small", EPOCH)
    campaign = render(ds, ds.all_of("campaign")[0])
    assert isinstance(campaign["created_time"], int) and isinstance(campaign["updated_time"], int)
    audience = render(ds, ds.all_of("audience")[0])
    assert isinstance(audience["created_timestamp"], int)
    pin = render(ds, ds.pins[0])
    assert len(pin["created_at"]) == 19 and pin["created_at"][10] == "T"
    board = render(ds, ds.boards[0])
    assert "board_pins_modified_at" in board
    assert isinstance(render(ds, ds.product_groups[0])["created_at"], int)
    assert isinstance(render(ds, ds.feeds[0])["created_at"], str)
