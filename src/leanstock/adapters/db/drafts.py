"""The suppliers' open draft purchase orders as pulls add to them: a part of
`PurchasingRepository` (`adapters/db/purchasing.py`), which inherits it.

A pull finds (or opens) its supplier's one stock draft under a row lock, then the draft's line
for the item and location, and grows it or adds one. The `..._many` forms do the same for a
whole sales order's pulled lines in a fixed number of statements (issue #18): the drafts of all
its suppliers locked in one, in supplier order, so two orders take them in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.domain.ledger import Place
from leanstock.domain.orders import PegStatus, PurchaseLine, PurchaseStatus, SupplyKind

ZERO = Decimal(0)

DraftKey = tuple[int, int, int]  # order id, item id, location id
DraftLine = tuple[int, int, Decimal, Decimal]  # line id, line number, quantity, open pegged


def line_state(line: PurchaseLine) -> dict[str, Any]:
    """A purchase line's columns that change over its life (the insert and the update of an
    order's lines both write them)."""
    return {
        "quantity": line.quantity,
        "expected_date": line.expected_date,
        "confirmed_quantity": line.confirmed_quantity,
        "confirmed_date": line.confirmed_date,
        "first_confirmed_quantity": line.first_confirmed_quantity,
        "first_confirmed_date": line.first_confirmed_date,
        "acknowledged_at": line.acknowledged_at,
        "shipped_quantity": line.shipped_quantity,
        "received": line.received,
        "rejected": line.rejected,
    }


def _pegged() -> Any:
    """A line's open pegged quantity, as a scalar subquery of its row."""
    return (
        select(func.coalesce(func.sum(o.pegs.c.quantity - o.pegs.c.received), ZERO))
        .where(
            o.pegs.c.supply_kind == SupplyKind.PURCHASE.value,
            o.pegs.c.supply_id == o.purchase_lines.c.id,
            o.pegs.c.status == PegStatus.OPEN.value,
        )
        .scalar_subquery()
    )


_LINES = o.purchase_lines.c

# `draft_lines`' select, built once: each order with a bought line sends it, and building it
# (a correlated subquery and a tuple IN) and its cache key cost about 0.3 ms of CPU a call
# (docs/performance.md, "Since 145b9bf").
_DRAFT_LINES = (
    select(
        _LINES.id,
        _LINES.order_id,
        _LINES.item_id,
        _LINES.location_id,
        _LINES.line_no,
        _LINES.quantity,
        _pegged().label("pegged"),
    )
    .where(
        tuple_(_LINES.order_id, _LINES.item_id, _LINES.location_id).in_(
            bindparam("keys", expanding=True)
        )
    )
    .order_by(_LINES.order_id, _LINES.line_no)
)

# The suppliers' stock drafts, locked in supplier order (`lock_drafts`), built once likewise.
_DRAFTS_OF = (
    select(o.purchase_orders.c.id, o.purchase_orders.c.supplier_id)
    .where(
        o.purchase_orders.c.supplier_id.in_(bindparam("supplier_ids", expanding=True)),
        o.purchase_orders.c.status == PurchaseStatus.DRAFT.value,
        o.purchase_orders.c.drop_ship_customer.is_(None),
    )
    .order_by(o.purchase_orders.c.supplier_id)
    .with_for_update()
)


class DraftRows(Repository):
    def lock_draft(self, supplier_id: int) -> int:
        """The id of the supplier's one open stock draft, locked; created when there is none.

        A unique partial index allows one draft per supplier, so of two transactions that both
        find none, one inserts and the other, waiting on that insert, then finds and locks it.
        """
        return self.lock_drafts([supplier_id])[supplier_id]

    def lock_drafts(self, supplier_ids: Sequence[int]) -> dict[int, int]:
        """`lock_draft` of many suppliers: their drafts locked in supplier order in one
        statement; the missing ones created after (in supplier order), and locked then."""
        wanted = sorted(set(supplier_ids))
        ask = {"supplier_ids": wanted}
        found = {int(r.supplier_id): int(r.id) for r in self.db.execute(_DRAFTS_OF, ask)}
        if missing := [s for s in wanted if s not in found]:
            now = utc_now()
            self.db.execute(
                self._insert(o.purchase_orders)
                .values(
                    [
                        {
                            "supplier_id": supplier_id,
                            "status": PurchaseStatus.DRAFT.value,
                            "change_requested": False,
                            "ordered_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for supplier_id in missing
                    ]
                )
                .on_conflict_do_nothing()
            )
            found = {int(r.supplier_id): int(r.id) for r in self.db.execute(_DRAFTS_OF, ask)}
        return found

    def draft_line(self, order_id: int, item_id: int, location_id: int) -> DraftLine | None:
        """(id, line number, quantity, open pegged quantity) of the order's line for an item and
        location, or None; one query, for pulls adding to a draft."""
        key = (order_id, item_id, location_id)
        return self.draft_lines([key]).get(key)

    def draft_lines(self, keys: Sequence[DraftKey]) -> dict[DraftKey, DraftLine]:
        """`draft_line` of many (order, item, location) keys in one query; missing ones left
        out."""
        if not keys:
            return {}
        rows = self.db.execute(_DRAFT_LINES, {"keys": sorted(set(keys))})
        found: dict[DraftKey, DraftLine] = {}
        for r in rows:
            key = (int(r.order_id), int(r.item_id), int(r.location_id))
            found.setdefault(key, (int(r.id), int(r.line_no), r.quantity, Decimal(r.pegged)))
        return found

    def next_line_no(self, order_id: int) -> int:
        return self.next_line_nos([order_id])[order_id]

    def next_line_nos(self, order_ids: Sequence[int]) -> dict[int, int]:
        """The number the next line of each order gets, in one query."""
        lines = o.purchase_lines.c
        rows = self.db.execute(
            select(lines.order_id, func.max(lines.line_no))
            .where(lines.order_id.in_(sorted(set(order_ids))))
            .group_by(lines.order_id)
        ).all()
        last = {int(order_id): top for order_id, top in rows}
        return {order_id: int(last.get(order_id) or 0) + 1 for order_id in order_ids}

    def resize_line(self, line_id: int, quantity: Decimal, expected_date: date) -> None:
        self.resize_lines([(line_id, quantity, expected_date)])

    def resize_lines(self, sizes: Sequence[tuple[int, Decimal, date]]) -> None:
        """New (quantity, expected date) of many lines, by line id, in one statement."""
        if not sizes:
            return
        self.db.execute(
            o.purchase_lines.update()
            .where(o.purchase_lines.c.id == bindparam("line_id"))
            .values(quantity=bindparam("new_quantity"), expected_date=bindparam("new_expected")),
            [
                {"line_id": line_id, "new_quantity": quantity, "new_expected": expected}
                for line_id, quantity, expected in sizes
            ],
        )

    def add_line(self, order_id: int, line: PurchaseLine, item_id: int, place: Place) -> int:
        return self.add_lines([(order_id, line, item_id, place)])[0]

    def add_lines(self, lines: Sequence[tuple[int, PurchaseLine, int, Place]]) -> list[int]:
        """Insert lines (order id, line, item id, place) in one statement; their ids, in order,
        are also set on the lines."""
        ids = self._add_lines(
            o.purchase_lines,
            [
                {
                    "order_id": order_id,
                    "line_no": line.line_no,
                    "item_id": item_id,
                    "location_id": place.id,
                    "price": line.price,
                    **line_state(line),
                }
                for order_id, line, item_id, place in lines
            ],
        )
        for (_, line, _, _), line_id in zip(lines, ids, strict=True):
            line.id = line_id
        return ids
