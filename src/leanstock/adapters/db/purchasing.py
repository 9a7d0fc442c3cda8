"""Purchase orders, their lines and receipts, and who sells what on which record."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, or_, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.accounts import aware
from leanstock.adapters.db.base import utc_now
from leanstock.adapters.db.catalog import supplier_item_from_row
from leanstock.adapters.db.days import LeadDays
from leanstock.adapters.db.drafts import DraftRows, line_state
from leanstock.domain.errors import NotFound
from leanstock.domain.ledger import Place
from leanstock.domain.orders import (
    PurchaseLine,
    PurchaseOrder,
    PurchaseStatus,
    number,
)
from leanstock.domain.sourcing import SupplierRecord
from leanstock.services.ports import LineRef, SupplierOffers

ZERO = Decimal(0)


def _delivery_records(*where: Any) -> Select[Any]:
    """Per supplier: deliveries on time in full (`hits`) by the date first confirmed (else the
    date asked for), deliveries that were late or short (`misses`), and all deliveries. A
    delivery without any date that came in full is neither a hit nor a miss: there is
    nothing to judge its timing by."""
    accepted = o.receipts.c.quantity
    ordered = o.purchase_lines.c.quantity
    arrived = o.receipts.c.received_on
    # Judged by the date first confirmed (else the one we asked for), never a later promise.
    promised = func.coalesce(
        o.purchase_lines.c.first_confirmed_date,
        o.purchase_lines.c.expected_date,
        o.receipts.c.promised_date,
    )
    hit = case((and_(accepted >= ordered, arrived <= promised), 1), else_=0)
    miss = case((or_(accepted < ordered, arrived > promised), 1), else_=0)
    lead = LeadDays(arrived, o.purchase_orders.c.ordered_at)
    return (
        select(
            o.purchase_orders.c.supplier_id,
            func.sum(hit).label("hits"),
            func.sum(miss).label("misses"),
            func.count().label("deliveries"),
            func.sum(case((arrived <= promised, 1), else_=0)).label("on_time"),
            func.count(promised).label("judged"),
            func.sum(accepted + o.receipts.c.rejected).label("received"),
            func.sum(o.receipts.c.rejected).label("rejected"),
            func.sum(lead).label("lead_sum"),
            func.sum(lead * lead).label("lead_squares"),
        )
        .select_from(o.receipts)
        .join(o.purchase_lines, o.purchase_lines.c.id == o.receipts.c.purchase_line_id)
        .join(o.purchase_orders, o.purchase_orders.c.id == o.purchase_lines.c.order_id)
        .where(*where)
        .group_by(o.purchase_orders.c.supplier_id)
    )


def _dicts(result: Any) -> list[dict[str, Any]]:
    """Rows as dicts (cheaper than a mapping per row when there are thousands)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


def _record(r: Any) -> SupplierRecord:
    """A supplier's record from its `_delivery_records` row (or an outer join's nulls).

    Lead-time spread is the sample standard deviation from the sums:
    s² = (Σx² − (Σx)²/n) / (n − 1).
    """
    judged = int(r.hits or 0) + int(r.misses or 0)
    rate = int(r.hits or 0) / judged if judged else math.nan
    n = int(r.deliveries or 0)
    on_time = int(r.on_time or 0) / int(r.judged) if r.judged else math.nan
    received = float(r.received or 0)
    defects = float(r.rejected or 0) / received if received > 0 else math.nan
    spread = math.nan
    if n > 1 and r.lead_sum is not None:
        total, squares = float(r.lead_sum), float(r.lead_squares)
        spread = math.sqrt(max(0.0, (squares - total * total / n) / (n - 1)))
    return SupplierRecord(rate, n, on_time, defects, spread)


_ITEM_SUPPLIERS = select(t.supplier_items.c.supplier_id).where(
    t.supplier_items.c.item_id.in_(bindparam("item_ids", expanding=True))
)
_ITEM_RECORDS = _delivery_records(
    o.purchase_orders.c.supplier_id.in_(_ITEM_SUPPLIERS.scalar_subquery())
).subquery()
_OFFERS = (
    select(
        t.supplier_items,
        t.suppliers.c.code.label("supplier"),
        t.suppliers.c.active.label("supplier_active"),
        t.items.c.sku,
        *(c for c in _ITEM_RECORDS.c if c.name != "supplier_id"),
    )
    .join(t.suppliers, t.suppliers.c.id == t.supplier_items.c.supplier_id)
    .join(t.items, t.items.c.id == t.supplier_items.c.item_id)
    .outerjoin(_ITEM_RECORDS, _ITEM_RECORDS.c.supplier_id == t.suppliers.c.id)
    .where(t.supplier_items.c.item_id.in_(bindparam("item_ids", expanding=True)))
    .order_by(t.supplier_items.c.priority, t.suppliers.c.code)
)


