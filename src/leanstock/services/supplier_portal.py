"""The supplier's side of a purchase order, and the buyer's answer to it.

A supplier user (bound to one supplier) acknowledges an order or proposes other quantities or
dates, which the buyer accepts or rejects; it posts ship notices with carrier, tracking and
each line's lot and expiry; it confirms the drop-ship deliveries it took to our customers.
Our warehouse receives against a ship notice. Each change is recorded on the order's history
(the audit trail), and the buyer's view of the order shows it (`channel`).

Every use case reads the order through the unit of work, which sees only the principal's
supplier's orders: another supplier's order is not found, and nothing of it is told.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from leanstock.domain.errors import Forbidden, InvalidInput, NotFound
from leanstock.domain.orders import PurchaseOrder
from leanstock.domain.orders import number as order_number
from leanstock.domain.orders.proposals import Proposal, ProposalStatus, ProposedLine
from leanstock.domain.orders.ship_notices import NoticeLine, ShipNotice, check_lines
from leanstock.domain.quantities import non_negative
from leanstock.services import purchasing
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import LineRef, UnitOfWork
from leanstock.services.posting import known_item
from leanstock.services.retry import retrying


@dataclass(frozen=True)
class ProposalView:
    id: int
    order: str
    supplier: str
    status: str
    lines: list[dict[str, Any]]
    note: str | None
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


@dataclass(frozen=True)
class NoticeView:
    id: int
    order: str
    status: str
    shipped_on: date | None
    expected_date: date | None
    carrier: str | None
    tracking: str | None
    lines: list[dict[str, Any]]
    created_by: str
    created_at: datetime
    received_at: datetime | None


@dataclass(frozen=True)
class Channel:
    """What came from the supplier about one order: the buyer's (and the supplier's) view."""

    proposals: list[ProposalView] = field(default_factory=list)
    ship_notices: list[NoticeView] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DropShipDelivery:
    line_no: int
    quantity: Decimal


def _proposal_view(p: Proposal, supplier: str) -> ProposalView:
    return ProposalView(
        p.id or 0,
        p.order,
        supplier,
        p.status.value,
        [
            {"line": ln.line_no, "quantity": ln.quantity, "delivery_date": ln.delivery_date}
            for ln in p.lines
        ],
        p.note,
        p.proposed_by,
        p.proposed_at,
        p.decided_by,
        p.decided_at,
        p.reason,
    )


def _notice_view(n: ShipNotice) -> NoticeView:
    return NoticeView(
        n.id or 0,
        n.order,
        n.status.value,
        n.shipped_on,
        n.expected_date,
        n.carrier,
        n.tracking,
        [
            {
                "line": ln.line_no,
                "quantity": ln.quantity,
                "lot": ln.lot,
                "expires_on": ln.expires_on,
            }
            for ln in n.lines
        ],
        n.created_by,
        n.created_at,
        n.received_at,
    )


def _order(uow: UnitOfWork, number: str) -> tuple[PurchaseOrder, dict[int, LineRef]]:
    """The order, locked, if the principal may see it; not found (as a missing one) if not."""
    order, refs = uow.purchasing.get(purchasing.purchase_id(number), lock=True)
    sees = uow.visibility
    if not (
        sees.sees_supplier(order.supplier) and sees.sees_any(ln.location for ln in order.lines)
    ):
        raise NotFound("purchase order", order.number, "order")
    return order, refs


def channel(uow: UnitOfWork, number: str) -> Channel:
    """The proposals, ship notices, deliveries and invoices of an order the principal sees."""
    view = purchasing.get_purchase_order(uow, number)  # NotFound for another's
    order_id = purchasing.purchase_id(view.number)
    with uow:
        ch = uow.supplier_channel
        return Channel(
            [_proposal_view(p, view.supplier) for p in ch.proposals_of(order_id)],
            [_notice_view(n) for n in ch.notices_of(order_id)],
            ch.deliveries_of(order_id),
            ch.invoices_of(order_id),
        )


# Acknowledgements and proposals


@retrying
def acknowledge(
    uow: UnitOfWork,
    number: str,
    lines: Mapping[int, tuple[Decimal | None, date | None]],
    *,
    actor: str = "system",
    at: datetime | None = None,
) -> purchasing.PurchaseOrderView:
    """The supplier confirms the order (per line: quantity and date, None as ordered); a
    proposal of its own still waiting for the buyer is withdrawn: this answer replaces it."""
    when = at or datetime.now(UTC)
    with uow.acting(actor):
        order, _ = _order(uow, number)
        pending = uow.supplier_channel.pending_proposal(order.id or 0)
        if pending is not None:
            pending.withdraw(actor, when)
            uow.supplier_channel.save_proposal(pending)
        purchasing.acknowledge_order(uow, order, lines, when)
        uow.commit()
    return purchasing.get_purchase_order(uow, number)


@retrying
def propose(
    uow: UnitOfWork,
    number: str,
    lines: Sequence[ProposedLine],
    note: str | None = None,
    *,
    actor: str = "system",
    at: datetime | None = None,
) -> ProposalView:
    """The supplier proposes other quantities or dates for a released order; the buyer
    answers (`accept`, `reject`). One proposal waits at a time."""
    when = at or datetime.now(UTC)
    with uow.acting(actor):
        order, _ = _order(uow, number)
        if uow.supplier_channel.pending_proposal(order.id or 0) is not None:
            raise InvalidInput(
                f"{order.number} has a proposal waiting for the buyer's answer: wait for it, "
                "or acknowledge the order instead.",
                "lines",
            )
        proposal = Proposal.make(order, lines, actor, when, (note or "").strip() or None)
        uow.supplier_channel.add_proposal(order.id or 0, proposal)
        proposal.proposed()
        uow.commit()
        return _proposal_view(proposal, order.supplier)


@retrying
def accept(
    uow: UnitOfWork, number: str, proposal_id: int, *, actor: str = "system"
) -> ProposalView:
    """The buyer accepts a proposal: it becomes the supplier's acknowledgement, timed when the
    supplier proposed; the sales lines pegged to the order follow its dates and quantities."""
    with uow.acting(actor):
        order, _ = _order(uow, number)
        proposal = uow.supplier_channel.proposal(order.id or 0, proposal_id, lock=True)
        changes = proposal.accept(actor, datetime.now(UTC))
        purchasing.acknowledge_order(uow, order, changes, proposal.proposed_at)
        uow.supplier_channel.save_proposal(proposal)
        uow.commit()
        return _proposal_view(proposal, order.supplier)


@retrying
def reject(
    uow: UnitOfWork, number: str, proposal_id: int, reason: str, *, actor: str = "system"
) -> ProposalView:
    """The buyer rejects a proposal, saying why: the order stays as it was."""
    with uow.acting(actor):
        order, _ = _order(uow, number)
        proposal = uow.supplier_channel.proposal(order.id or 0, proposal_id, lock=True)
        proposal.reject(actor, datetime.now(UTC), reason)
        uow.supplier_channel.save_proposal(proposal)
        uow.commit()
        return _proposal_view(proposal, order.supplier)


def list_proposals(
    uow: UnitOfWork, status: str | None = None, limit: int = 50, offset: int = 0
) -> Page[ProposalView]:
    """Proposals across orders, newest first (a supplier user: its own only)."""
    limit, offset = page_bounds(limit, offset)
    if status is not None and status not in {s.value for s in ProposalStatus}:
        raise InvalidInput(
            f"Unknown status {status!r}: use one of {', '.join(s.value for s in ProposalStatus)}.",
            "status",
        )
    with uow:
        found, suppliers, total = uow.supplier_channel.proposals_page(status, limit, offset)
    return Page(
        [_proposal_view(p, s) for p, s in zip(found, suppliers, strict=True)], total, limit, offset
    )


# Ship notices


@retrying
def post_ship_notice(
    uow: UnitOfWork,
    number: str,
    lines: Sequence[NoticeLine] = (),
    *,
    expected_date: date | None = None,
    shipped_on: date | None = None,
    carrier: str | None = None,
    tracking: str | None = None,
    actor: str = "system",
) -> purchasing.PurchaseOrderView:
    """An advance ship notice: per line the quantity on its way, with its lot and expiry
    where the item is lot-tracked (checked now, not at the dock); the carrier and tracking;
    when it shipped and should arrive. Without lines: everything still owed, no lots."""
    check_lines(lines)
    with uow.acting(actor):
        order, _ = _order(uow, number)
        for line in lines:
            item = known_item(uow, order.line(line.line_no).sku, None, line.lot)
            if item.value.lot_tracked and line.lot is None:
                raise InvalidInput(
                    f"{item.value.sku} is tracked by lot: give line {line.line_no}'s lot (and "
                    "its expiry date, if it has one).",
                    "lines",
                )
        notice = ShipNotice(
            order.number,
            list(lines)
            or [
                NoticeLine(ln.line_no, ln.due - ln.shipped_quantity)
                for ln in order.lines
                if ln.due > ln.shipped_quantity
            ],
            actor,
            datetime.now(UTC),
            shipped_on,
            expected_date,
            _text(carrier),
            _text(tracking),
        )
        uow.supplier_channel.add_notice(order.id or 0, notice)
        order.ship(notice.quantities(), expected_date, notice.facts())
        uow.purchasing.save(order)
        uow.commit()
    return purchasing.get_purchase_order(uow, number)


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


@retrying
def receive_ship_notice(
    uow: UnitOfWork,
    number: str,
    notice_id: int,
    rejected: Sequence[tuple[int, Decimal]] = (),
    *,
    received_on: date | None = None,
    actor: str = "system",
) -> purchasing.PurchaseOrderView:
    """Receive what a ship notice announced, with its lots and expiry dates: each notice line
    arrives in full, less what is rejected for quality (`rejected`, per notice row, counted
    from 1, to quarantine). The notice is received once."""
    day, moment = purchasing.receipt_day(received_on)
    rejects = {n: non_negative(q, "rejected") for n, q in rejected}
    if len(rejects) != len(rejected):
        raise InvalidInput("Name each ship notice row once in what is rejected.", "rejected")
    with uow.acting(actor):
        order, refs = _order(uow, number)
        notice = uow.supplier_channel.notice(order.id or 0, notice_id, lock=True)
        unknown = sorted(set(rejects) - set(range(1, len(notice.lines) + 1)))
        if unknown:
            raise InvalidInput(
                f"Ship notice {notice_id} has rows 1 to {len(notice.lines)}; there is no row "
                f"{unknown[0]} to reject goods of.",
                "rejected",
            )
        receipt_lines = []
        for row, line in enumerate(notice.lines, 1):
            refused = rejects.get(row, Decimal(0))
            if refused > line.quantity:
                raise InvalidInput(
                    f"Row {row} of ship notice {notice_id} brought {line.quantity}; "
                    f"{refused} cannot be rejected of it.",
                    "rejected",
                )
            receipt_lines.append(
                purchasing.ReceiptLine(
                    line.line_no,
                    line.quantity - refused,
                    refused,
                    lot=line.lot,
                    expires_on=line.expires_on,
                )
            )
        notice.receive(datetime.now(UTC))
        made = purchasing.receive_order(uow, order, refs, receipt_lines, day, moment)
        for receipt_id in made:
            uow.supplier_channel.mark_receipt(
                receipt_id, notice.id, notice.carrier, notice.tracking
            )
        uow.supplier_channel.save_notice(notice)
        uow.commit()
    return purchasing.get_purchase_order(uow, number)


# Drop-ship deliveries


@retrying
def confirm_drop_ship(
    uow: UnitOfWork,
    number: str,
    lines: Sequence[DropShipDelivery],
    *,
    carrier: str,
    tracking: str,
    delivered_on: date | None = None,
    actor: str = "system",
) -> purchasing.PurchaseOrderView:
    """The supplier took a drop-ship order's goods to our customer: record the delivery with
    the carrier and tracking number (the pegged sales lines ship with it)."""
    carrier_text, tracking_text = _text(carrier), _text(tracking)
    if carrier_text is None:
        raise InvalidInput("Name the carrier that delivered to the customer.", "carrier")
    if tracking_text is None:
        raise InvalidInput(
            "Give the tracking number the customer can follow the delivery by.", "tracking"
        )
    if not lines:
        raise InvalidInput("A delivery needs at least one line.", "lines")
    day, moment = purchasing.receipt_day(delivered_on)
    with uow.acting(actor):
        order, refs = _order(uow, number)
        if order.drop_ship_customer is None:
            raise Forbidden(
                f"{order.number} is not a drop-ship order: its goods come to our warehouse, "
                "which receives them (send a ship notice instead)."
            )
        made = purchasing.receive_order(
            uow,
            order,
            refs,
            [purchasing.ReceiptLine(ln.line_no, ln.quantity) for ln in lines],
            day,
            moment,
        )
        for receipt_id in made:
            uow.supplier_channel.mark_receipt(receipt_id, None, carrier_text, tracking_text)
        uow.commit()
    return purchasing.get_purchase_order(uow, number)


def order_number_of(order_id: int) -> str:
    return order_number("purchase", order_id)
