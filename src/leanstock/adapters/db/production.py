"""Production orders and their components in the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.domain.errors import NotFound
from leanstock.domain.ledger import Place
from leanstock.domain.orders import Component, ProductionOrder, ProductionStatus, number
from leanstock.services.ports import LineRef


class ProductionRepository(Repository):
    def add(self, order: ProductionOrder, item_id: int, place: Place) -> int:
        now = utc_now()
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
        self._track(order)
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

    def get(
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
        self._track(order)
        return order, ref, item_ids

    def save(self, order: ProductionOrder) -> None:
        self.db.execute(
            o.production_orders.update()
            .where(o.production_orders.c.id == order.id)
            .values(
                quantity=order.quantity,
                produced=order.produced,
                status=order.status.value,
                due_date=order.due_date,
                change_requested=order.change_requested,
                updated_at=utc_now(),
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

    def page(
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
        if (visible := self._visible_locations()) is not None:
            query = query.where(o.production_orders.c.location_id.in_(visible))
        return self._page(query, o.production_orders.c.id.desc(), limit, offset)
