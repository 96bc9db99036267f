"""check, discover and read through the real CLI against the emulator: every record, state, incremental syncs."""

from __future__ import annotations

import pytest

from integration_tests.conftest import ENTITY_STREAMS, Connector, assert_records_match_truth, truth
from pinterest_emulator.sync_runner import state_for_next_run


@pytest.fixture(scope="module")
def full_sync(connector: Connector):
    return connector.read(incremental=False)


def test_check_succeeds_with_the_emulator_credentials(connector):
    run = connector.run("check")

    assert run.returncode == 0
    (status,) = run.of_type("CONNECTION_STATUS")
    assert status["connectionStatus"]["status"] == "SUCCEEDED"


def test_check_fails_clearly_with_a_wrong_client_secret(connector):
    config = {**connector.config, "credentials": {**connector.config["credentials"], "client_secret": "wrong"}}

    run = connector.run("check", config=config)

    (status,) = run.of_type("CONNECTION_STATUS")
    assert status["connectionStatus"]["status"] == "FAILED"
    assert "client_secret" in status["connectionStatus"]["message"]
    assert "Traceback" not in status["connectionStatus"]["message"]


def test_check_with_a_malformed_config_names_each_field_before_any_request(emulator, connector):
    config = {"credentials": None, "start_date": "2020-13-01", "custom_reports": [{"name": "x", "columns": ["NOPE"]}]}
    emulator.reset_stats()

    run = connector.run("check", config=config)

    assert run.returncode == 0
    (status,) = run.of_type("CONNECTION_STATUS")
    message = status["connectionStatus"]["message"]
    assert status["connectionStatus"]["status"] == "FAILED"
    assert "credentials: Input should be an object" in message
    assert "start_date:" in message and "YYYY-MM-DD" in message
    assert "custom_reports.0.columns: unknown column(s) NOPE" in message
    assert emulator.stats()["requests_total"] == 0


def test_discover_lists_every_entity_stream(connector):
    run = connector.run("discover")

    (catalog,) = run.of_type("CATALOG")
    names = {s["name"] for s in catalog["catalog"]["streams"]}
    assert set(ENTITY_STREAMS) <= names


def test_full_sync_exits_zero_and_completes_every_stream(full_sync):
    assert full_sync.returncode == 0, full_sync.stderr[-2000:]
    assert full_sync.errors() == []
    for stream in ENTITY_STREAMS:
        assert full_sync.stream_statuses(stream)[-1] == "COMPLETE", stream


@pytest.mark.parametrize("stream", ENTITY_STREAMS)
def test_full_sync_returns_exactly_the_ground_truth(emulator, full_sync, stream):
    records = full_sync.records(stream)
    expected = truth(emulator, stream)

    assert expected, f"the emulator has no {stream} data: the test would prove nothing"
    assert_records_match_truth(records, expected, stream)


def test_each_parent_is_listed_once(emulator, connector):
    emulator.reset_stats()

    connector.read(incremental=False)

    by_endpoint = emulator.stats()["by_endpoint"]
    assert by_endpoint["GET /v5/ad_accounts"] == 1
    assert by_endpoint["GET /v5/boards"] == 1
    assert emulator.stats()["max_page_size_seen"] == 250


def test_a_full_sync_emits_each_new_kind_of_keyword_audience_and_catalog(emulator, full_sync):
    ds = emulator.state.ds
    keywords = full_sync.records("keywords")
    audiences = full_sync.records("audiences")
    (partner_account,) = ds.partner_accounts
    archived_groups = {g.id for g in ds.all_of("ad_group") if g.status == "ARCHIVED"}

    assert {k["parent_type"] for k in keywords} == {"advertiser", "campaign", "ad_group"}
    assert {k["match_type"] for k in keywords if k["parent_type"] == "campaign"} <= {
        "EXACT_NEGATIVE",
        "PHRASE_NEGATIVE",
    }
    assert archived_groups and archived_groups & {k["parent_id"] for k in keywords}, "archived ad groups' keywords"
    assert {(a["ownership_type"], a.get("shared_with_ad_account_id") is None) for a in audiences} == {
        ("OWNED", True),
        ("RECEIVED", False),
    }
    for stream in ("catalogs", "catalogs_feeds", "catalogs_product_groups"):
        via = {r.get("business_access_ad_account_id") for r in full_sync.records(stream)}
        assert via == {None, partner_account}, stream
    assert full_sync.records("lead_forms")


