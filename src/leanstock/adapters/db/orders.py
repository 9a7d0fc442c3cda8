"""Orders, bills of materials, pegs, receipts, outbox and audit trail in the database."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, case, func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.audit import stamp
from leanstock.adapters.db.catalog import Stored, item_from_row, supplier_item_from_row
from leanstock.adapters.db.ledger import Place
from leanstock.domain.catalog import PHYSICAL_KINDS, Item, LocationKind, SupplierItem
from leanstock.domain.errors import NotFound
from leanstock.domain.orders import (
    BomLine,
    Component,
    DemandKind,
    Fulfilment,
    Peg,
    PegStatus,
    ProductionOrder,
    ProductionStatus,
    PurchaseLine,
    PurchaseOrder,
    PurchaseStatus,
    SalesLine,
    SalesOrder,
    SalesStatus,
    SupplyKind,
    TransferOrder,
    TransferStatus,
    number,
)
from leanstock.domain.sourcing import SupplierRecord

ZERO = Decimal(0)


def _now() -> datetime:
    return datetime.now(UTC)


def _json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


@dataclass(frozen=True)
class LineRef:
    """The database ids behind an order line: its own, its item's and its location's."""

    id: int
    item_id: int
    place: Place


# Statements built once: building one costs about as much CPU as running it, and the busiest
# paths (placing an order, posting a receipt) run them for every request.
_INSERT_EVENT = o.outbox.insert()
_INSERT_AUDIT = o.audit_log.insert()
_PLACE = t.locations.alias("place")
_ITEMS_AND_PLACE = (
    select(
        t.items,
        _PLACE.c.id.label("place_id"),
        _PLACE.c.kind.label("place_kind"),
        _PLACE.c.allow_negative.label("place_negative"),
    )
    .outerjoin(_PLACE, _PLACE.c.code == bindparam("code"))
    .where(t.items.c.sku.in_(bindparam("skus", expanding=True)))
)
_INSERTS: dict[tuple[str, bool], Any] = {}
_PLACE_BY_CODE = select(t.locations.c.id, t.locations.c.kind, t.locations.c.allow_negative).where(
    t.locations.c.code == bindparam("code")
)
_EVENT_AND_AUDIT = text(
    "WITH event AS (INSERT INTO outbox (event, subject, payload, created_at) "
    "VALUES (:event, :subject, :payload, :created_at)) "
    "INSERT INTO audit_log "
    "(actor, action, subject, changes, created_at, credential, request_id, address) "
    "VALUES (:actor, :action, :subject, :changes, :created_at, :credential, :request_id, "
    ":address)"
)


def _delivery_records(*where: Any) -> Select[Any]:
    """Per supplier: deliveries on time in full (`hits`), deliveries that were late or short
    (`misses`), and all deliveries. A delivery without a promised date that came in full is
    neither a hit nor a miss: there is nothing to judge its timing by."""
    accepted = o.receipts.c.quantity
    ordered = o.purchase_lines.c.quantity
    arrived, promised = o.receipts.c.received_on, o.receipts.c.promised_date
    hit = case((and_(accepted >= ordered, arrived <= promised), 1), else_=0)
    miss = case((or_(accepted < ordered, arrived > promised), 1), else_=0)
    return (
        select(
            o.purchase_orders.c.supplier_id,
            func.sum(hit).label("hits"),
            func.sum(miss).label("misses"),
            func.count().label("deliveries"),
        )
        .select_from(o.receipts)
        .join(o.purchase_lines, o.purchase_lines.c.id == o.receipts.c.purchase_line_id)
        .join(o.purchase_orders, o.purchase_orders.c.id == o.purchase_lines.c.order_id)
        .where(*where)
        .group_by(o.purchase_orders.c.supplier_id)
    )


def _record(hits: Any, misses: Any, deliveries: Any) -> SupplierRecord:
    judged = int(hits or 0) + int(misses or 0)
    rate = int(hits or 0) / judged if judged else math.nan
    return SupplierRecord(rate, int(deliveries or 0))


_ITEM_SUPPLIERS = select(t.supplier_items.c.supplier_id).where(
    t.supplier_items.c.item_id == bindparam("item_id")
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
        _ITEM_RECORDS.c.hits,
        _ITEM_RECORDS.c.misses,
        _ITEM_RECORDS.c.deliveries,
    )
    .join(t.suppliers, t.suppliers.c.id == t.supplier_items.c.supplier_id)
    .join(t.items, t.items.c.id == t.supplier_items.c.item_id)
    .outerjoin(_ITEM_RECORDS, _ITEM_RECORDS.c.supplier_id == t.suppliers.c.id)
    .where(t.supplier_items.c.item_id == bindparam("item_id"))
    .order_by(t.supplier_items.c.priority, t.suppliers.c.code)
)


@dataclass
class SupplierOffers:
    """Who sells an item (`offers`), whether each supplier is active, its delivery record, and
    its database id, by supplier code."""

    offers: list[SupplierItem]
    active: dict[str, bool]
    records: dict[str, SupplierRecord]
    supplier_ids: dict[str, int]


def _returning(table: Any, many: bool = False) -> Any:
    """`INSERT ... RETURNING id` for `table`, built on first use."""
    key = (table.name, many)
    if key not in _INSERTS:
        _INSERTS[key] = table.insert().returning(table.c.id, sort_by_parameter_order=many)
    return _INSERTS[key]


class OrdersRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection
        self.dialect = connection.dialect.name

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def _add(self, table: Any, **values: Any) -> int:
        return int(self.db.execute(_returning(table), values).scalar_one())

    def _add_many(self, table: Any, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        return [int(i) for i in self.db.execute(_returning(table, many=True), rows).scalars()]

    # Outbox and audit trail

    def event(self, name: str, subject: str, payload: dict[str, Any]) -> None:
        """A domain event for webhooks, committed (or not) with the change that caused it."""
        self.db.execute(
            _INSERT_EVENT,
            {"event": name, "subject": subject, "payload": _json(payload), "created_at": _now()},
        )

    def audit(self, actor: str, action: str, subject: str, changes: dict[str, Any]) -> None:
        self.db.execute(
            _INSERT_AUDIT,
            {
                **stamp(),
                "actor": actor,
                "action": action,
                "subject": subject,
                "changes": _json(changes),
                "created_at": _now(),
            },
        )

    def event_and_audit(
        self,
        name: str,
        payload: dict[str, Any],
        actor: str,
        action: str,
        subject: str,
        changes: dict[str, Any],
    ) -> None:
        """`event` and `audit` at once: one round trip on PostgreSQL (a data-modifying CTE)."""
        if self.dialect != "postgresql":
            self.event(name, subject, payload)
            self.audit(actor, action, subject, changes)
            return
        self.db.execute(
            _EVENT_AND_AUDIT,
            {
                **stamp(),
                "event": name,
                "subject": subject,
                "payload": _json(payload),
                "actor": actor,
                "action": action,
                "changes": _json(changes),
                "created_at": _now(),
            },
        )

    def place(self, code: str, field: str) -> tuple[Place, bool]:
        """A location as the ledger needs it, and whether it is physical; `NotFound` if none."""
        row = self.db.execute(_PLACE_BY_CODE, {"code": code}).first()
        if row is None:
            raise NotFound("location", code, field)
        kind = LocationKind(row.kind)
        place = Place(int(row.id), code, bool(row.allow_negative) or kind not in PHYSICAL_KINDS)
        return place, kind in PHYSICAL_KINDS

    def items(
        self, skus: Sequence[str], location: str | None = None
    ) -> tuple[dict[str, Stored[Item]], tuple[Place, bool] | None]:
        """The items behind some SKUs (unknown ones left out) and, when asked, the location
        `place` would give (None when unknown or no SKU is known), all in one query."""
        params = {"skus": sorted(set(skus)), "code": location or ""}
        rows = self.db.execute(_ITEMS_AND_PLACE, params).mappings().all()
        found = {r["sku"]: Stored(r["id"], item_from_row(r)) for r in rows}
        place = None
        if rows and rows[0]["place_id"] is not None and location is not None:
            kind = LocationKind(rows[0]["place_kind"])
            physical = kind in PHYSICAL_KINDS
            negative = bool(rows[0]["place_negative"]) or not physical
            place = (Place(int(rows[0]["place_id"]), location, negative), physical)
        return found, place

    def events(self, subject: str | None = None) -> list[dict[str, Any]]:
        query = select(o.outbox).order_by(o.outbox.c.id)
        if subject is not None:
            query = query.where(o.outbox.c.subject == subject)
        return [
            {**r, "payload": json.loads(r["payload"])} for r in self.db.execute(query).mappings()
        ]

    def audit_trail(self, subject: str) -> list[dict[str, Any]]:
        query = (
            select(o.audit_log).where(o.audit_log.c.subject == subject).order_by(o.audit_log.c.id)
        )
        return [
            {**r, "changes": json.loads(r["changes"])} for r in self.db.execute(query).mappings()
        ]

    # Sales orders

    def add_sales_order(self, order: SalesOrder, refs: Sequence[tuple[int, Place]]) -> list[int]:
        """Insert the order and its lines; sets `order.id`, returns the line ids in order."""
        now = _now()
        order.id = self._add(
            o.sales_orders,
            customer=order.customer,
            status=order.status.value,
            ordered_at=order.ordered_at or now,
            created_at=now,
            updated_at=now,
        )
        ids = self._add_many(
            o.sales_lines,
            [
                {
                    "order_id": order.id,
                    "line_no": line.line_no,
                    "item_id": item_id,
                    "location_id": place.id,
                    "quantity": line.quantity,
                    "ordered_quantity": line.ordered_quantity,
                    "shipped": line.shipped,
                    "short_at_order": line.short_at_order,
                    "fulfilment": line.fulfilment.value,
                    "requested_date": line.requested_date,
                    "cancelled": line.cancelled,
                }
                for line, (item_id, place) in zip(order.lines, refs, strict=True)
            ],
        )
        for line, line_id in zip(order.lines, ids, strict=True):
            line.id = line_id
        return ids

    def sales_order(
        self, order_id: int, lock: bool = False
    ) -> tuple[SalesOrder, dict[int, LineRef]]:
        """The order with its lines, and each line's ids by line number. `lock`: FOR UPDATE."""
        query = select(o.sales_orders).where(o.sales_orders.c.id == order_id)
        if lock:
            query = query.with_for_update()
        head = self.db.execute(query).mappings().first()
        if head is None:
            raise NotFound("sales order", number("sales", order_id), "order")
        rows = self.db.execute(
            select(
                o.sales_lines,
                t.items.c.sku,
                t.locations.c.code,
                t.locations.c.allow_negative,
                t.locations.c.kind,
            )
            .join(t.items, t.items.c.id == o.sales_lines.c.item_id)
            .join(t.locations, t.locations.c.id == o.sales_lines.c.location_id)
            .where(o.sales_lines.c.order_id == order_id)
            .order_by(o.sales_lines.c.line_no)
        ).mappings()
        lines: list[SalesLine] = []
        refs: dict[int, LineRef] = {}
        for r in rows:
            lines.append(
                SalesLine(
                    line_no=r["line_no"],
                    sku=r["sku"],
                    location=r["code"],
                    quantity=r["quantity"],
                    requested_date=r["requested_date"],
                    ordered_quantity=r["ordered_quantity"],
                    shipped=r["shipped"],
                    short_at_order=r["short_at_order"],
                    fulfilment=Fulfilment(r["fulfilment"]),
                    cancelled=r["cancelled"],
                    id=r["id"],
                )
            )
            refs[r["line_no"]] = LineRef(
                r["id"], r["item_id"], Place(r["location_id"], r["code"], r["allow_negative"])
            )
        order = SalesOrder(
            customer=head["customer"],
            lines=lines,
            status=SalesStatus(head["status"]),
            ordered_at=head["ordered_at"],
            id=head["id"],
        )
        return order, refs

    def save_sales_order(self, order: SalesOrder) -> None:
        self.db.execute(
            o.sales_orders.update()
            .where(o.sales_orders.c.id == order.id)
            .values(status=order.status.value, updated_at=_now())
        )
        self.save_sales_lines(order.lines)

    def save_sales_lines(self, lines: Sequence[SalesLine]) -> None:
        if not lines:
            return
        self.db.execute(
            o.sales_lines.update()
            .where(o.sales_lines.c.id == bindparam("line_id"))
            .values(
                quantity=bindparam("quantity"),
                ordered_quantity=bindparam("ordered_quantity"),
                shipped=bindparam("shipped"),
                short_at_order=bindparam("short_at_order"),
                fulfilment=bindparam("fulfilment"),
                cancelled=bindparam("cancelled"),
            ),
            [
                {
                    "line_id": line.id,
                    "quantity": line.quantity,
                    "ordered_quantity": line.ordered_quantity,
                    "shipped": line.shipped,
                    "short_at_order": line.short_at_order,
                    "fulfilment": line.fulfilment.value,
                    "cancelled": line.cancelled,
                }
                for line in lines
            ],
        )

    def sales_line_order(self, line_id: int) -> int:
        return int(
            self.db.execute(
                select(o.sales_lines.c.order_id).where(o.sales_lines.c.id == line_id)
            ).scalar_one()
        )

    def sales_orders(
        self,
        status: str | None = None,
        customer: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        lines = (
            select(
                o.sales_lines.c.order_id,
                func.count().label("lines"),
                func.sum(o.sales_lines.c.quantity).label("quantity"),
                func.sum(o.sales_lines.c.shipped).label("shipped"),
            )
            .group_by(o.sales_lines.c.order_id)
            .subquery()
        )
        query = select(
            o.sales_orders.c.id,
            o.sales_orders.c.customer,
            o.sales_orders.c.status,
            o.sales_orders.c.ordered_at,
            func.coalesce(lines.c.lines, 0).label("lines"),
            lines.c.quantity,
            lines.c.shipped,
        ).outerjoin(lines, lines.c.order_id == o.sales_orders.c.id)
        if status is not None:
            query = query.where(o.sales_orders.c.status == status)
        if customer is not None:
            query = query.where(o.sales_orders.c.customer == customer)
        return self._page(query, o.sales_orders.c.id.desc(), limit, offset)

    def _page(
        self, query: Select[Any], order: Any, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(query.order_by(order).limit(limit).offset(offset)).mappings()
        return [dict(r) for r in rows], int(total)

    # Purchase orders

    def open_draft(self, supplier_id: int, supplier: str) -> PurchaseOrder:
        """The supplier's one open stock draft with its lines, locked (see `lock_draft`)."""
        return self.purchase_order(self.lock_draft(supplier_id))[0]

    def lock_draft(self, supplier_id: int) -> int:
        """The id of the supplier's one open stock draft, locked; created when there is none.

        A unique partial index allows one draft per supplier, so of two transactions that both
        find none, one inserts and the other, waiting on that insert, then finds and locks it.
        """
        query = (
            select(o.purchase_orders.c.id)
            .where(
                o.purchase_orders.c.supplier_id == supplier_id,
                o.purchase_orders.c.status == PurchaseStatus.DRAFT.value,
                o.purchase_orders.c.drop_ship_customer.is_(None),
            )
            .with_for_update()
        )
        found = self.db.execute(query).scalar()
        if found is None:
            now = _now()
            self.db.execute(
                self._insert(o.purchase_orders)
                .values(
                    supplier_id=supplier_id,
                    status=PurchaseStatus.DRAFT.value,
                    change_requested=False,
                    ordered_at=now,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
            )
            found = self.db.execute(query).scalar_one()
        return int(found)

    def draft_line(
        self, order_id: int, item_id: int, location_id: int
    ) -> tuple[int, int, Decimal, Decimal] | None:
        """(id, line number, quantity, open pegged quantity) of the order's line for an item and
        location, or None; one query, for pulls adding to a draft."""
        pegged = (
            select(func.coalesce(func.sum(o.pegs.c.quantity - o.pegs.c.received), ZERO))
            .where(
                o.pegs.c.supply_kind == "purchase",
                o.pegs.c.supply_id == o.purchase_lines.c.id,
                o.pegs.c.status == PegStatus.OPEN.value,
            )
            .scalar_subquery()
        )
        row = self.db.execute(
            select(
                o.purchase_lines.c.id,
                o.purchase_lines.c.line_no,
                o.purchase_lines.c.quantity,
                pegged.label("pegged"),
            ).where(
                o.purchase_lines.c.order_id == order_id,
                o.purchase_lines.c.item_id == item_id,
                o.purchase_lines.c.location_id == location_id,
            )
        ).first()
        if row is None:
            return None
        return int(row.id), int(row.line_no), row.quantity, Decimal(row.pegged)

    def next_line_no(self, order_id: int) -> int:
        last = self.db.execute(
            select(func.max(o.purchase_lines.c.line_no)).where(
                o.purchase_lines.c.order_id == order_id
            )
        ).scalar()
        return int(last or 0) + 1

    def resize_line(self, line_id: int, quantity: Decimal, expected_date: date) -> None:
        self.db.execute(
            o.purchase_lines.update()
            .where(o.purchase_lines.c.id == line_id)
            .values(quantity=quantity, expected_date=expected_date)
        )

    def add_purchase_order(
        self, order: PurchaseOrder, supplier_id: int, sales_order_id: int | None = None
    ) -> int:
        now = _now()
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
        return order.id

    def add_purchase_line(
        self, order_id: int, line: PurchaseLine, item_id: int, place: Place
    ) -> int:
        line.id = self._add(
            o.purchase_lines,
            order_id=order_id,
            line_no=line.line_no,
            item_id=item_id,
            location_id=place.id,
            quantity=line.quantity,
            price=line.price,
            expected_date=line.expected_date,
            confirmed_quantity=line.confirmed_quantity,
            confirmed_date=line.confirmed_date,
            shipped_quantity=line.shipped_quantity,
            received=line.received,
            rejected=line.rejected,
        )
        return line.id

    def purchase_order(
        self, order_id: int, lock: bool = False
    ) -> tuple[PurchaseOrder, dict[int, LineRef]]:
        query = (
            select(o.purchase_orders, t.suppliers.c.code.label("supplier"))
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
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
        )
        return order, refs

    def purchase_line_order(self, line_id: int) -> int:
        return int(
            self.db.execute(
                select(o.purchase_lines.c.order_id).where(o.purchase_lines.c.id == line_id)
            ).scalar_one()
        )

    def save_purchase_order(self, order: PurchaseOrder) -> None:
        self.db.execute(
            o.purchase_orders.update()
            .where(o.purchase_orders.c.id == order.id)
            .values(
                status=order.status.value,
                expected_date=order.expected_date,
                change_requested=order.change_requested,
                updated_at=_now(),
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
                shipped_quantity=bindparam("shipped_quantity"),
                received=bindparam("received"),
                rejected=bindparam("rejected"),
            ),
            [
                {
                    "line_id": line.id,
                    "quantity": line.quantity,
                    "expected_date": line.expected_date,
                    "confirmed_quantity": line.confirmed_quantity,
                    "confirmed_date": line.confirmed_date,
                    "shipped_quantity": line.shipped_quantity,
                    "received": line.received,
                    "rejected": line.rejected,
                }
                for line in order.lines
            ],
        )

    def purchase_orders(
        self,
        status: str | None = None,
        supplier: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        lines = (
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
            .group_by(o.purchase_lines.c.order_id)
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
                func.coalesce(lines.c.lines, 0).label("lines"),
                lines.c.quantity,
                lines.c.received,
                lines.c.promised_date,
            )
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
            .outerjoin(lines, lines.c.order_id == o.purchase_orders.c.id)
        )
        if status is not None:
            query = query.where(o.purchase_orders.c.status == status)
        if supplier is not None:
            query = query.where(t.suppliers.c.code == supplier)
        return self._page(query, o.purchase_orders.c.id.desc(), limit, offset)

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
            created_at=_now(),
        )

    def receipt_rows(self) -> list[dict[str, Any]]:
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
            )
            .select_from(o.receipts)
            .join(o.purchase_lines, o.purchase_lines.c.id == o.receipts.c.purchase_line_id)
            .join(o.purchase_orders, o.purchase_orders.c.id == o.purchase_lines.c.order_id)
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
            .join(t.items, t.items.c.id == o.purchase_lines.c.item_id)
            .order_by(o.receipts.c.received_on, o.receipts.c.id)
        )
        return [dict(r) for r in self.db.execute(query).mappings()]

    def demand_rows(self, since: datetime | None) -> list[dict[str, Any]]:
        query = (
            select(
                t.items.c.sku.label("item"),
                t.locations.c.code.label("location"),
                o.sales_orders.c.ordered_at,
                o.sales_lines.c.ordered_quantity.label("qty"),
                (o.sales_lines.c.short_at_order > ZERO).label("stockout"),
            )
            .select_from(o.sales_lines)
            .join(o.sales_orders, o.sales_orders.c.id == o.sales_lines.c.order_id)
            .join(t.items, t.items.c.id == o.sales_lines.c.item_id)
            .join(t.locations, t.locations.c.id == o.sales_lines.c.location_id)
            .where(o.sales_orders.c.status != SalesStatus.DRAFT.value)
        )
        if since is not None:
            query = query.where(o.sales_orders.c.ordered_at >= since)
        return [dict(r) for r in self.db.execute(query).mappings()]

    def ensure_location(self, code: str, name: str, kind: str) -> Place:
        """The physical location `code`, created on first use (quarantine, work in progress).

        Created with ON CONFLICT DO NOTHING, so two first uses at once both find the one row.
        """
        query = select(t.locations.c.id, t.locations.c.allow_negative).where(
            t.locations.c.code == code
        )
        row = self.db.execute(query).first()
        if row is None:
            self.db.execute(
                self._insert(t.locations)
                .values(code=code, name=name, kind=kind, allow_negative=False, created_at=_now())
                .on_conflict_do_nothing()
            )
            row = self.db.execute(query).one()
        return Place(int(row.id), code, bool(row.allow_negative))

    def free_stock(self, item_id: int, location_id: int | None = None) -> Decimal:
        """on hand − reserved, without a lock, at one location or summed over warehouses and
        stores: a quote's estimate, which a confirmation re-checks under the lock."""
        free = func.coalesce(func.sum(t.stock.c.on_hand - t.stock.c.reserved), ZERO)
        query = (
            select(free)
            .select_from(t.stock)
            .join(t.locations, t.locations.c.id == t.stock.c.location_id)
            .where(t.stock.c.item_id == item_id, t.stock.c.on_hand > t.stock.c.reserved)
        )
        if location_id is not None:
            query = query.where(t.stock.c.location_id == location_id)
        else:
            query = query.where(t.locations.c.kind.in_(["warehouse", "store"]))
        return Decimal(self.db.execute(query).scalar_one())

    # Bulk loading of history

    def empty(self) -> bool:
        """No sales or purchase orders yet, so history may bring its own order numbers."""
        return all(
            self.db.execute(select(table.c.id).limit(1)).first() is None
            for table in (o.sales_orders, o.purchase_orders)
        )

    def catalog_ids(self) -> tuple[dict[str, int], dict[str, int]]:
        """(item id by SKU, supplier id by code), for loading history in bulk."""
        items = {sku: int(i) for sku, i in self.db.execute(select(t.items.c.sku, t.items.c.id))}
        suppliers = {
            code: int(i)
            for code, i in self.db.execute(select(t.suppliers.c.code, t.suppliers.c.id))
        }
        return items, suppliers

    def add_history(
        self,
        sales_orders: Sequence[dict[str, Any]],
        sales_lines: Sequence[dict[str, Any]],
        purchase_orders: Sequence[dict[str, Any]],
        purchase_lines: Sequence[dict[str, Any]],
        receipts: Sequence[dict[str, Any]],
    ) -> None:
        """Insert past orders as given, ids included (their numbers are already in the moves'
        references), then move PostgreSQL's id sequences past them.
        """
        for table, rows in (
            (o.sales_orders, sales_orders),
            (o.sales_lines, sales_lines),
            (o.purchase_orders, purchase_orders),
            (o.purchase_lines, purchase_lines),
            (o.receipts, receipts),
        ):
            if rows:
                self.db.execute(table.insert(), list(rows))
        if self.dialect == "postgresql":
            for name in ("sales_orders", "sales_lines", "purchase_orders", "purchase_lines"):
                self.db.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"
                    )
                )

    # Pegs

    def add_peg(
        self,
        demand_kind: str,
        demand_id: int,
        supply_kind: str,
        supply_id: int,
        reference: str,
        quantity: Decimal,
    ) -> int:
        return self._add(
            o.pegs,
            demand_kind=demand_kind,
            demand_id=demand_id,
            supply_kind=supply_kind,
            supply_id=supply_id,
            reference=reference,
            quantity=quantity,
            received=ZERO,
            status=PegStatus.OPEN.value,
            created_at=_now(),
        )

    def _pegs(self, *where: Any) -> list[Peg]:
        rows = self.db.execute(
            select(
                o.pegs.c.id,
                o.pegs.c.demand_kind,
                o.pegs.c.demand_id,
                o.pegs.c.supply_kind,
                o.pegs.c.supply_id,
                o.pegs.c.reference,
                o.pegs.c.quantity,
                o.pegs.c.received,
                o.pegs.c.status,
            )
            .where(*where)
            .order_by(o.pegs.c.id)
        ).all()
        return [
            Peg(
                int(r.id),
                DemandKind(r.demand_kind),
                int(r.demand_id),
                SupplyKind(r.supply_kind),
                int(r.supply_id),
                r.reference,
                r.quantity,
                r.received,
                PegStatus(r.status),
            )
            for r in rows
        ]

    def pegs_of_demand(self, kind: str, ids: Sequence[int]) -> list[Peg]:
        if not ids:
            return []
        return self._pegs(o.pegs.c.demand_kind == kind, o.pegs.c.demand_id.in_(ids))

    def pegs_of_supply(self, kind: str, ids: Sequence[int]) -> list[Peg]:
        if not ids:
            return []
        return self._pegs(o.pegs.c.supply_kind == kind, o.pegs.c.supply_id.in_(ids))

    def save_peg(self, peg: Peg) -> None:
        self.db.execute(
            o.pegs.update()
            .where(o.pegs.c.id == peg.id)
            .values(quantity=peg.quantity, received=peg.received, status=peg.status.value)
        )

    def supply_dates(self, pegs: Sequence[Peg]) -> dict[tuple[str, int], date | None]:
        """When each pegged supply is expected: (kind, id) → date."""
        found: dict[tuple[str, int], date | None] = {}
        by_kind: dict[str, list[int]] = {}
        for peg in pegs:
            by_kind.setdefault(peg.supply_kind, []).append(peg.supply_id)
        if ids := by_kind.get("purchase"):
            rows = self.db.execute(
                select(
                    o.purchase_lines.c.id,
                    func.coalesce(
                        o.purchase_lines.c.confirmed_date,
                        o.purchase_lines.c.expected_date,
                        o.purchase_orders.c.expected_date,
                    ),
                )
                .join(o.purchase_orders, o.purchase_orders.c.id == o.purchase_lines.c.order_id)
                .where(o.purchase_lines.c.id.in_(ids))
            )
            found.update({("purchase", int(i)): d for i, d in rows})
        for kind, table, column in (
            ("production", o.production_orders, o.production_orders.c.due_date),
            ("transfer", o.transfer_orders, o.transfer_orders.c.expected_date),
        ):
            if ids := by_kind.get(kind):
                rows = self.db.execute(select(table.c.id, column).where(table.c.id.in_(ids)))
                found.update({(kind, int(i)): d for i, d in rows})
        return found

    def supply_numbers(self, pegs: Sequence[Peg]) -> dict[tuple[str, int], str]:
        """The order number people know each pegged supply by (PO-…/line for purchases)."""
        found: dict[tuple[str, int], str] = {}
        ids = [p.supply_id for p in pegs if p.supply_kind == "purchase"]
        if ids:
            rows = self.db.execute(
                select(
                    o.purchase_lines.c.id, o.purchase_lines.c.order_id, o.purchase_lines.c.line_no
                ).where(o.purchase_lines.c.id.in_(ids))
            )
            for line_id, order_no, line_no in rows:
                found[("purchase", int(line_id))] = f"{number('purchase', order_no)}/{line_no}"
        for peg in pegs:
            if peg.supply_kind != "purchase":
                found[(peg.supply_kind, peg.supply_id)] = number(peg.supply_kind, peg.supply_id)
        return found

    def reserved(self, references: Sequence[str]) -> dict[str, Decimal]:
        """Open reserved quantity per reservation reference."""
        if not references:
            return {}
        rows = self.db.execute(
            select(t.reservations.c.reference, func.sum(t.reservations.c.open_quantity))
            .where(t.reservations.c.reference.in_(references), t.reservations.c.status == "open")
            .group_by(t.reservations.c.reference)
        ).all()
        return {r[0]: r[1] for r in rows}

    def offers(self, item_id: int) -> SupplierOffers:
        """Who sells an item, on what terms, and how each of them has delivered: what
        `domain.sourcing.choose_supplier` chooses from. One query."""
        found = SupplierOffers([], {}, {}, {})
        for r in self.db.execute(_OFFERS, {"item_id": item_id}).mappings():
            offer = supplier_item_from_row(r)
            found.offers.append(offer)
            found.active[offer.supplier] = bool(r["supplier_active"])
            found.records[offer.supplier] = _record(r["hits"], r["misses"], r["deliveries"])
            found.supplier_ids[offer.supplier] = int(r["supplier_id"])
        return found

    def supplier_records(self) -> dict[str, SupplierRecord]:
        """Every supplier's delivery record (`SupplierRecord`), by supplier code."""
        records = _delivery_records().subquery()
        rows = self.db.execute(
            select(t.suppliers.c.code, records.c.hits, records.c.misses, records.c.deliveries).join(
                records, records.c.supplier_id == t.suppliers.c.id
            )
        ).all()
        return {r.code: _record(r.hits, r.misses, r.deliveries) for r in rows}

    def bom_lead_time(self, item_id: int) -> int | None:
        """The lead time of the item's bill of materials, or None without one."""
        days = self.db.execute(
            select(o.boms.c.lead_time_days).where(o.boms.c.item_id == item_id)
        ).scalar()
        return None if days is None else int(days)

    # Bills of materials

    def put_bom(
        self, item_id: int, lead_time_days: int, lines: Sequence[tuple[int, BomLine]]
    ) -> None:
        """Replace the item's bill of materials: (component id, line) in position order."""
        self.db.execute(o.bom_lines.delete().where(o.bom_lines.c.parent_id == item_id))
        self.db.execute(o.boms.delete().where(o.boms.c.item_id == item_id))
        self.db.execute(
            o.boms.insert().values(
                item_id=item_id, lead_time_days=lead_time_days, updated_at=_now()
            )
        )
        self.db.execute(
            o.bom_lines.insert(),
            [
                {
                    "parent_id": item_id,
                    "position": n,
                    "component_id": component_id,
                    "quantity": line.quantity,
                    "scrap": line.scrap,
                }
                for n, (component_id, line) in enumerate(lines, 1)
            ],
        )

    def bom(self, item_id: int) -> tuple[int, list[tuple[int, BomLine]]] | None:
        """(lead time in days, [(component id, line)]) of an item, or None without a BOM."""
        lead = self.db.execute(
            select(o.boms.c.lead_time_days).where(o.boms.c.item_id == item_id)
        ).scalar()
        if lead is None:
            return None
        parent = t.items.alias("parent")
        rows = self.db.execute(
            select(
                o.bom_lines.c.component_id,
                parent.c.sku.label("parent"),
                t.items.c.sku.label("component"),
                o.bom_lines.c.quantity,
                o.bom_lines.c.scrap,
            )
            .join(parent, parent.c.id == o.bom_lines.c.parent_id)
            .join(t.items, t.items.c.id == o.bom_lines.c.component_id)
            .where(o.bom_lines.c.parent_id == item_id)
            .order_by(o.bom_lines.c.position)
        ).all()
        return int(lead), [
            (int(r.component_id), BomLine(r.parent, r.component, r.quantity, r.scrap)) for r in rows
        ]

    def all_boms(self) -> dict[str, list[BomLine]]:
        parent = t.items.alias("parent")
        rows = self.db.execute(
            select(
                parent.c.sku.label("parent"),
                t.items.c.sku.label("component"),
                o.bom_lines.c.quantity,
                o.bom_lines.c.scrap,
            )
            .join(parent, parent.c.id == o.bom_lines.c.parent_id)
            .join(t.items, t.items.c.id == o.bom_lines.c.component_id)
            .order_by(o.bom_lines.c.parent_id, o.bom_lines.c.position)
        ).all()
        found: dict[str, list[BomLine]] = {}
        for r in rows:
            found.setdefault(r.parent, []).append(
                BomLine(r.parent, r.component, r.quantity, r.scrap)
            )
        return found

    # Production orders

    def add_production_order(self, order: ProductionOrder, item_id: int, place: Place) -> int:
        now = _now()
        order.id = self._add(
            o.production_orders,
            item_id=item_id,
            location_id=place.id,
            quantity=order.quantity,
            produced=order.produced,
            status=order.status.value,
            due_date=order.due_date,
            change_requested=order.change_requested,
            created_at=now,
            updated_at=now,
        )
        return order.id

    def add_component(self, order_id: int, component: Component, item_id: int) -> int:
        component.id = self._add(
            o.production_components,
            order_id=order_id,
            item_id=item_id,
            quantity=component.quantity,
            consumed=component.consumed,
        )
        return component.id

    def production_order(
        self, order_id: int, lock: bool = False
    ) -> tuple[ProductionOrder, LineRef, dict[str, int]]:
        """The order, its own ids (order id, item id, location), and component item ids by SKU."""
        query = (
            select(
                o.production_orders,
                t.items.c.sku,
                t.locations.c.code,
                t.locations.c.allow_negative,
            )
            .join(t.items, t.items.c.id == o.production_orders.c.item_id)
            .join(t.locations, t.locations.c.id == o.production_orders.c.location_id)
            .where(o.production_orders.c.id == order_id)
        )
        if lock:
            query = query.with_for_update(of=o.production_orders)
        head = self.db.execute(query).mappings().first()
        if head is None:
            raise NotFound("production order", number("production", order_id), "order")
        rows = self.db.execute(
            select(o.production_components, t.items.c.sku)
            .join(t.items, t.items.c.id == o.production_components.c.item_id)
            .where(o.production_components.c.order_id == order_id)
            .order_by(o.production_components.c.id)
        ).mappings()
        components: list[Component] = []
        item_ids: dict[str, int] = {}
        for r in rows:
            components.append(Component(r["sku"], r["quantity"], r["consumed"], r["id"]))
            item_ids[r["sku"]] = r["item_id"]
        order = ProductionOrder(
            sku=head["sku"],
            location=head["code"],
            quantity=head["quantity"],
            components=components,
            status=ProductionStatus(head["status"]),
            produced=head["produced"],
            due_date=head["due_date"],
            change_requested=head["change_requested"],
            id=head["id"],
        )
        ref = LineRef(
            head["id"],
            head["item_id"],
            Place(head["location_id"], head["code"], head["allow_negative"]),
        )
        return order, ref, item_ids

    def save_production_order(self, order: ProductionOrder) -> None:
        self.db.execute(
            o.production_orders.update()
            .where(o.production_orders.c.id == order.id)
            .values(
                quantity=order.quantity,
                produced=order.produced,
                status=order.status.value,
                due_date=order.due_date,
                change_requested=order.change_requested,
                updated_at=_now(),
            )
        )
        if order.components:
            self.db.execute(
                o.production_components.update()
                .where(o.production_components.c.id == bindparam("component_id"))
                .values(quantity=bindparam("quantity"), consumed=bindparam("consumed")),
                [
                    {"component_id": c.id, "quantity": c.quantity, "consumed": c.consumed}
                    for c in order.components
                ],
            )

    def production_orders(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        query = (
            select(
                o.production_orders.c.id,
                t.items.c.sku,
                t.locations.c.code.label("location"),
                o.production_orders.c.quantity,
                o.production_orders.c.produced,
                o.production_orders.c.status,
                o.production_orders.c.due_date,
            )
            .join(t.items, t.items.c.id == o.production_orders.c.item_id)
            .join(t.locations, t.locations.c.id == o.production_orders.c.location_id)
        )
        if status is not None:
            query = query.where(o.production_orders.c.status == status)
        return self._page(query, o.production_orders.c.id.desc(), limit, offset)

    # Transfer orders

    def add_transfer_order(
        self, order: TransferOrder, item_id: int, source: Place, target: Place
    ) -> int:
        now = _now()
        order.id = self._add(
            o.transfer_orders,
            item_id=item_id,
            source_id=source.id,
            target_id=target.id,
            quantity=order.quantity,
            received=order.received,
            status=order.status.value,
            expected_date=order.expected_date,
            created_at=now,
            updated_at=now,
        )
        return order.id

    def transfer_order(
        self, order_id: int, lock: bool = False
    ) -> tuple[TransferOrder, int, Place, Place]:
        """The order, its item id, and its source and target places."""
        source = t.locations.alias("source")
        target = t.locations.alias("target")
        query = (
            select(
                o.transfer_orders,
                t.items.c.sku,
                source.c.code.label("source"),
                source.c.allow_negative.label("source_negative"),
                target.c.code.label("target"),
                target.c.allow_negative.label("target_negative"),
            )
            .join(t.items, t.items.c.id == o.transfer_orders.c.item_id)
            .join(source, source.c.id == o.transfer_orders.c.source_id)
            .join(target, target.c.id == o.transfer_orders.c.target_id)
            .where(o.transfer_orders.c.id == order_id)
        )
        if lock:
            query = query.with_for_update(of=o.transfer_orders)
        r = self.db.execute(query).mappings().first()
        if r is None:
            raise NotFound("transfer order", number("transfer", order_id), "order")
        order = TransferOrder(
            sku=r["sku"],
            source=r["source"],
            target=r["target"],
            quantity=r["quantity"],
            status=TransferStatus(r["status"]),
            expected_date=r["expected_date"],
            received=r["received"],
            id=r["id"],
        )
        return (
            order,
            int(r["item_id"]),
            Place(r["source_id"], r["source"], r["source_negative"]),
            Place(r["target_id"], r["target"], r["target_negative"]),
        )

    def save_transfer_order(self, order: TransferOrder) -> None:
        self.db.execute(
            o.transfer_orders.update()
            .where(o.transfer_orders.c.id == order.id)
            .values(
                quantity=order.quantity,
                received=order.received,
                status=order.status.value,
                updated_at=_now(),
            )
        )

    def transfer_orders(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        source = t.locations.alias("source")
        target = t.locations.alias("target")
        query = (
            select(
                o.transfer_orders.c.id,
                t.items.c.sku,
                source.c.code.label("source"),
                target.c.code.label("target"),
                o.transfer_orders.c.quantity,
                o.transfer_orders.c.received,
                o.transfer_orders.c.status,
                o.transfer_orders.c.expected_date,
            )
            .join(t.items, t.items.c.id == o.transfer_orders.c.item_id)
            .join(source, source.c.id == o.transfer_orders.c.source_id)
            .join(target, target.c.id == o.transfer_orders.c.target_id)
        )
        if status is not None:
            query = query.where(o.transfer_orders.c.status == status)
        return self._page(query, o.transfer_orders.c.id.desc(), limit, offset)

    # Stock elsewhere, for transfer pulls

    def available_elsewhere(self, item_id: int, not_location: int) -> list[tuple[Place, Decimal]]:
        """Warehouses and stores other than `not_location` with on hand − reserved > 0, most first.

        A hint to choose from; the pull re-checks under the source's row lock.
        """
        free = t.stock.c.on_hand - t.stock.c.reserved
        rows = self.db.execute(
            select(t.locations.c.id, t.locations.c.code, t.locations.c.allow_negative, free)
            .join(t.locations, t.locations.c.id == t.stock.c.location_id)
            .where(
                and_(
                    t.stock.c.item_id == item_id,
                    t.stock.c.location_id != not_location,
                    t.locations.c.kind.in_(["warehouse", "store"]),
                    free > ZERO,
                )
            )
            .order_by(free.desc(), t.locations.c.code)
        ).all()
        return [(Place(r[0], r[1], r[2]), r[3]) for r in rows]
