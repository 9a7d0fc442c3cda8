"""The one sourcing rule the customer-order pull and the planner share."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from leanstock.domain.catalog import PriceBreak, SupplierItem
from leanstock.domain.errors import InvalidInput
from leanstock.domain.sourcing import (
    Sourcing,
    SupplierRecord,
    SupplierStandard,
    choose_supplier,
    landed_price,
    replenishment_lead_time,
    shortfalls,
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
    assert (
        "B is below the standard: on time in full 60% of 10 deliveries, below the standard 85%"
        in chosen.reason
    )


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


def test_the_companys_standard_judges_defects_on_time_and_lead_time_spread() -> None:
    # A delivers in full on time 90%, but 6% of what it sends is rejected and its lead time
    # wanders by 4.5 days; B is fine.
    a = SupplierRecord(0.9, 20, on_time=0.95, defect_rate=0.06, lead_time_sd_days=4.5)
    b = SupplierRecord(0.95, 20, on_time=0.97, defect_rate=0.0, lead_time_sd_days=1.0)
    offers = [offer("A", "5", 2), offer("B", "5", 3, priority=2)]
    lenient = SupplierStandard(defect_rate=0.1)
    assert name(choose_supplier(offers, ACTIVE, {"A": a, "B": b}, lenient)) == "A"
    strict = SupplierStandard(defect_rate=0.05, lead_time_sd_days=3.0, on_time=0.96)
    assert shortfalls(a, strict) == [
        "on time 95% of 20 deliveries, below the standard 96%",
        "defect rate 6.0%, above the standard 5.0%",
        "lead time spread 4.5 days, above the standard 3.0",
    ]
    chosen = choose_supplier(offers, ACTIVE, {"A": a, "B": b}, strict)
    assert chosen is not None
    assert chosen.supplier == "B"
    assert "A is below the standard: on time 95%" in chosen.reason
    assert "defect rate 6.0%" in chosen.reason


def test_a_standard_out_of_range_is_refused_naming_the_field() -> None:
    for bad, field in (
        ({"otif": 1.5}, "otif"),
        ({"defect_rate": -0.1}, "defect_rate"),
        ({"lead_time_sd_days": -1.0}, "lead_time_sd_days"),
        ({"ack_hours": 0.0}, "ack_hours"),
        ({"price_variance": math.nan}, "price_variance"),
    ):
        with pytest.raises(InvalidInput) as refused:
            SupplierStandard(**bad)
        assert refused.value.field == field