class _Row:
    """A mapping row read by attribute, as `_record` reads it."""

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return self._row[name]


class PurchasingRepository(DraftRows):
    def open_draft(self, supplier_id: int, supplier: str) -> PurchaseOrder:
        """The supplier's one open stock draft with its lines, locked (see `lock_draft`)."""
        return self.get(self.lock_draft(supplier_id))[0]

    def add(self, order: PurchaseOrder, supplier_id: int, sales_order_id: int | None = None) -> int:
        now = utc_now()
        order.id = self._add(
            o.purchase_orders,
            supplier_id=supplier_id,
            status=order.status.value,
            expected_date=order.expected_date,
            drop_ship_customer=order.drop_ship_customer,
            sales_order_id=sales_order_id,
            change_requested=order.change_requested,
            ordered_at=order.ordered_at or now,
            created_at=now,
            updated_at=now,
        )
        self._track(order)
        return order.id

    def get(self, order_id: int, lock: bool = False) -> tuple[PurchaseOrder, dict[int, LineRef]]:
        query = (
            select(
                o.purchase_orders,
                t.suppliers.c.code.label("supplier"),
                # A drop-ship goes to the sales order's customer record, if it has one.
                t.customers.c.code.label("customer_code"),
                func.coalesce(t.customers.c.shipping_address, t.customers.c.billing_address).label(
                    "ship_to"
                ),
            )
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
            .outerjoin(
                o.sales_orders,
                (o.sales_orders.c.id == o.purchase_orders.c.sales_order_id)
                & o.purchase_orders.c.drop_ship_customer.is_not(None),
            )
            .outerjoin(
                o.sales_order_customers,
                o.sales_order_customers.c.order_id == o.sales_orders.c.id,
            )
            .outerjoin(t.customers, t.customers.c.id == o.sales_order_customers.c.customer_id)
            .where(o.purchase_orders.c.id == order_id)
        )
        if lock:
            query = query.with_for_update(of=o.purchase_orders)
        head = self.db.execute(query).mappings().first()
        if head is None:
            raise NotFound("purchase order", number("purchase", order_id), "order")
        rows = self.db.execute(
            select(
                o.purchase_lines,
                t.items.c.sku,
                t.locations.c.code,
                t.locations.c.allow_negative,
            )
            .join(t.items, t.items.c.id == o.purchase_lines.c.item_id)
            .join(t.locations, t.locations.c.id == o.purchase_lines.c.location_id)
            .where(o.purchase_lines.c.order_id == order_id)
            .order_by(o.purchase_lines.c.line_no)
        ).mappings()
        lines: list[PurchaseLine] = []
        refs: dict[int, LineRef] = {}
        for r in rows:
            lines.append(
                PurchaseLine(
                    line_no=r["line_no"],
                    sku=r["sku"],
                    location=r["code"],
                    quantity=r["quantity"],
                    price=r["price"],
                    expected_date=r["expected_date"],
                    confirmed_quantity=r["confirmed_quantity"],
                    confirmed_date=r["confirmed_date"],
                    shipped_quantity=r["shipped_quantity"],
                    received=r["received"],
                    rejected=r["rejected"],
                    id=r["id"],
                    first_confirmed_quantity=r["first_confirmed_quantity"],
                    first_confirmed_date=r["first_confirmed_date"],
                    acknowledged_at=r["acknowledged_at"] and aware(r["acknowledged_at"]),
                )
            )
            refs[r["line_no"]] = LineRef(
                r["id"], r["item_id"], Place(r["location_id"], r["code"], r["allow_negative"])
            )
        order = PurchaseOrder(
            supplier=head["supplier"],
            lines=lines,
            status=PurchaseStatus(head["status"]),
            expected_date=head["expected_date"],
            drop_ship_customer=head["drop_ship_customer"],
            change_requested=head["change_requested"],
            ordered_at=head["ordered_at"],
            id=head["id"],
            drop_ship_customer_code=head["customer_code"],
            drop_ship_to=head["ship_to"],
        )
        self._track(order)
        return order, refs

    def order_of_line(self, line_id: int) -> int:
        return int(
            self.db.execute(
                select(o.purchase_lines.c.order_id).where(o.purchase_lines.c.id == line_id)
            ).scalar_one()
        )

    def save(self, order: PurchaseOrder) -> None:
        self.db.execute(
            o.purchase_orders.update()
            .where(o.purchase_orders.c.id == order.id)
            .values(
                status=order.status.value,
                expected_date=order.expected_date,
                change_requested=order.change_requested,
                # Release sets the order time: lead times count from when it was sent.
                ordered_at=order.ordered_at,
                updated_at=utc_now(),
            )
        )
        if not order.lines:
            return
        self.db.execute(
            o.purchase_lines.update()
            .where(o.purchase_lines.c.id == bindparam("line_id"))
            .values(
                quantity=bindparam("quantity"),
                expected_date=bindparam("expected_date"),
                confirmed_quantity=bindparam("confirmed_quantity"),
                confirmed_date=bindparam("confirmed_date"),
                first_confirmed_quantity=bindparam("first_confirmed_quantity"),
                first_confirmed_date=bindparam("first_confirmed_date"),
                acknowledged_at=bindparam("acknowledged_at"),
                shipped_quantity=bindparam("shipped_quantity"),
                received=bindparam("received"),
                rejected=bindparam("rejected"),
            ),
            [{"line_id": line.id, **line_state(line)} for line in order.lines],
        )

    def page(
        self,
        status: str | None = None,
        supplier: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        query: Select[Any] = select(
            o.purchase_orders.c.id,
            t.suppliers.c.code.label("supplier"),
            o.purchase_orders.c.status,
            o.purchase_orders.c.drop_ship_customer,
            o.purchase_orders.c.change_requested,
            o.purchase_orders.c.ordered_at,
        ).join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
        if status is not None:
            query = query.where(o.purchase_orders.c.status == status)
        if supplier is not None:
            query = query.where(t.suppliers.c.code == supplier)
        query = self._visible_orders(query)
        rows, total = self._page(query, o.purchase_orders.c.id.desc(), limit, offset)
        # The lines are summed for the orders on the page only, not the whole history.
        sums = {
            r.order_id: r
            for r in self.db.execute(
                select(
                    o.purchase_lines.c.order_id,
                    func.count().label("lines"),
                    func.sum(o.purchase_lines.c.quantity).label("quantity"),
                    func.sum(o.purchase_lines.c.received).label("received"),
                    func.min(
                        func.coalesce(
                            o.purchase_lines.c.confirmed_date, o.purchase_lines.c.expected_date
                        )
                    ).label("promised_date"),
                )
                .where(o.purchase_lines.c.order_id.in_([r["id"] for r in rows]))
                .group_by(o.purchase_lines.c.order_id)
            )
        }
        for row in rows:
            summed = sums.get(row["id"])
            row["lines"] = summed.lines if summed else 0
            for key in ("quantity", "received", "promised_date"):
                row[key] = getattr(summed, key) if summed else None
        return rows, total

    def _visible_orders(self, query: Select[Any]) -> Select[Any]:
        """`query` over purchase orders (joined to their supplier) narrowed to the orders the
        principal may read: its own supplier's; with a line at a location it may see."""
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

    def late(
        self, statuses: Sequence[str], before: date, limit: int = 20
    ) -> tuple[list[dict[str, Any]], int]:
        """Orders in one of `statuses` whose earliest promised line date (confirmed, else
        expected) is before `before`, most overdue first; with how many there are in all.
        Only the open orders' lines are summed, not the whole purchase history."""
        promised = func.min(
            func.coalesce(o.purchase_lines.c.confirmed_date, o.purchase_lines.c.expected_date)
        )
        open_ids = self._visible_orders(
            select(o.purchase_orders.c.id)
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
            .where(o.purchase_orders.c.status.in_(list(statuses)))
        )
        lines = (
            select(
                o.purchase_lines.c.order_id,
                func.count().label("lines"),
                func.sum(o.purchase_lines.c.quantity).label("quantity"),
                func.sum(o.purchase_lines.c.received).label("received"),
                promised.label("promised_date"),
            )
            .where(o.purchase_lines.c.order_id.in_(open_ids))
            .group_by(o.purchase_lines.c.order_id)
            .having(promised < before)
            .subquery()
        )
        query = (
            select(
                o.purchase_orders.c.id,
                t.suppliers.c.code.label("supplier"),
                o.purchase_orders.c.status,
                o.purchase_orders.c.drop_ship_customer,
                o.purchase_orders.c.change_requested,
                o.purchase_orders.c.ordered_at,
                lines.c.lines,
                lines.c.quantity,
                lines.c.received,
                lines.c.promised_date,
            )
            .join(lines, lines.c.order_id == o.purchase_orders.c.id)
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
        )
        total = self.db.execute(select(func.count()).select_from(lines)).scalar_one()
        rows = self.db.execute(
            query.order_by(lines.c.promised_date, o.purchase_orders.c.id).limit(limit)
        ).mappings()
        return [dict(r) for r in rows], int(total)

    def add_receipt(
        self,
        purchase_line_id: int,
        received_on: date,
        promised_date: date | None,
        quantity: Decimal,
        rejected: Decimal,
        rejected_to: str | None,
        operation_id: int | None,
    ) -> int:
        return self._add(
            o.receipts,
            purchase_line_id=purchase_line_id,
            received_on=received_on,
            promised_date=promised_date,
            quantity=quantity,
            rejected=rejected,
            rejected_to=rejected_to,
            operation_id=operation_id,
            created_at=utc_now(),
        )

    def receipt_rows(
        self, supplier: str | None = None, since: date | None = None
    ) -> list[dict[str, Any]]:
        """Every delivery (of one supplier's orders, received from `since` on, if given)."""
        query = (
            select(
                t.suppliers.c.code.label("supplier"),
                t.items.c.sku.label("item"),
                o.purchase_orders.c.ordered_at,
                o.receipts.c.promised_date,
                o.receipts.c.received_on.label("received_date"),
                o.purchase_lines.c.quantity.label("ordered_qty"),
                (o.receipts.c.quantity + o.receipts.c.rejected).label("received_qty"),
                o.receipts.c.rejected.label("rejected_qty"),
                o.purchase_lines.c.id.label("line_id"),
                o.purchase_lines.c.expected_date.label("requested_date"),
                o.purchase_lines.c.first_confirmed_date,
            )
            .select_from(o.receipts)
            .join(o.purchase_lines, o.purchase_lines.c.id == o.receipts.c.purchase_line_id)
            .join(o.purchase_orders, o.purchase_orders.c.id == o.purchase_lines.c.order_id)
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
            .join(t.items, t.items.c.id == o.purchase_lines.c.item_id)
            .order_by(o.receipts.c.received_on, o.receipts.c.id)
        )
        if supplier is not None:
            query = query.where(t.suppliers.c.code == supplier)
        if since is not None:
            query = query.where(o.receipts.c.received_on >= since)
        return _dicts(self.db.execute(query))

    def acknowledgement_rows(
        self, supplier: str | None = None, since: date | None = None
    ) -> list[dict[str, Any]]:
        """Every line of a released purchase order: when it was ordered and first acknowledged,
        what was ordered and what was first confirmed (supplier scorecards). Only one
        supplier's, and only orders placed from the day before `since` on, if given (a day
        early, whatever the time zone the moment is kept in: the caller filters by day)."""
        query = (
            select(
                t.suppliers.c.code.label("supplier"),
                t.items.c.sku.label("item"),
                o.purchase_orders.c.ordered_at,
                o.purchase_lines.c.acknowledged_at,
                o.purchase_lines.c.quantity.label("ordered_qty"),
                o.purchase_lines.c.first_confirmed_quantity.label("confirmed_qty"),
            )
            .select_from(o.purchase_lines)
            .join(o.purchase_orders, o.purchase_orders.c.id == o.purchase_lines.c.order_id)
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
            .join(t.items, t.items.c.id == o.purchase_lines.c.item_id)
            .where(o.purchase_orders.c.status.notin_(("draft", "cancelled")))
            .order_by(o.purchase_lines.c.id)
        )
        if supplier is not None:
            query = query.where(t.suppliers.c.code == supplier)
        if since is not None:
            early = datetime.combine(since - timedelta(days=1), time.min, UTC)
            query = query.where(o.purchase_orders.c.ordered_at >= early)
        return _dicts(self.db.execute(query))

    def offers(self, item_id: int) -> SupplierOffers:
        """Who sells an item, on what terms, and how each of them has delivered: what
        `domain.sourcing.choose_supplier` chooses from. One query."""
        return self.offers_of([item_id])[item_id]

    def offers_of(self, item_ids: Sequence[int]) -> dict[int, SupplierOffers]:
        """`offers` of many items, in one query."""
        found = {item_id: SupplierOffers([], {}, {}, {}) for item_id in item_ids}
        rows = self.db.execute(_OFFERS, {"item_ids": sorted(set(item_ids))}).mappings()
        for r in rows:
            offer = supplier_item_from_row(r)
            into = found[int(r["item_id"])]
            into.offers.append(offer)
            into.active[offer.supplier] = bool(r["supplier_active"])
            into.records[offer.supplier] = _record(_Row(r))
            into.supplier_ids[offer.supplier] = int(r["supplier_id"])
        return found

    def supplier_records(self) -> dict[str, SupplierRecord]:
        """Every supplier's delivery record (`SupplierRecord`), by supplier code."""
        records = _delivery_records().subquery()
        rows = self.db.execute(
            select(t.suppliers.c.code, records).join(
                records, records.c.supplier_id == t.suppliers.c.id
            )
        ).all()
        return {r.code: _record(r) for r in rows}
