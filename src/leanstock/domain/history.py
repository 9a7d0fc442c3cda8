"""History that stays true: a move dated in the past must not make any past balance negative,
and no move may be dated in a closed period.

A backdated move changes every balance from its date to now, not only today's. So an outflow
dated `when` is checked at `when` and at every later move of the same item-location (and lot):
the running balance must stay at zero or more wherever the location may not go negative.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from leanstock.domain.errors import Conflict, InvalidInput
from leanstock.domain.events import DomainEvent

# A move recorded more than this after the moment it says it happened is flagged backdated.
BACKDATED_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Shortfall:
    """The first moment a balance would go below zero, and by how much."""

    at: datetime
    short: Decimal


def first_shortfall(
    balance_at: Decimal, later: Iterable[tuple[datetime, Decimal]], when: datetime
) -> Shortfall | None:
    """Where the running balance first goes below zero: `balance_at` is the balance right after
    the new move at `when`; `later` are the changes of the moves after it, in time order."""
    running = balance_at
    if running < 0:
        return Shortfall(when, -running)
    for at, delta in later:
        running += delta
        if running < 0:
            return Shortfall(at, -running)
    return None


class PastShortfall(Conflict):
    title = "Not enough stock at a past moment"

    def __init__(
        self,
        item: str,
        location: str,
        lot: str | None,
        when: datetime,
        found: Shortfall,
        reserved: bool = False,
    ) -> None:
        where = f"{location}, lot {lot}" if lot else location
        what = ", counting what was reserved by then" if reserved else ""
        super().__init__(
            f"A move of {item} out of {where} dated {when:%Y-%m-%d %H:%M} would leave it "
            f"{found.short} short on {found.at:%Y-%m-%d} ({found.at:%H:%M} UTC){what}: the "
            "stock was not there then. Date the move later, or record the missing receipt "
            "first.",
            "occurred_at",
        )
        self.at = found.at
        self.short = found.short


class PeriodClosed(Conflict):
    title = "The period is closed"

    def __init__(self, when: datetime, closed_through: date) -> None:
        super().__init__(
            f"The books are closed through {closed_through}; a move dated {when:%Y-%m-%d} "
            "cannot be posted. Date it after that day, or have an owner reopen the period.",
            "occurred_at",
        )


def closing_date(through: date, today: date) -> date:
    """A period may be closed through a day that has ended, never today or later."""
    if through >= today:
        raise InvalidInput(
            f"A period can be closed only through a past day; {through} is not before "
            f"today ({today}).",
            "through",
        )
    return through


@dataclass(frozen=True, kw_only=True)
class PeriodCloseMoved(DomainEvent):
    """The closed-period date moved (forward: a month closed; back: reopened by an owner)."""

    action: ClassVar[str | None] = "close_period"
    through: str
    previous: str | None
