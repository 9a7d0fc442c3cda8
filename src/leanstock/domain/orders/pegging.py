"""Pegs tie pulled supply to the demand that pulled it; promise dates follow from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum


class SupplyKind(StrEnum):
    PURCHASE = "purchase"
    PRODUCTION = "production"
    TRANSFER = "transfer"


class DemandKind(StrEnum):
    SALES_LINE = "sales_line"
    COMPONENT = "component"


class PegStatus(StrEnum):
    OPEN = "open"
    RECEIVED = "received"
    CANCELLED = "cancelled"


ZERO = Decimal(0)


@dataclass(frozen=True)
class Peg:
    """`quantity` of a supply (a purchase line, a production or transfer order) promised to a
    demand (a sales line, a production order's component); `received` of it has arrived and
    been reserved for the demand. `reference` names the demand (SO-000001/1)."""

    id: int
    demand_kind: DemandKind
    demand_id: int
    supply_kind: SupplyKind
    supply_id: int
    reference: str
    quantity: Decimal
    received: Decimal = ZERO
    status: PegStatus = PegStatus.OPEN

    @property
    def open(self) -> Decimal:
        """What is still to come for the demand: nothing once received in full or ended."""
        return self.quantity - self.received if self.status is PegStatus.OPEN else ZERO

    @property
    def open_quantity(self) -> Decimal:
        """`open`, by the name `domain.ledger.draw` takes quantities by."""
        return self.open

    def receive(self, quantity: Decimal) -> Peg:
        """`quantity` of the supply arrived for this demand."""
        received = self.received + quantity
        status = PegStatus.RECEIVED if received >= self.quantity else PegStatus.OPEN
        return replace(self, received=received, status=status)

    def reduce(self, quantity: Decimal) -> Peg:
        """The demand needs `quantity` less of this supply (its demand shrank, or the supply
        was confirmed short): open while more is to come, else done with what arrived."""
        left = self.quantity - quantity
        if left > self.received:
            status = PegStatus.OPEN
        else:
            status = PegStatus.RECEIVED if self.received > 0 else PegStatus.CANCELLED
        return replace(self, quantity=left, status=status)

    def end(self) -> Peg:
        """The supply will bring no more (closed short, cancelled): the peg keeps what came."""
        return replace(self, quantity=self.received, status=PegStatus.CANCELLED)


@dataclass(frozen=True)
class Supply:
    """Open supply pegged to a demand: how much is still to come, and when."""

    quantity: Decimal
    expected: date | None


def promise_date(
    today: date,
    open_quantity: Decimal,
    reserved: Decimal,
    supplies: Sequence[Supply],
    lead_time_days: int | None,
    requested: date | None = None,
) -> date | None:
    """When all of a line's open quantity can ship: the latest of the dates its parts are ready.

    Reserved stock is ready today; pegged supply on its expected date; any rest not covered by
    either waits a full replenishment lead time from today (unknown, None, without one). Never
    before the requested date. Nothing open: nothing to promise.
    """
    if open_quantity <= 0:
        return None
    dates: list[date] = []
    covered = reserved
    if reserved > 0:
        dates.append(today)
    for supply in supplies:
        if supply.quantity <= 0:
            continue
        covered += supply.quantity
        if supply.expected is None:
            return None
        dates.append(max(supply.expected, today))
    if covered < open_quantity:
        if lead_time_days is None:
            return None
        dates.append(today + timedelta(days=lead_time_days))
    promised = max(dates) if dates else today
    return max(promised, requested) if requested else promised


def missed_request(
    requested: date | None, promised: date | None, open_quantity: Decimal
) -> str | None:
    """Why a line's promise misses the customer's requested date; None when it is met (or
    nothing was requested, or nothing is open)."""
    if requested is None or open_quantity <= 0:
        return None
    if promised is None:
        return (
            f"requested for {requested}, but no date can be promised: part of it waits for "
            "supply with no known lead time"
        )
    if promised <= requested:
        return None
    late = (promised - requested).days
    return (
        f"requested for {requested}, but it can ship on {promised} at the earliest "
        f"({late} day{'s' if late != 1 else ''} late): stock and supply are not there sooner"
    )
