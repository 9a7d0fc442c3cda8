"""The computed sort keys of the items list, in SQL, so a sort covers the whole filtered list.

A page shows each item's stock figures as the services compute them (available by
`domain.ledger.available`, on the page's own lot balances); sorting by one of them has to rank
every item that passes the filters, which only the database can do for a large catalog. So each
key here is the SQL form of the figure it sorts by, one grouped pass per key:

- stock: on hand summed over the physical locations the reader may see;
- available: their usable on hand (positive balances of lots not expired by `today`) less
  what is reserved there: summed per location, the same sum as `domain.ledger.available`'s
  (tests/integration/test_item_list.py checks the two rank alike);
- cover: days of cover, available (at least zero) ÷ mean daily demand over the window, NULL
  without demand;
- class: usage value (demand since `usage_since` × unit cost), largest first, so A before B
  before C (the ABC class is a cut of this ranking, `planning.segments.abc_classes`); NULL for
  an inactive item, which has no class.

NULLs come last either way, and ties are broken by SKU.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, Select, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.demand import demand_lines
from leanstock.adapters.db.types import Exact
from leanstock.domain.catalog import PHYSICAL_KINDS
from leanstock.services.records import ItemOrder

ZERO = Decimal(0)
PHYSICAL = sorted(kind.value for kind in PHYSICAL_KINDS)
PLAIN = {"sku": t.items.c.sku, "name": t.items.c.name, "category": t.items.c.category}


def seen_here(location_id: Any, visible: Select[Any] | None) -> ColumnElement[bool]:
    """`location_id` is a physical location the reader may see."""
    physical = location_id.in_(select(t.locations.c.id).where(t.locations.c.kind.in_(PHYSICAL)))
    return physical if visible is None else and_(physical, location_id.in_(visible))


def usable_lots(today: date, visible: Select[Any] | None) -> Select[Any]:
    """The balances `domain.ledger.usable` counts: positive, of no lot or of a lot not expired
    by `today` (usable through its expiry date), at the locations the reader may see."""
    return (
        select(t.balances.c.item_id, func.sum(t.balances.c.quantity).label("usable"))
        .select_from(t.balances)
        .outerjoin(
            t.lots,
            and_(t.lots.c.item_id == t.balances.c.item_id, t.lots.c.code == t.balances.c.lot),
        )
        .where(
            t.balances.c.quantity > ZERO,
            or_(t.lots.c.expires_on.is_(None), t.lots.c.expires_on >= today),
            seen_here(t.balances.c.location_id, visible),
        )
        .group_by(t.balances.c.item_id)
    )


def demand_per_item(since: datetime, visible: Select[Any] | None) -> Select[Any]:
    """Demand per item since `since` at the locations the reader may see."""
    lines = demand_lines(since).subquery()
    query = select(lines.c.item_id, func.sum(lines.c.qty).label("demand")).group_by(lines.c.item_id)
    if visible is not None:
        query = query.where(lines.c.location_id.in_(visible))
    return query


def ordered(query: Select[Any], order: ItemOrder, visible: Select[Any] | None) -> Select[Any]:
    """`query` (over `items`) sorted by `order`'s key, NULLs last, then by SKU."""
    if order.key in PLAIN:
        key: ColumnElement[Any] = PLAIN[order.key]
    else:
        query, key = _computed(query, order, visible)
    first = key.desc() if order.descending else key.asc()
    return query.order_by(first.nulls_last(), t.items.c.sku)


def _computed(
    query: Select[Any], order: ItemOrder, visible: Select[Any] | None
) -> tuple[Select[Any], ColumnElement[Any]]:
    today = order.today or datetime.now(UTC).date()
    zero = literal(ZERO, Exact())
    if order.key == "class":
        usage_since = order.usage_since or _midnight(today - timedelta(days=364))
        used = demand_per_item(usage_since, None).subquery()
        query = query.outerjoin(used, used.c.item_id == t.items.c.id)
        value = cast(func.coalesce(used.c.demand, zero), Float) * cast(t.items.c.unit_cost, Float)
        # A first: the largest usage value (none below zero), so ascending means A to C.
        key = case((t.items.c.active, -case((value > 0.0, value), else_=0.0)), else_=None)
        return query, key
    if order.key not in ("stock", "available", "cover"):
        raise ValueError(f"unknown item sort key {order.key!r}")
    held = (
        select(
            t.stock.c.item_id,
            func.sum(t.stock.c.on_hand).label("on_hand"),
            func.sum(t.stock.c.reserved).label("reserved"),
        )
        .where(seen_here(t.stock.c.location_id, visible))
        .group_by(t.stock.c.item_id)
        .subquery()
    )
    query = query.outerjoin(held, held.c.item_id == t.items.c.id)
    if order.key == "stock":
        return query, func.coalesce(held.c.on_hand, zero)
    usable = usable_lots(today, visible).subquery()
    query = query.outerjoin(usable, usable.c.item_id == t.items.c.id)
    available = func.coalesce(usable.c.usable, zero) - func.coalesce(held.c.reserved, zero)
    if order.key == "available":
        return query, available
    since = order.demand_since or _midnight(today - timedelta(days=order.demand_days - 1))
    wanted = demand_per_item(since, visible).subquery()
    query = query.outerjoin(wanted, wanted.c.item_id == t.items.c.id)
    cover = case(
        (
            wanted.c.demand > zero,
            cast(case((available > zero, available), else_=zero), Float)
            * order.demand_days
            / cast(wanted.c.demand, Float),
        ),
        else_=None,
    )
    return query, cover


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)
