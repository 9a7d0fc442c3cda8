"""Proposals, ship notices and supplier invoices: what comes from a supplier about an order.

Every read is narrowed by the principal's binding: a supplier user reads only its own
supplier's orders' rows, so another's answers exactly as a missing one.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import supplier_tables as s
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.accounts import aware
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.domain.errors import NotFound
from leanstock.domain.orders import number
from leanstock.domain.orders.proposals import Proposal, ProposalStatus, ProposedLine
from leanstock.domain.orders.ship_notices import NoticeLine, NoticeStatus, ShipNotice


class SupplierChannelRepository(Repository):
    def _own(self, query: Select[Any]) -> Select[Any]:
        """`query` over purchase orders (joined to their supplier) narrowed to the orders the
        principal may read: its supplier's, if bound; with a line at a location it may see,
        if limited to some."""
        if self.visibility.supplier is not None:
            query = query.where(t.suppliers.c.code == self.visibility.supplier)
        if (visible := self._visible_locations()) is not None:
            query = query.where(
                select(o.purchase_lines.c.id)
                .where(
                    o.purchase_lines.c.order_id == o.purchase_orders.c.id,
                    o.purchase_lines.c.location_id.in_(visible),
                )
                .exists()
            )
        return query

    # Proposals

    def add_proposal(self, order_id: int, proposal: Proposal) -> int:
        proposal.id = self._add(
            s.purchase_proposals,
            order_id=order_id,
            status=proposal.status.value,
            note=proposal.note,
            proposed_by=proposal.proposed_by,
            proposed_at=proposal.proposed_at,
        )
        self._add_many(
            s.purchase_proposal_lines,
            [
                {
                    "proposal_id": proposal.id,
                    "line_no": ln.line_no,
                    "quantity": ln.quantity,
                    "delivery_date": ln.delivery_date,
                }
                for ln in proposal.lines
            ],
        )
        self._track(proposal)
        return proposal.id

    def _proposal_query(self) -> Select[Any]:
        return self._own(
            select(s.purchase_proposals, t.suppliers.c.code.label("supplier"))
            .join(o.purchase_orders, o.purchase_orders.c.id == s.purchase_proposals.c.order_id)
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
        )

    def _proposals(self, heads: list[dict[str, Any]]) -> list[Proposal]:
        ids = [h["id"] for h in heads]
        lines: dict[int, list[ProposedLine]] = {}
        for r in self.db.execute(
            select(s.purchase_proposal_lines)
            .where(s.purchase_proposal_lines.c.proposal_id.in_(ids))
            .order_by(s.purchase_proposal_lines.c.line_no)
        ).mappings():
            lines.setdefault(r["proposal_id"], []).append(
                ProposedLine(r["line_no"], r["quantity"], r["delivery_date"])
            )
        found = []
        for h in heads:
            proposal = Proposal(
                number("purchase", h["order_id"]),
                lines.get(h["id"], []),
                h["proposed_by"],
                aware(h["proposed_at"]),
                h["note"],
                ProposalStatus(h["status"]),
                h["decided_by"],
                h["decided_at"] and aware(h["decided_at"]),
                h["reason"],
                h["id"],
            )
            self._track(proposal)
            found.append(proposal)
        return found

    def proposal(self, order_id: int, proposal_id: int, lock: bool = False) -> Proposal:
        query = self._proposal_query().where(
            s.purchase_proposals.c.id == proposal_id,
            s.purchase_proposals.c.order_id == order_id,
        )
        if lock:
            query = query.with_for_update(of=s.purchase_proposals)
        head = self.db.execute(query).mappings().first()
        if head is None:
            raise NotFound("proposal", str(proposal_id), "proposal")
        return self._proposals([dict(head)])[0]

    def pending_proposal(self, order_id: int) -> Proposal | None:
        head = (
            self.db.execute(
                self._proposal_query()
                .where(
                    s.purchase_proposals.c.order_id == order_id,
                    s.purchase_proposals.c.status == ProposalStatus.PENDING.value,
                )
                .with_for_update(of=s.purchase_proposals)
            )
            .mappings()
            .first()
        )
        return None if head is None else self._proposals([dict(head)])[0]

    def proposals_of(self, order_id: int) -> list[Proposal]:
        heads = self.db.execute(
            self._proposal_query()
            .where(s.purchase_proposals.c.order_id == order_id)
            .order_by(s.purchase_proposals.c.id)
        ).mappings()
        return self._proposals([dict(h) for h in heads])

    def proposals_page(
        self, status: str | None, limit: int, offset: int
    ) -> tuple[list[Proposal], list[str], int]:
        """Proposals across orders (newest first), with each one's supplier, and how many."""
        query = self._proposal_query()
        if status is not None:
            query = query.where(s.purchase_proposals.c.status == status)
        rows, total = self._page(query, s.purchase_proposals.c.id.desc(), limit, offset)
        return self._proposals(rows), [r["supplier"] for r in rows], total

    def save_proposal(self, proposal: Proposal) -> None:
        self.db.execute(
            s.purchase_proposals.update()
            .where(s.purchase_proposals.c.id == proposal.id)
            .values(
                status=proposal.status.value,
                decided_by=proposal.decided_by,
                decided_at=proposal.decided_at,
                reason=proposal.reason,
            )
        )

    # Ship notices

    def add_notice(self, order_id: int, notice: ShipNotice) -> int:
        notice.id = self._add(
            s.ship_notices,
            order_id=order_id,
            shipped_on=notice.shipped_on,
            expected_date=notice.expected_date,
            carrier=notice.carrier,
            tracking=notice.tracking,
            status=notice.status.value,
            created_by=notice.created_by,
            created_at=notice.created_at,
        )
        self._add_many(
            s.ship_notice_lines,
            [
                {
                    "notice_id": notice.id,
                    "line_no": ln.line_no,
                    "quantity": ln.quantity,
                    "lot": ln.lot,
                    "expires_on": ln.expires_on,
                }
                for ln in notice.lines
            ],
        )
        return notice.id

    def _notices(self, query: Select[Any]) -> list[ShipNotice]:
        heads = [dict(h) for h in self.db.execute(query).mappings()]
        lines: dict[int, list[NoticeLine]] = {}
        for r in self.db.execute(
            select(s.ship_notice_lines)
            .where(s.ship_notice_lines.c.notice_id.in_([h["id"] for h in heads]))
            .order_by(s.ship_notice_lines.c.id)
        ).mappings():
            lines.setdefault(r["notice_id"], []).append(
                NoticeLine(r["line_no"], r["quantity"], r["lot"], r["expires_on"])
            )
        return [
            ShipNotice(
                number("purchase", h["order_id"]),
                lines.get(h["id"], []),
                h["created_by"],
                aware(h["created_at"]),
                h["shipped_on"],
                h["expected_date"],
                h["carrier"],
                h["tracking"],
                NoticeStatus(h["status"]),
                h["received_at"] and aware(h["received_at"]),
                h["id"],
            )
            for h in heads
        ]

    def _notice_query(self) -> Select[Any]:
        return self._own(
            select(s.ship_notices)
            .join(o.purchase_orders, o.purchase_orders.c.id == s.ship_notices.c.order_id)
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
        )

    def notice(self, order_id: int, notice_id: int, lock: bool = False) -> ShipNotice:
        query = self._notice_query().where(
            s.ship_notices.c.id == notice_id, s.ship_notices.c.order_id == order_id
        )
        if lock:
            query = query.with_for_update(of=s.ship_notices)
        found = self._notices(query)
        if not found:
            raise NotFound("ship notice", str(notice_id), "ship_notice")
        return found[0]

    def notices_of(self, order_id: int) -> list[ShipNotice]:
        return self._notices(
            self._notice_query()
            .where(s.ship_notices.c.order_id == order_id)
            .order_by(s.ship_notices.c.id)
        )

    def save_notice(self, notice: ShipNotice) -> None:
        self.db.execute(
            s.ship_notices.update()
            .where(s.ship_notices.c.id == notice.id)
            .values(status=notice.status.value, received_at=notice.received_at)
        )

    # Deliveries (receipts) as the buyer's view shows them

    def deliveries_of(self, order_id: int) -> list[dict[str, Any]]:
        rows = self.db.execute(
            select(
                o.purchase_lines.c.line_no.label("line"),
                o.receipts.c.received_on,
                o.receipts.c.quantity,
                o.receipts.c.rejected,
                o.receipts.c.ship_notice_id.label("ship_notice"),
                o.receipts.c.carrier,
                o.receipts.c.tracking,
            )
            .join(o.purchase_lines, o.purchase_lines.c.id == o.receipts.c.purchase_line_id)
            .where(o.purchase_lines.c.order_id == order_id)
            .order_by(o.receipts.c.id)
        ).mappings()
        return [dict(r) for r in rows]

    def mark_receipt(
        self, receipt_id: int, notice_id: int | None, carrier: str | None, tracking: str | None
    ) -> None:
        self.db.execute(
            o.receipts.update()
            .where(o.receipts.c.id == receipt_id)
            .values(ship_notice_id=notice_id, carrier=carrier, tracking=tracking)
        )

    # Supplier invoices

    def add_invoice_line(
        self,
        purchase_line_id: int,
        invoice_number: str,
        invoiced_on: date,
        quantity: Decimal,
        price: Decimal,
        ordered_price: Decimal,
        source: str,
        created_by: str,
    ) -> int:
        return self._add(
            s.supplier_invoices,
            purchase_line_id=purchase_line_id,
            invoice_number=invoice_number,
            invoiced_on=invoiced_on,
            quantity=quantity,
            price=price,
            ordered_price=ordered_price,
            source=source,
            created_by=created_by,
            created_at=utc_now(),
        )

    def invoice_exists(self, order_id: int, invoice_number: str) -> bool:
        return (
            self.db.execute(
                select(s.supplier_invoices.c.id)
                .join(
                    o.purchase_lines,
                    o.purchase_lines.c.id == s.supplier_invoices.c.purchase_line_id,
                )
                .where(
                    o.purchase_lines.c.order_id == order_id,
                    s.supplier_invoices.c.invoice_number == invoice_number,
                )
                .limit(1)
            ).first()
            is not None
        )

    def invoices_of(self, order_id: int) -> list[dict[str, Any]]:
        rows = self.db.execute(
            select(
                s.supplier_invoices.c.invoice_number,
                s.supplier_invoices.c.invoiced_on,
                o.purchase_lines.c.line_no.label("line"),
                s.supplier_invoices.c.quantity,
                s.supplier_invoices.c.price,
                s.supplier_invoices.c.ordered_price,
                s.supplier_invoices.c.source,
            )
            .join(o.purchase_lines, o.purchase_lines.c.id == s.supplier_invoices.c.purchase_line_id)
            .where(o.purchase_lines.c.order_id == order_id)
            .order_by(s.supplier_invoices.c.id)
        ).mappings()
        return [dict(r) for r in rows]

    def invoice_rows(
        self, supplier: str | None = None, since: date | None = None, until: date | None = None
    ) -> list[dict[str, Any]]:
        """Every invoiced line (one supplier's, invoiced within the window, if given), with
        its price against the ordered one: the scorecard's price variance."""
        query = (
            select(
                t.suppliers.c.code.label("supplier"),
                t.items.c.sku.label("item"),
                s.supplier_invoices.c.invoiced_on,
                s.supplier_invoices.c.quantity,
                s.supplier_invoices.c.price,
                s.supplier_invoices.c.ordered_price,
            )
            .join(o.purchase_lines, o.purchase_lines.c.id == s.supplier_invoices.c.purchase_line_id)
            .join(o.purchase_orders, o.purchase_orders.c.id == o.purchase_lines.c.order_id)
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
            .join(t.items, t.items.c.id == o.purchase_lines.c.item_id)
            .order_by(s.supplier_invoices.c.id)
        )
        if supplier is not None:
            query = query.where(t.suppliers.c.code == supplier)
        if since is not None:
            query = query.where(s.supplier_invoices.c.invoiced_on >= since)
        if until is not None:
            query = query.where(s.supplier_invoices.c.invoiced_on <= until)
        return [dict(r) for r in self.db.execute(query).mappings()]