def test_the_new_listings_cost_the_minimum_calls(emulator, connector):
    """Audiences twice per account, keywords once per account, campaign and ad group of every status (whose
    listings serve the campaign_analytics stream too), catalogs once for the user and once for the partner."""
    ds = emulator.state.ds
    accounts = len(ds.accounts)
    streams = ("audiences", "keywords", "lead_forms", "catalogs", "catalogs_feeds", "catalogs_product_groups")
    emulator.reset_stats()

    run = connector.read(streams=(*streams, "campaign_analytics"), incremental=False)

    assert run.returncode == 0, run.stderr[-2000:]
    calls = emulator.stats()["by_endpoint"]
    prefix = "GET /v5/ad_accounts/{ad_account_id}"
    assert calls[f"{prefix}/audiences"] == 2 * accounts
    assert calls[f"{prefix}/lead_forms"] == accounts  # fewer than 250 each: one page
    assert calls[f"{prefix}/keywords"] == accounts + len(ds.all_of("campaign")) + len(ds.all_of("ad_group"))
    assert calls[f"{prefix}/campaigns"] == accounts and calls[f"{prefix}/ad_groups"] == accounts
    assert calls["GET /v5/catalogs"] == 1 + len(ds.partner_accounts)
    assert calls["GET /v5/catalogs/product_groups"] == 1 + len(ds.partner_accounts)
    assert calls["GET /v5/ad_accounts"] == 1 and calls["GET /v5/user_account"] == 1


def test_a_sync_after_changes_returns_only_what_changed_and_every_board_and_pin_as_edited(fresh_emulator):
    connector = Connector(fresh_emulator)
    first = connector.read()
    assert first.returncode == 0
    states = first.final_states()
    assert states["campaigns"]["states"], "per-account state expected for campaigns"

    changed = fresh_emulator.mutate(seed=3)["changed"]
    second = connector.read(state=state_for_next_run(first))

    assert second.returncode == 0, second.stderr[-2000:]
    for stream in ("campaigns", "ad_groups", "ads"):
        emitted = {r["id"] for r in second.records(stream)}
        visible_now = {str(r["id"]) for r in truth(fresh_emulator, stream)}
        expected_changes = {str(i) for i in changed.get(stream, [])} & visible_now
        assert expected_changes <= emitted, f"{stream}: changed records missing from the incremental sync"
        # Only changed records (and the boundary records sharing the saved cursor value) come again.
        assert len(emitted) <= len(expected_changes) + len(states[stream]["states"]), stream
    for stream in ("campaigns", "ad_groups", "ads"):
        before, after = first.final_states()[stream], second.final_states()[stream]
        assert after != before or not changed.get(stream), f"{stream}: state did not advance"
    # Boards and pins are full refresh (no update time in the API): every record comes, the edited ones as edited.
    for stream, field in (("boards", "name"), ("pins", "title")):
        before = {r["id"]: r[field] for r in first.records(stream)}
        after = {r["id"]: r[field] for r in second.records(stream)}
        assert after == {str(r["id"]): r[field] for r in truth(fresh_emulator, stream)}, f"{stream}: not all as now"
        edited = {str(i) for i in changed[stream]} & set(before)
        assert edited and all(after[i] != before[i] for i in edited), f"{stream}: an edit was not emitted"
        final = second.final_states()[stream]
        assert final == {"__ab_full_refresh_sync_complete": True, "pass_generation": final["pass_generation"]}, stream
