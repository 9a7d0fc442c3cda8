"""Where to buy an item: one rule for the customer-order pull and the planner alike.

An item may be sold by several suppliers (`SupplierItem`, with a priority and price breaks).
Both a sales line pulling a buy-to-order item and the planner suggesting a replenishment ask
`choose_supplier`, so a promise date and a plan use the same supplier, and that supplier's
lead time (`lead_time_days`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from leanstock.domain.catalog import SupplierItem

# A supplier is passed over when fewer of its deliveries than this arrive on time in full ...
OTIF_STANDARD = 0.85
# ... once it has made at least this many deliveries to judge it by.
MIN_RECEIPTS_TO_JUDGE = 5
# A landed price is the price of an order covering the lead time and this many days more.
COVER_DAYS = 7


@dataclass(frozen=True)
class SupplierRecord:
    """How a supplier has delivered: the share of deliveries on time in full (NaN when none
    could be judged) and how many deliveries that rests on.

    A delivery is on time when it arrived by the promised date (the supplier's confirmed
    date, else ours) and in full when what was accepted covers the line's ordered quantity.
    """

    on_time_in_full: float
    deliveries: int


NO_RECORD = SupplierRecord(math.nan, 0)


@dataclass(frozen=True)
class Sourcing:
    """The supplier chosen for an item, and why (empty when it is simply the first choice)."""

    offer: SupplierItem
    reason: str = ""

    @property
    def supplier(self) -> str:
        return self.offer.supplier

    @property
    def lead_time_days(self) -> int:
        """The chosen supplier's quoted lead time: what a promise date and a plan both wait."""
        return self.offer.lead_time_days


def landed_price(offer: SupplierItem, demand_per_day: float = 0.0) -> Decimal:
    """The unit price, after quantity breaks, of an order covering the offer's lead time and
    COVER_DAYS more of demand (at least the MOQ)."""
    typical = Decimal(repr(demand_per_day * (offer.lead_time_days + COVER_DAYS)))
    return offer.price_at(max(typical, offer.moq))


def choose_supplier(
    offers: Sequence[SupplierItem],
    active: Mapping[str, bool],
    records: Mapping[str, SupplierRecord],
    standard: float = OTIF_STANDARD,
    demand_per_day: float = 0.0,
) -> Sourcing | None:
    """The supplier to buy from, and why; None when no active supplier sells the item.

    Offers go by priority, then by landed price (`landed_price`). The first whose supplier is
    active and, where there are enough deliveries to judge (MIN_RECEIPTS_TO_JUDGE), delivers
    on time in full at least `standard` of the time, wins; a supplier passed over is named in
    the reason. When no active supplier meets the standard, the active one with the best
    record is chosen anyway, and the reason says so. An inactive supplier is never chosen.
    """
    ranked = sorted(offers, key=lambda o: (o.priority, landed_price(o, demand_per_day)))
    passed: list[str] = []
    for offer in ranked:
        code = offer.supplier
        if not active.get(code, False):
            passed.append(f"{code} is marked unavailable")
            continue
        record = records.get(code, NO_RECORD)
        if record.deliveries >= MIN_RECEIPTS_TO_JUDGE and record.on_time_in_full < standard:
            passed.append(
                f"{code} delivered on time in full {record.on_time_in_full:.0%} of "
                f"{record.deliveries} times, below {standard:.0%}"
            )
            continue
        reason = f"; {code} instead, because " + " and ".join(passed) if passed else ""
        return Sourcing(offer, reason)
    available = [o for o in ranked if active.get(o.supplier, False)]
    if available:
        best = max(available, key=lambda o: _score(records.get(o.supplier, NO_RECORD)))
        return Sourcing(best, "; no supplier meets the standard: " + " and ".join(passed))
    return None


def _score(record: SupplierRecord) -> float:
    rate = record.on_time_in_full
    return 0.0 if record.deliveries == 0 or math.isnan(rate) else rate


def replenishment_lead_time(sourcing: Sourcing | None, bom_lead_time: int | None) -> int | None:
    """Days to replenish an item: the chosen supplier's lead time, else (a made item) its
    bill of materials' lead time; None when neither is known."""
    if sourcing is not None:
        return sourcing.lead_time_days
    return bom_lead_time
