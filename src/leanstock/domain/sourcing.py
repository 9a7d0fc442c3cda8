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
from leanstock.domain.errors import InvalidInput

# A supplier is passed over when fewer of its deliveries than this arrive on time in full ...
OTIF_STANDARD = 0.85
# ... once it has made at least this many deliveries to judge it by.
MIN_RECEIPTS_TO_JUDGE = 5
# A landed price is the price of an order covering the lead time and this many days more.
COVER_DAYS = 7


@dataclass(frozen=True)
class SupplierRecord:
    """How a supplier has delivered: the share of deliveries on time in full (NaN when none
    could be judged) and how many deliveries that rests on; the share on time, the defect
    rate (rejected ÷ received) and the lead-time spread (sample standard deviation, days),
    each NaN when unknown.

    A delivery is on time when it arrived by the date the supplier first confirmed (else the
    one we asked for) and in full when what was accepted covers the line's ordered quantity.
    """

    on_time_in_full: float
    deliveries: int
    on_time: float = math.nan
    defect_rate: float = math.nan
    lead_time_sd_days: float = math.nan


NO_RECORD = SupplierRecord(math.nan, 0)


@dataclass(frozen=True)
class SupplierStandard:
    """What a company expects of its suppliers (set by an owner, kept in the database).

    A supplier with at least `MIN_RECEIPTS_TO_JUDGE` deliveries is **below the standard** when
    its on-time-in-full or on-time share is under `otif` or `on_time`, its defect rate over
    `defect_rate`, or its lead-time spread over `lead_time_sd_days` (None: not judged); the
    sourcing rule then passes it over for the next supplier. `ack_hours` (median hours to
    acknowledge) and `price_variance` (invoiced over ordered, a share) are watched on the
    scorecard, which names a supplier that misses them, but do not move the supply.
    """

    otif: float = OTIF_STANDARD
    on_time: float = 0.0
    defect_rate: float = 0.02
    lead_time_sd_days: float | None = None
    ack_hours: float = 48.0
    price_variance: float = 0.02

    def __post_init__(self) -> None:
        for name in ("otif", "on_time", "defect_rate"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value <= 1):
                raise InvalidInput(
                    f"The {name.replace('_', ' ')} standard {value!r} is a share from 0 to 1 "
                    "(0.85 is 85%).",
                    name,
                )
        spread = self.lead_time_sd_days
        if spread is not None and not (math.isfinite(spread) and 0 <= spread <= 365):
            raise InvalidInput(
                f"The lead-time spread standard {spread!r} is a number of days from 0 to 365.",
                "lead_time_sd_days",
            )
        if not (math.isfinite(self.ack_hours) and 0 < self.ack_hours <= 24 * 365):
            raise InvalidInput(
                "The acknowledgement standard is a positive number of hours (48 is two days).",
                "ack_hours",
            )
        if not (math.isfinite(self.price_variance) and 0 <= self.price_variance <= 1):
            raise InvalidInput(
                f"The price variance standard {self.price_variance!r} is a share from 0 to 1 "
                "(0.02: invoices up to 2% over the ordered price).",
                "price_variance",
            )


def shortfalls(record: SupplierRecord, standard: SupplierStandard) -> list[str]:
    """Why a supplier is below the standard on its deliveries (empty: it is not, or it has
    too few deliveries to judge). The one judgement of a supplier's deliveries: the sourcing
    rule passes over a supplier with any, and its scorecard shows them."""
    if record.deliveries < MIN_RECEIPTS_TO_JUDGE:
        return []
    n = record.deliveries
    found: list[str] = []
    if _known(record.on_time_in_full) and record.on_time_in_full < standard.otif:
        found.append(
            f"on time in full {record.on_time_in_full:.0%} of {n} deliveries, "
            f"below the standard {standard.otif:.0%}"
        )
    if _known(record.on_time) and record.on_time < standard.on_time:
        found.append(
            f"on time {record.on_time:.0%} of {n} deliveries, below the standard "
            f"{standard.on_time:.0%}"
        )
    if _known(record.defect_rate) and record.defect_rate > standard.defect_rate:
        found.append(
            f"defect rate {record.defect_rate:.1%}, above the standard {standard.defect_rate:.1%}"
        )
    spread = standard.lead_time_sd_days
    if (
        spread is not None
        and _known(record.lead_time_sd_days)
        and record.lead_time_sd_days > spread
    ):
        found.append(
            f"lead time spread {record.lead_time_sd_days:.1f} days, above the standard {spread:.1f}"
        )
    return found


def _known(value: float) -> bool:
    return not math.isnan(value)


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
    standard: SupplierStandard = SupplierStandard(),
    demand_per_day: float = 0.0,
) -> Sourcing | None:
    """The supplier to buy from, and why; None when no active supplier sells the item.

    Offers go by priority, then by landed price (`landed_price`). The first whose supplier is
    active and not below the company's `standard` (`shortfalls`: judged from
    MIN_RECEIPTS_TO_JUDGE deliveries on) wins; a supplier passed over is named in the reason,
    with why. When no active supplier meets the standard, the active one with the best
    on-time-in-full record is chosen anyway, and the reason says so. An inactive supplier is
    never chosen.
    """
    ranked = sorted(offers, key=lambda o: (o.priority, landed_price(o, demand_per_day)))
    passed: list[str] = []
    for offer in ranked:
        code = offer.supplier
        if not active.get(code, False):
            passed.append(f"{code} is marked unavailable")
            continue
        missed = shortfalls(records.get(code, NO_RECORD), standard)
        if missed:
            passed.append(f"{code} is below the standard: " + ", ".join(missed))
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
