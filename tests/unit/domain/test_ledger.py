"""The ledger's pure rules: what is available, and which lots a pick takes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from leanstock.domain.catalog import Item
from leanstock.domain.errors import InvalidInput, LotExpired, LotRequired, OutOfStock
from leanstock.domain.ledger import KnownLot, LotStock, NewLot, available, pick_fefo, received_lot

D = Decimal
TODAY = date(2026, 3, 2)


def test_available_is_usable_on_hand_less_reserved_and_leaves_out_expired_lots() -> None:
    lots = [
        LotStock("OLD", D(4), TODAY - timedelta(days=1)),
        LotStock("LAST-DAY", D(3), TODAY),
        LotStock("NEW", D(5), TODAY + timedelta(days=9)),
        LotStock(None, D(2)),
    ]
    assert available(lots, D(6), TODAY) == D(4)
    assert available(lots, D(0), TODAY + timedelta(days=1)) == D(7)


def test_available_goes_below_zero_when_stock_expires_under_a_reservation() -> None:
    lots = [LotStock("L1", D(5), TODAY - timedelta(days=1))]
    assert available(lots, D(5), TODAY) == D(-5)


def test_negative_balances_are_not_available() -> None:
    assert available([LotStock(None, D(-3)), LotStock("A", D(2))], D(0), TODAY) == D(2)


def test_a_pick_goes_first_expired_first_out_and_skips_expired_lots() -> None:
    lots = [
        LotStock("LATER", D(5), TODAY + timedelta(days=9)),
        LotStock("GONE", D(5), TODAY - timedelta(days=1)),
        LotStock("SOON", D(2), TODAY + timedelta(days=1)),
        LotStock("UNDATED", D(5)),
    ]
    assert pick_fefo("MILK", "WH", lots, D(8), TODAY) == [
        ("SOON", D(2)),
        ("LATER", D(5)),
        ("UNDATED", D(1)),
    ]
    with pytest.raises(OutOfStock):
        pick_fefo("MILK", "WH", lots, D(13), TODAY)
    with pytest.raises(LotExpired):
        pick_fefo("MILK", "WH", lots, D(1), TODAY, lot="GONE")


MILK = Item("MILK", "Milk", lot_tracked=True, shelf_life_days=10)


def test_a_new_lot_expires_after_the_items_shelf_life_unless_a_date_is_given() -> None:
    assert received_lot(MILK, "L1", None, TODAY, None) == NewLot("L1", TODAY + timedelta(days=10))
    given = TODAY + timedelta(days=3)
    assert received_lot(MILK, "L1", given, TODAY, None) == NewLot("L1", given)


def test_a_known_lot_keeps_its_expiry_and_another_date_is_refused() -> None:
    known = KnownLot("L1", TODAY + timedelta(days=4))
    assert received_lot(MILK, "L1", None, TODAY, known) is None
    assert received_lot(MILK, "L1", known.expires_on, TODAY, known) is None
    with pytest.raises(InvalidInput, match="expires on"):
        received_lot(MILK, "L1", TODAY + timedelta(days=5), TODAY, known)


def test_a_lot_tracked_item_arrives_with_its_lot_and_an_expiry_needs_one() -> None:
    with pytest.raises(LotRequired):
        received_lot(MILK, None, None, TODAY, None)
    cup = Item("CUP", "Cup")
    assert received_lot(cup, None, None, TODAY, None) is None
    with pytest.raises(InvalidInput, match="belongs to a lot"):
        received_lot(cup, None, TODAY, TODAY, None)
