"""Transfer orders in the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.domain.errors import NotFound
from leanstock.domain.ledger import Place
from leanstock.domain.orders import TransferOrder, TransferStatus, number


class TransfersRepository(Repository):
    def add(self, order: TransferOrder, item_id: int, source: Place, target: Place) -> int:
        now = utc_now()
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
        self._track(order)
        return order.id

    def get(self, order_id: int, lock: bool = False) -> tuple[TransferOrder, int, Place, Place]:
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
        self._track(order)
        return (
            order,
            int(r["item_id"]),
            Place(r["source_id"], r["source"], r["source_negative"]),
            Place(r["target_id"], r["target"], r["target_negative"]),
        )

    def save(self, order: TransferOrder) -> None:
        self.db.execute(
            o.transfer_orders.update()
            .where(o.transfer_orders.c.id == order.id)
            .values(
                quantity=order.quantity,
                received=order.received,
                status=order.status.value,
                updated_at=utc_now(),
            )
        )

    def page(
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
        if (visible := self._visible_locations()) is not None:
            query = query.where(
                o.transfer_orders.c.source_id.in_(visible)
                | o.transfer_orders.c.target_id.in_(visible)
            )
        return self._page(query, o.transfer_orders.c.id.desc(), limit, offset)
