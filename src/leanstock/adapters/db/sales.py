"""Sales orders and their lines in the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.adapters.db.catalog import item_from_row, items_by_barcode
from leanstock.adapters.db.demand import demand_lines
from leanstock.domain.catalog import PHYSICAL_KINDS, Item, LocationKind
from leanstock.domain.customers import WALK_IN_PRIORITY
from leanstock.domain.errors import NotFound
from leanstock.domain.ledger import Place
from leanstock.domain.orders import Fulfilment, SalesLine, SalesOrder, SalesStatus, number
from leanstock.services.ports import LineRef, OpenSalesLine, Stored

ZERO = Decimal(0)

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
# An order with its customer record, if it has one.
_WITH_CUSTOMER = o.sales_orders.outerjoin(
    o.sales_order_customers, o.sales_order_customers.c.order_id == o.sales_orders.c.id
).outerjoin(t.customers, t.customers.c.id == o.sales_order_customers.c.customer_id)
_PLACE_BY_CODE = select(t.locations.c.id, t.locations.c.kind, t.locations.c.allow_negative).where(
    t.locations.c.code == bindparam("code")
)


class SalesRepository(Repository):
    def place(self, code: str, field: str) -> tuple[Place, bool]:
        """A location as the ledger needs it, and whether it is physical; `NotFound` if none."""
        row = self.db.execute(_PLACE_BY_CODE, {"code": code}).first()
        if row is None:
            raise NotFound("location", code, field)
        kind = LocationKind(row.kind)
        place = Place(int(row.id), code, bool(row.allow_negative) or kind not in PHYSICAL_KINDS)
        return place, kind in PHYSICAL_KINDS

    def items_and_place(
        self, skus: Sequence[str], location: str | None = None
    ) -> tuple[dict[str, Stored[Item]], tuple[Place, bool] | None]:
        """The items behind some SKUs (unknown ones left out) and, when asked, the location
        `place` would give (None when unknown or no SKU is known), all in one query."""
        params = {"skus": sorted(set(skus)), "code": location or ""}
        rows = self.db.execute(_ITEMS_AND_PLACE, params).mappings().all()
        found = {r["sku"]: Stored(r["id"], item_from_row(r)) for r in rows}
        if missing := set(skus) - set(found):
            for ref, row in items_by_barcode(self.db, sorted(missing)).items():
                found[ref] = Stored(row["id"], item_from_row(row))
        place = None
        if rows and rows[0]["place_id"] is not None and location is not None:
            kind = LocationKind(rows[0]["place_kind"])
            physical = kind in PHYSICAL_KINDS
            negative = bool(rows[0]["place_negative"]) or not physical
            place = (Place(int(rows[0]["place_id"]), location, negative), physical)
        return found, place

    def add(
        self,
        order: SalesOrder,
        refs: Sequence[tuple[int, Place]],
        customer_id: int | None = None,
    ) -> list[int]:
        """Insert the order and its lines; sets `order.id`, returns the line ids in order.
        `customer_id`: the record of `order.customer_code`."""
        now = utc_now()
        order.id = self._add(
            o.sales_orders,
            customer=order.customer,
            status=order.status.value,
            ordered_at=order.ordered_at or now,
            created_at=now,
            updated_at=now,
        )
        ids = self._add_lines(
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
        if customer_id is not None:
            self.db.execute(
                o.sales_order_customers.insert().values(order_id=order.id, customer_id=customer_id)
            )
        self._track(order)
        return ids

    def get(self, order_id: int, lock: bool = False) -> tuple[SalesOrder, dict[int, LineRef]]:
        """The order with its lines, and each line's ids by line number. `lock`: FOR UPDATE."""
        query = (
            select(o.sales_orders, t.customers.c.code.label("customer_code"))
            .select_from(_WITH_CUSTOMER)
            .where(o.sales_orders.c.id == order_id)
        )
        if lock:
            query = query.with_for_update(of=o.sales_orders)
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
                    returned=r["returned"],
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
            customer_code=head["customer_code"],
        )
        self._track(order)
        return order, refs

    def save(self, order: SalesOrder) -> None:
        self.db.execute(
            o.sales_orders.update()
            .where(o.sales_orders.c.id == order.id)
            .values(status=order.status.value, updated_at=utc_now())
        )
        self.save_lines(order.lines)

    def save_lines(self, lines: Sequence[SalesLine]) -> None:
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
                returned=bindparam("returned"),
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
                    "returned": line.returned,
                }
                for line in lines
            ],
        )

    def order_of_line(self, line_id: int) -> int:
        return int(
            self.db.execute(
                select(o.sales_lines.c.order_id).where(o.sales_lines.c.id == line_id)
            ).scalar_one()
        )

    def page(
        self,
        status: str | None = None,
        customer: str | None = None,
        limit: int = 50,
        offset: int = 0,
        customer_code: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        query = select(
            o.sales_orders.c.id,
            o.sales_orders.c.customer,
            t.customers.c.code.label("customer_code"),
            o.sales_orders.c.status,
            o.sales_orders.c.ordered_at,
        ).select_from(_WITH_CUSTOMER)
        if status is not None:
            query = query.where(o.sales_orders.c.status == status)
        if customer is not None:
            query = query.where(o.sales_orders.c.customer == customer)
        if customer_code is not None:
            query = query.where(t.customers.c.code == customer_code)
        if (visible := self._visible_locations()) is not None:
            query = query.where(
                select(o.sales_lines.c.id)
                .where(
                    o.sales_lines.c.order_id == o.sales_orders.c.id,
                    o.sales_lines.c.location_id.in_(visible),
                )
                .exists()
            )
        rows, total = self._page(query, o.sales_orders.c.id.desc(), limit, offset)
        # The lines are summed for the orders on the page only, not the whole history.
        sums = {
            r.order_id: r
            for r in self.db.execute(
                select(
                    o.sales_lines.c.order_id,
                    func.count().label("lines"),
                    func.sum(o.sales_lines.c.quantity).label("quantity"),
                    func.sum(o.sales_lines.c.shipped).label("shipped"),
                )
                .where(o.sales_lines.c.order_id.in_([r["id"] for r in rows]))
                .group_by(o.sales_lines.c.order_id)
            )
        }
        for row in rows:
            summed = sums.get(row["id"])
            row["lines"] = summed.lines if summed else 0
            row["quantity"] = summed.quantity if summed else None
            row["shipped"] = summed.shipped if summed else None
        return rows, total

    def demand_rows(self, since: datetime | None) -> list[dict[str, Any]]:
        """What customers asked for (`demand_lines`), with codes in place of ids."""
        lines = demand_lines(since).subquery()
        query = (
            select(
                t.items.c.sku.label("item"),
                t.locations.c.code.label("location"),
                lines.c.ordered_at,
                lines.c.qty,
                lines.c.stockout,
            )
            .join(t.items, t.items.c.id == lines.c.item_id)
            .join(t.locations, t.locations.c.id == lines.c.location_id)
        )
        return [dict(r) for r in self.db.execute(query).mappings()]

    def backordered(self, keys: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which of these item-locations have lines `open_lines` would list, in one query."""
        if not keys:
            return set()
        query = (
            select(o.sales_lines.c.item_id, o.sales_lines.c.location_id)
            .distinct()
            .join(o.sales_orders, o.sales_orders.c.id == o.sales_lines.c.order_id)
            .where(
                tuple_(o.sales_lines.c.item_id, o.sales_lines.c.location_id).in_(sorted(keys)),
                o.sales_lines.c.cancelled.is_(False),
                o.sales_lines.c.quantity > o.sales_lines.c.shipped,
                o.sales_lines.c.fulfilment != Fulfilment.DROP_SHIP.value,
                o.sales_orders.c.status.in_(
                    [SalesStatus.CONFIRMED.value, SalesStatus.PARTIALLY_SHIPPED.value]
                ),
            )
        )
        return {(int(r.item_id), int(r.location_id)) for r in self.db.execute(query)}

    def open_lines(self, item_id: int, location_id: int) -> list[OpenSalesLine]:
        """Lines of confirmed orders at one item-location with something left to ship (not
        drop-shipped: the supplier delivers those to the customer)."""
        query = (
            select(
                o.sales_lines.c.id,
                o.sales_lines.c.order_id,
                o.sales_lines.c.line_no,
                (o.sales_lines.c.quantity - o.sales_lines.c.shipped).label("open"),
                o.sales_orders.c.ordered_at,
                o.sales_lines.c.requested_date,
                func.coalesce(t.customers.c.priority, WALK_IN_PRIORITY).label("priority"),
            )
            .join(o.sales_orders, o.sales_orders.c.id == o.sales_lines.c.order_id)
            .outerjoin(
                o.sales_order_customers,
                o.sales_order_customers.c.order_id == o.sales_orders.c.id,
            )
            .outerjoin(t.customers, t.customers.c.id == o.sales_order_customers.c.customer_id)
            .where(
                o.sales_lines.c.item_id == item_id,
                o.sales_lines.c.location_id == location_id,
                o.sales_lines.c.cancelled.is_(False),
                o.sales_lines.c.quantity > o.sales_lines.c.shipped,
                o.sales_lines.c.fulfilment != Fulfilment.DROP_SHIP.value,
                o.sales_orders.c.status.in_(
                    [SalesStatus.CONFIRMED.value, SalesStatus.PARTIALLY_SHIPPED.value]
                ),
            )
            .order_by(o.sales_lines.c.id)
        )
        return [
            OpenSalesLine(
                r.id, r.order_id, r.line_no, r.open, r.ordered_at, r.requested_date, r.priority
            )
            for r in self.db.execute(query)
        ]
