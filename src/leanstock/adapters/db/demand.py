"""Demand in SQL: what customers asked for, as the forecasts and the items list read it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CompoundSelect, case, false, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.domain.ledger import MoveKind, ShipmentReason
from leanstock.domain.orders import SalesStatus

ZERO = Decimal(0)


def demand_lines(since: datetime | None = None) -> CompoundSelect[Any]:
    """What customers asked for, one row per item id, location id and moment: confirmed sales
    lines as ordered, less what came back, and counter sales (shipments with reason `sale`).
    The one definition of demand in SQL: the forecasts' history and the items list's days
    of cover both read it.

    A cancelled line counts only what stock could not serve when it was ordered (a lost
    sale: `short_at_order`); what the customer withdrew while it was served leaves the
    history."""
    query = (
        select(
            o.sales_lines.c.item_id,
            o.sales_lines.c.location_id,
            o.sales_orders.c.ordered_at,
            (
                case(
                    (o.sales_lines.c.cancelled, o.sales_lines.c.short_at_order),
                    else_=o.sales_lines.c.ordered_quantity,
                )
                - o.sales_lines.c.returned
            ).label("qty"),
            (o.sales_lines.c.short_at_order > ZERO).label("stockout"),
        )
        .select_from(
            o.sales_lines.join(o.sales_orders, o.sales_orders.c.id == o.sales_lines.c.order_id)
        )
        .where(
            o.sales_orders.c.status != SalesStatus.DRAFT.value,
            ~(o.sales_lines.c.cancelled & (o.sales_lines.c.short_at_order <= ZERO)),
        )
    )
    counter = (
        select(
            t.moves.c.item_id,
            t.moves.c.source_id.label("location_id"),
            t.moves.c.occurred_at.label("ordered_at"),
            t.moves.c.quantity.label("qty"),
            false().label("stockout"),
        )
        .select_from(t.moves)
        .join(t.operations, t.operations.c.id == t.moves.c.operation_id)
        .where(
            t.operations.c.kind == MoveKind.SHIPMENT.value,
            t.operations.c.reason == ShipmentReason.SALE.value,
        )
    )
    if since is not None:
        query = query.where(o.sales_orders.c.ordered_at >= since)
        counter = counter.where(t.moves.c.occurred_at >= since)
    return query.union_all(counter)
