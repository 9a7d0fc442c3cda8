"""The one sourcing rule the customer-order pull and the planner share."""

from __future__ import annotations

import math
from decimal import Decimal

from leanstock.domain.catalog import PriceBreak, SupplierItem
from leanstock.domain.sourcing import (
    Sourcing,
    SupplierRecord,
    choose_supplier,
    landed_price,
    replenishment_lead_time,
)

D = Decimal
ACTIVE = {"A": True, "B": True, "C": True}


def offer(supplier: str, price: str, lead: int, priority: int = 1, **terms: object) -> SupplierItem:
    return SupplierItem(supplier, "BEANS", D(price), lead, priority=priority, **terms)  # type: ignore[arg-type]


def name(chosen: Sourcing | None) -> str | None:
    return None if chosen is None else chosen.supplier


def test_priority_comes_first_then_the_landed_price() -> None:
    offers = [offer("A", "5", 3, priority=2), offer("B", "6", 9), offer("C", "5.5", 4)]
    chosen = choose_supplier(offers, ACTIVE, {})
    assert chosen is not None
    assert (chosen.supplier, chosen.reason, chosen.lead_time_days) == ("C", "", 4)


def test_the_landed_price_counts_the_quantity_breaks_an_order_would_earn() -> None:
    cheap_in_bulk = offer("A", "6", 5, price_breaks=(PriceBreak(D(100), D("4")),))
    flat = offer("B", "5", 5)
    assert landed_price(cheap_in_bulk, demand_per_day=1.0) == D(6)
    assert landed_price(cheap_in_bulk, demand_per_day=10.0) == D(4)
    assert name(choose_supplier([cheap_in_bulk, flat], ACTIVE, {}, demand_per_day=10.0)) == "A"
    assert name(choose_supplier([cheap_in_bulk, flat], ACTIVE, {}, demand_per_day=1.0)) == "B"


def test_an_inactive_or_unreliable_supplier_gives_way_and_the_reason_says_why() -> None:
    offers = [offer("A", "5", 2), offer("B", "5", 3, priority=2), offer("C", "9", 8, priority=3)]
    records = {"B": SupplierRecord(0.6, 10)}
    chosen = choose_supplier(offers, {**ACTIVE, "A": False}, records)
    assert chosen is not None
    assert chosen.supplier == "C"
    assert chosen.lead_time_days == 8
    assert "A is marked unavailable" in chosen.reason
    assert "B delivered on time in full 60% of 10 times, below 85%" in chosen.reason


def test_a_supplier_with_too_few_deliveries_is_not_judged_yet() -> None:
    chosen = choose_supplier([offer("A", "5", 2)], ACTIVE, {"A": SupplierRecord(0.0, 4)})
    assert name(chosen) == "A"


def test_when_nobody_meets_the_standard_the_best_active_record_wins() -> None:
    offers = [offer("A", "5", 2), offer("B", "5", 3, priority=2), offer("C", "5", 1)]
    records = {"A": SupplierRecord(0.5, 9), "B": SupplierRecord(0.7, 9), "C": SupplierRecord(1, 9)}
    chosen = choose_supplier(offers, {**ACTIVE, "C": False}, records)
    assert chosen is not None
    assert chosen.supplier == "B"
    assert chosen.reason.startswith("; no supplier meets the standard")


def test_an_inactive_supplier_is_never_chosen() -> None:
    assert choose_supplier([offer("A", "5", 2)], {"A": False}, {}) is None
    assert choose_supplier([], ACTIVE, {}) is None


def test_the_lead_time_is_the_chosen_suppliers_else_the_bill_of_materials() -> None:
    chosen = choose_supplier([offer("A", "5", 2), offer("B", "4", 9)], {"B": True}, {})
    assert replenishment_lead_time(chosen, 1) == 9
    assert replenishment_lead_time(None, 1) == 1
    assert replenishment_lead_time(None, None) is None
    assert math.isnan(SupplierRecord(math.nan, 0).on_time_in_full)
