"""Bills of materials in the database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.domain.orders import BomLine


class BomsRepository(Repository):
    def put(self, item_id: int, lead_time_days: int, lines: Sequence[tuple[int, BomLine]]) -> None:
        """Replace the item's bill of materials: (component id, line) in position order."""
        self.db.execute(o.bom_lines.delete().where(o.bom_lines.c.parent_id == item_id))
        self.db.execute(o.boms.delete().where(o.boms.c.item_id == item_id))
        self.db.execute(
            o.boms.insert().values(
                item_id=item_id, lead_time_days=lead_time_days, updated_at=utc_now()
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

    def get(self, item_id: int) -> tuple[int, list[tuple[int, BomLine]]] | None:
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

    def all(self) -> dict[str, list[BomLine]]:
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

    def lead_time(self, item_id: int) -> int | None:
        """The lead time of the item's bill of materials, or None without one."""
        days = self.db.execute(
            select(o.boms.c.lead_time_days).where(o.boms.c.item_id == item_id)
        ).scalar()
        return None if days is None else int(days)
