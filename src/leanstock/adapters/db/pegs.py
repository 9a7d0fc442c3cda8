"""Pegs: which supply is promised to which demand, in the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.domain.orders import DemandKind, Peg, PegStatus, SupplyKind, number

ZERO = Decimal(0)


class PegsRepository(Repository):
    def add(
        self,
        demand_kind: DemandKind,
        demand_id: int,
        supply_kind: SupplyKind,
        supply_id: int,
        reference: str,
        quantity: Decimal,
    ) -> int:
        return self._add(
            o.pegs,
            demand_kind=demand_kind.value,
            demand_id=demand_id,
            supply_kind=supply_kind.value,
            supply_id=supply_id,
            reference=reference,
            quantity=quantity,
            received=ZERO,
            status=PegStatus.OPEN.value,
            created_at=utc_now(),
        )

    def add_many(
        self, pegs: Sequence[tuple[DemandKind, int, SupplyKind, int, str, Decimal]]
    ) -> None:
        """`add` many (demand kind, demand id, supply kind, supply id, reference, quantity) in
        one statement; their ids are not read."""
        if not pegs:
            return
        now = utc_now()
        self.db.execute(
            o.pegs.insert().inline(),
            [
                {
                    "demand_kind": demand_kind.value,
                    "demand_id": demand_id,
                    "supply_kind": supply_kind.value,
                    "supply_id": supply_id,
                    "reference": reference,
                    "quantity": quantity,
                    "received": ZERO,
                    "status": PegStatus.OPEN.value,
                    "created_at": now,
                }
                for demand_kind, demand_id, supply_kind, supply_id, reference, quantity in pegs
            ],
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

    def of_demand(self, kind: DemandKind, ids: Sequence[int]) -> list[Peg]:
        if not ids:
            return []
        return self._pegs(o.pegs.c.demand_kind == kind.value, o.pegs.c.demand_id.in_(ids))

    def of_supply(self, kind: SupplyKind, ids: Sequence[int]) -> list[Peg]:
        if not ids:
            return []
        return self._pegs(o.pegs.c.supply_kind == kind.value, o.pegs.c.supply_id.in_(ids))

    def save(self, peg: Peg) -> None:
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
        if ids := by_kind.get(SupplyKind.PURCHASE):
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
            found.update({(SupplyKind.PURCHASE, int(i)): d for i, d in rows})
        for kind, table, column in (
            (SupplyKind.PRODUCTION, o.production_orders, o.production_orders.c.due_date),
            (SupplyKind.TRANSFER, o.transfer_orders, o.transfer_orders.c.expected_date),
        ):
            if ids := by_kind.get(kind):
                rows = self.db.execute(select(table.c.id, column).where(table.c.id.in_(ids)))
                found.update({(kind, int(i)): d for i, d in rows})
        return found

    def supply_numbers(self, pegs: Sequence[Peg]) -> dict[tuple[str, int], str]:
        """The order number people know each pegged supply by (PO-…/line for purchases)."""
        found: dict[tuple[str, int], str] = {}
        ids = [p.supply_id for p in pegs if p.supply_kind is SupplyKind.PURCHASE]
        if ids:
            rows = self.db.execute(
                select(
                    o.purchase_lines.c.id, o.purchase_lines.c.order_id, o.purchase_lines.c.line_no
                ).where(o.purchase_lines.c.id.in_(ids))
            )
            for line_id, order_no, line_no in rows:
                found[(SupplyKind.PURCHASE, int(line_id))] = (
                    f"{number('purchase', order_no)}/{line_no}"
                )
        for peg in pegs:
            if peg.supply_kind is not SupplyKind.PURCHASE:
                found[(peg.supply_kind, peg.supply_id)] = number(peg.supply_kind, peg.supply_id)
        return found
