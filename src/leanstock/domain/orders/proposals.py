"""What a supplier proposes instead of what we ordered, and the buyer's answer.

A supplier that cannot deliver a released order as asked proposes other quantities or dates
per line. The buyer accepts (the proposal becomes the supplier's acknowledgement, timed when
the supplier proposed, so its acknowledgement speed counts its answer, not ours) or rejects it
with a reason (the order stays as it was; the supplier may acknowledge it or propose again).
One proposal per order waits for an answer at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from leanstock.domain.errors import InvalidInput, InvalidTransition
from leanstock.domain.events import Aggregate, DomainEvent
from leanstock.domain.orders.purchasing import PurchaseOrder, PurchaseStatus

# A proposal answers an order sent to the supplier and not yet on its way.
PROPOSABLE = (PurchaseStatus.RELEASED, PurchaseStatus.ACKNOWLEDGED)


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class ProposedLine:
    """Per line of the order: the quantity and the delivery date the supplier proposes
    (None: as ordered)."""

    line_no: int
    quantity: Decimal | None = None
    delivery_date: date | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeProposed(DomainEvent):
    """The supplier proposed other quantities or dates; the subject is the purchase order."""

    name: ClassVar[str | None] = "purchase_order.change_proposed"
    action: ClassVar[str | None] = "propose"
    proposal: int
    lines: dict[str, dict[str, Any]]
    note: str | None


@dataclass(frozen=True, kw_only=True)
class ProposalDecided(DomainEvent):
    """The buyer accepted or rejected a proposal (or the supplier's own acknowledgement
    withdrew it)."""

    name: ClassVar[str | None] = "purchase_order.proposal_decided"
    action: ClassVar[str | None] = "decide_proposal"
    proposal: int
    status: str
    reason: str | None


@dataclass
class Proposal(Aggregate):
    order: str
    lines: list[ProposedLine]
    proposed_by: str
    proposed_at: datetime
    note: str | None = None
    status: ProposalStatus = ProposalStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    id: int | None = None
    _changes: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def number(self) -> str:
        """Its events belong to the order's history."""
        return self.order

    @classmethod
    def make(
        cls,
        order: PurchaseOrder,
        lines: Sequence[ProposedLine],
        by: str,
        at: datetime,
        note: str | None = None,
    ) -> Proposal:
        """A proposal against `order`, checked: the order is with the supplier and not on its
        way yet; each line is one of the order's, named once, and changes something."""
        if order.status not in PROPOSABLE:
            raise InvalidTransition(
                f"{order.number} is {order.status.value}; a proposal answers an order that is "
                "released or acknowledged and not yet shipped."
            )
        if not lines:
            raise InvalidInput("A proposal needs at least one line.", "lines")
        seen: set[int] = set()
        changes: dict[str, dict[str, Any]] = {}
        for proposed in lines:
            line = order.line(proposed.line_no)
            if proposed.line_no in seen:
                raise InvalidInput(
                    f"Line {proposed.line_no} is named twice: propose each line once.", "lines"
                )
            seen.add(proposed.line_no)
            if proposed.quantity is None and proposed.delivery_date is None:
                raise InvalidInput(
                    f"Line {proposed.line_no} proposes nothing: give a quantity, a delivery "
                    "date or both.",
                    "lines",
                )
            if proposed.quantity is not None and proposed.quantity < 0:
                raise InvalidInput("A proposed quantity must not be negative.", "quantity")
            ordered_on = order.ordered_at.date() if order.ordered_at is not None else None
            when = proposed.delivery_date
            if when is not None and ordered_on is not None and when < ordered_on:
                raise InvalidInput(
                    f"Line {proposed.line_no}'s delivery date {when} is before the order was "
                    f"placed ({ordered_on}).",
                    "delivery_date",
                )
            changes[str(proposed.line_no)] = {
                "quantity": [line.due, proposed.quantity],
                "date": [line.promised_date, proposed.delivery_date],
            }
        made = cls(order.number, list(lines), by, at, note)
        made._changes = changes
        return made

    def proposed(self) -> None:
        """Record the event once the proposal has its id."""
        self.record(ChangeProposed(proposal=self.id or 0, lines=self._changes, note=self.note))

    def _decide(self, status: ProposalStatus, by: str, at: datetime, reason: str | None) -> None:
        if self.status is not ProposalStatus.PENDING:
            raise InvalidTransition(
                f"Proposal {self.id} on {self.order} is {self.status.value} already; only a "
                "pending proposal is accepted or rejected."
            )
        self.status, self.decided_by, self.decided_at, self.reason = status, by, at, reason
        self.record(ProposalDecided(proposal=self.id or 0, status=status.value, reason=reason))

    def accept(self, by: str, at: datetime) -> dict[int, tuple[Decimal | None, date | None]]:
        """Accept: the changes to acknowledge, per line (quantity, date)."""
        self._decide(ProposalStatus.ACCEPTED, by, at, None)
        return {ln.line_no: (ln.quantity, ln.delivery_date) for ln in self.lines}

    def reject(self, by: str, at: datetime, reason: str) -> None:
        if not reason.strip():
            raise InvalidInput(
                "Say why the proposal is rejected: the supplier reads the reason.", "reason"
            )
        self._decide(ProposalStatus.REJECTED, by, at, reason.strip())

    def withdraw(self, by: str, at: datetime) -> None:
        """The supplier acknowledged the order instead: its acknowledgement replaces this."""
        self._decide(ProposalStatus.WITHDRAWN, by, at, "superseded by an acknowledgement")
