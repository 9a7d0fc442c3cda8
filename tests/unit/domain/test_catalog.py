"""Catalog rules: codes, perishables, supplier terms and their price breaks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leanstock.domain.catalog import Item, PriceBreak, SupplierItem
from leanstock.domain.errors import InvalidInput

D = Decimal


def test_a_quantity_discount_prices_the_whole_order() -> None:
    terms = SupplierItem(
        "MILL",
        "FLOUR",
        D("1.20"),
        3,
        price_breaks=(PriceBreak(D(500), D("0.95")), PriceBreak(D(100), D("1.05"))),
    )
    assert [b.min_quantity for b in terms.price_breaks] == [100, 500]
    assert terms.price_at(D(99)) == D("1.20")
    assert terms.price_at(D(100)) == D("1.05")
    assert terms.price_at(D(499.5)) == D("1.05")
    assert terms.price_at(D(800)) == D("0.95")


@pytest.mark.parametrize(
    "breaks",
    [
        (PriceBreak(D(100), D("1.30")),),  # dearer than the list price
        (PriceBreak(D(100), D("1.00")), PriceBreak(D(200), D("1.10"))),  # rises again
        (PriceBreak(D(100), D("1.00")), PriceBreak(D(100), D("0.90"))),  # same start twice
    ],
)
def test_price_breaks_that_raise_the_price_are_refused(breaks: tuple[PriceBreak, ...]) -> None:
    with pytest.raises(InvalidInput) as refused:
        SupplierItem("MILL", "FLOUR", D("1.20"), 3, price_breaks=breaks)
    assert refused.value.field == "price_breaks"


def test_a_price_break_needs_a_positive_quantity() -> None:
    with pytest.raises(InvalidInput):
        PriceBreak(D(0), D(1))


def test_a_perishable_item_must_be_lot_tracked() -> None:
    with pytest.raises(InvalidInput, match="lot-tracked"):
        Item("MILK", "Milk", shelf_life_days=7)


@pytest.mark.parametrize("sku", ["", "has space", "x" * 65, "-leading"])
def test_a_sku_is_a_short_code(sku: str) -> None:
    with pytest.raises(InvalidInput):
        Item(sku, "Something")


def test_an_item_counted_in_each_takes_whole_numbers_only() -> None:
    from leanstock.domain.catalog import whole

    cup = Item("CUP", "Paper cup")
    flour = Item("FLOUR", "Flour", unit="kg")
    assert not cup.divisible
    assert flour.divisible
    assert whole(cup, Decimal(3)) == 3
    assert whole(flour, Decimal("0.5")) == Decimal("0.5")
    with pytest.raises(InvalidInput, match=r"CUP is counted in whole 'each'; 0.5 is not a whole"):
        whole(cup, Decimal("0.5"))
    assert not Item("EGG", "Eggs", unit="Box").divisible


def test_an_items_own_divisible_flag_overrides_its_units_default() -> None:
    from leanstock.domain.catalog import whole

    loose_cups = Item("CUP", "Paper cup", divisible=True)  # sold by weight after all
    chair = Item("CHAIR", "Chair", unit="kg", divisible=False)
    assert whole(loose_cups, Decimal("0.5")) == Decimal("0.5")
    with pytest.raises(InvalidInput, match="make the item divisible"):
        whole(chair, Decimal("1.5"))
