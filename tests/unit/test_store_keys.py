"""Every key builder of chalicelib/store/keys.py against its parser, and the items' round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from chalicelib.store import keys
from chalicelib.store.items import (
    CampaignHead,
    LedgerEntry,
    OrderRecord,
    Receipt,
    Release,
    RotationInputs,
    history_item,
    homepage_item,
    live_release_item,
    receipt_item,
    rotation_item,
)


def test_numbered_sort_keys_parse_back_and_sort_as_numbers():
    assert keys.release_sk(7) == "R#0000000007" and keys.parse_release_sk("R#0000000007") == 7
    assert keys.history_sk(42) == "H#0000000042" and keys.parse_history_sk(keys.history_sk(42)) == 42
    assert sorted(keys.release_sk(n) for n in (10, 9, 100)) == [keys.release_sk(n) for n in (9, 10, 100)]
    with pytest.raises(ValueError):
        keys.parse_release_sk("H#0000000001")


def test_homepage_keys_parse_back_and_share_the_rotations_prefix():
    key = keys.homepage_key(3, "poverty-day-2026")
    assert key == {"PK": "ROTATION", "SK": "CURRENT#R#0000000003#poverty-day-2026"}
    assert keys.parse_homepage_sk(key["SK"]) == (3, "poverty-day-2026")
    assert key["SK"].startswith(keys.homepage_prefix(3)) and key["SK"].startswith(keys.HOMEPAGE_PREFIX)
    assert keys.LIVE_RELEASE_KEY["SK"].startswith(keys.CURRENT_SK) and keys.ROTATION_KEY["SK"] == keys.CURRENT_SK
    for bad in ("CURRENT#LIVE", "CURRENT#R#12#x", "CURRENT#R#0000000003"):
        with pytest.raises(ValueError):
            keys.parse_homepage_sk(bad)


def test_the_books_keys_parse_back():
    assert keys.totals_pk("bazhong-pork-charity", 7) == "TOTALS#bazhong-pork-charity#007"
    assert keys.parse_totals_pk(keys.totals_pk("bazhong-pork-charity", 7)) == ("bazhong-pork-charity", 7)
    assert keys.order_key("A-1") == {"PK": "ORDER#A-1", "SK": "ORDER"}
    assert keys.refund_key("R-1") == {"PK": "REFUND#R-1", "SK": "REFUND"}
    at = datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    sk = keys.ledger_sk(at, "00ff")
    assert sk == "E#2026-11-20T02:00:00.123456Z#00ff" and keys.parse_ledger_sk(sk) == (at, "00ff")
    assert keys.LEDGER_TOP > sk


def test_the_items_round_trip():
    release = Release(3, {"a-b-c": "d" * 64}, [{"id": "a-b-c"}], "2026-10-17T09:00:00+08:00", "me", "abc1234", 2)
    assert Release.from_item(release.to_item(keys.release_sk(3))) == release
    head = CampaignHead("d" * 64, {"id": "a-b-c", "price": "39.90"})
    assert CampaignHead.from_item(head.to_item("a-b-c")) == head and head.to_item("a-b-c")["SK"] == keys.HEAD_SK
    receipt = Receipt("f" * 64, {"order_id": "A-1", "donation": "10.90"})
    order = OrderRecord(
        "A-1", "a-b-c", "EGG-0017", 1, "m-1", "511902", 20000, "2026-12-01T10:00:00+08:00", Decimal("5.45"), 1090, 0, 0, receipt
    )
    item = order.to_item(datetime(2026, 12, 1, tzinfo=UTC))
    assert OrderRecord.from_item(item) == order and Receipt.from_item(item) == receipt
    refund = receipt_item(keys.refund_pk("R-1"), keys.REFUND_SK, receipt, datetime(2026, 12, 1, tzinfo=UTC), amount_fen=5)
    assert Receipt.from_item(refund) == receipt and refund["amount_fen"] == 5
    entry = LedgerEntry(datetime(2026, 12, 1, 2, tzinfo=UTC), "sale", "A-****", 1090)
    stored = entry.to_item("a-b-c", 1, "00ff", "ORDER#A-1")
    assert LedgerEntry.from_item(stored) == LedgerEntry(entry.at, "sale", "A-****", 1090, stored["SK"])


def test_the_rotation_inputs_keep_the_live_releases_entries():
    doc = {"rotation": 4, "slots": []}
    items = [
        rotation_item(doc),
        live_release_item(2),
        homepage_item(1, "old-one", {"campaign_id": "old-one"}),
        homepage_item(2, "new-one", {"campaign_id": "new-one"}),
        history_item(doc, 1_800_000_000),  # not under CURRENT: never in the rotation's query, ignored if it were
    ]
    assert RotationInputs.from_items(items) == RotationInputs(2, doc, [{"campaign_id": "new-one"}])
    assert RotationInputs.from_items([]) == RotationInputs(None, None, [])
    assert history_item(doc, 1_800_000_000)[keys.TTL_ATTRIBUTE] == 1_800_000_000
