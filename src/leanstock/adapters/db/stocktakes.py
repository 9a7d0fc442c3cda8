"""Stocktakes and their count lines in the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import Repository
from leanstock.domain.errors import NotFound
from leanstock.domain.stocktake import CountLine, Stocktake, StocktakeStatus

STOCKTAKE_PREFIX = "ST"


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class StocktakesRepository(Repository):
    def add(self, stocktake: Stocktake, location_id: int) -> int:
        stocktake.id = self._add(
            o.stocktakes,
            location_id=location_id,
            category=stocktake.category,
            freeze=stocktake.freeze,
            blind=stocktake.blind,
            status=stocktake.status.value,
            reference=stocktake.reference,
            started_at=stocktake.started_at,
            started_by=stocktake.started_by,
        )
        return stocktake.id

    def lock_location(self, location_id: int) -> None:
        """Queue the transactions that open a count at one location, so two cannot both find
        none open (SQLite's writers queue already, on BEGIN IMMEDIATE)."""
        query = select(t.locations.c.id).where(t.locations.c.id == location_id)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        self.db.execute(query)

    def open_at(self, location_id: int) -> list[Stocktake]:
        """The open stocktakes at a location, without their lines."""
        rows = self.db.execute(
            self._select()
            .where(
                o.stocktakes.c.location_id == location_id,
                o.stocktakes.c.status == StocktakeStatus.OPEN.value,
            )
            .order_by(o.stocktakes.c.id)
        ).mappings()
        return [self._stocktake(r) for r in rows]

    def book(
        self, location_id: int, category: str | None
    ) -> list[tuple[int, str, str | None, Decimal]]:
        """What the ledger holds at a location now, per item and lot (item id, SKU, lot,
        quantity), of one category or all; rows at zero left out."""
        b, i = t.balances.c, t.items.c
        query = (
            select(b.item_id, i.sku, b.lot, b.quantity)
            .join(t.items, i.id == b.item_id)
            .where(b.location_id == location_id, b.quantity != 0)
            .order_by(i.sku, b.lot)
        )
        if category is not None:
            query = query.where(i.category == category)
        return [(int(r[0]), str(r[1]), r[2] or None, Decimal(r[3])) for r in self.db.execute(query)]

    def books_at(
        self, location_id: int, lines: Sequence[tuple[int, str | None, datetime]]
    ) -> list[tuple[Decimal, Decimal]]:
        """Per (item id, lot, moment): what the location held of it then, and now, in two
        queries for the whole count. Then = now less the moves after the moment (as
        `ValuationRepository.balance_path` reads one); lot None is the item's whole balance.
        Read under the stock rows' locks."""
        if not lines:
            return []
        item_ids = sorted({item_id for item_id, _, _ in lines})
        since = min(at for _, _, at in lines)
        b, m = t.balances.c, t.moves.c
        now: dict[tuple[int, str], Decimal] = {}
        for item_id, lot, quantity in self.db.execute(
            select(b.item_id, b.lot, b.quantity).where(
                b.location_id == location_id, b.item_id.in_(item_ids)
            )
        ):
            now[(int(item_id), lot)] = Decimal(quantity)
        delta = case((m.target_id == location_id, m.quantity), else_=-m.quantity)
        later: dict[int, list[tuple[str | None, datetime, Decimal]]] = {}
        for item_id, lot, at, change in self.db.execute(
            select(m.item_id, m.lot, m.occurred_at, delta).where(
                m.item_id.in_(item_ids),
                or_(m.source_id == location_id, m.target_id == location_id),
                m.occurred_at > since,
            )
        ):
            later.setdefault(int(item_id), []).append(
                (lot or None, _utc(at) or at, Decimal(change))
            )
        found = []
        for item_id, lot, at in lines:
            if lot is None:
                held = sum((q for (i, _), q in now.items() if i == item_id), Decimal(0))
            else:
                held = now.get((item_id, lot), Decimal(0))
            moved = sum(
                (
                    change
                    for moved_lot, when, change in later.get(item_id, [])
                    if when > at and (lot is None or moved_lot == lot)
                ),
                Decimal(0),
            )
            found.append((held - moved, held))
        return found

    def add_lines(self, stocktake_id: int, lines: Sequence[CountLine]) -> None:
        rows = [self._line_row(stocktake_id, line) for line in lines]
        if rows:
            self.db.execute(o.stocktake_lines.insert(), rows)

    def put_lines(self, stocktake_id: int, lines: Sequence[CountLine]) -> None:
        """Insert the new lines, and write the counts over those there, a statement each."""
        new = [x for x in lines if x.id is None]
        old = [x for x in lines if x.id is not None]
        ids = self._add_many(o.stocktake_lines, [self._line_row(stocktake_id, x) for x in new])
        for line, line_id in zip(new, ids, strict=True):
            line.id = line_id
        kept = [
            {
                "line_id": x.id,
                "counted": x.counted,
                "counted_at": x.counted_at,
                "counted_by": x.counted_by,
            }
            for x in old
        ]
        if kept:
            self.db.execute(
                o.stocktake_lines.update()
                .where(o.stocktake_lines.c.id == bindparam("line_id"))
                .values(
                    counted=bindparam("counted"),
                    counted_at=bindparam("counted_at"),
                    counted_by=bindparam("counted_by"),
                ),
                kept,
            )

    def get(self, stocktake_id: int, lock: bool = False) -> Stocktake:
        query = self._select().where(o.stocktakes.c.id == stocktake_id)
        if lock:
            query = query.with_for_update(of=o.stocktakes)
        row = self.db.execute(query).mappings().first()
        if row is None or not self.visibility.sees_location(row["location"]):
            raise NotFound("stocktake", f"{STOCKTAKE_PREFIX}-{stocktake_id:06d}", "stocktake")
        stocktake = self._stocktake(row)
        sl, i = o.stocktake_lines.c, t.items.c
        lines = self.db.execute(
            select(o.stocktake_lines, i.sku)
            .join(t.items, i.id == sl.item_id)
            .where(sl.stocktake_id == stocktake_id)
            .order_by(i.sku, sl.lot)
        ).mappings()
        stocktake.lines = [
            CountLine(
                sku=r["sku"],
                lot=r["lot"] or None,
                expected=r["expected"],
                counted=r["counted"],
                counted_at=_utc(r["counted_at"]),
                counted_by=r["counted_by"],
                book=r["book"],
                difference=r["difference"],
                item_id=int(r["item_id"]),
                id=int(r["id"]),
            )
            for r in lines
        ]
        return stocktake

    def save(self, stocktake: Stocktake) -> None:
        """The stocktake's status, and each line's book and difference once posted."""
        self.db.execute(
            o.stocktakes.update()
            .where(o.stocktakes.c.id == stocktake.id)
            .values(
                status=stocktake.status.value,
                posted_at=stocktake.posted_at,
                operation_id=stocktake.operation_id,
            )
        )
        settled = [
            {"line_id": x.id, "book": x.book, "difference": x.difference}
            for x in stocktake.lines
            if x.id is not None and x.book is not None
        ]
        if settled:
            self.db.execute(
                o.stocktake_lines.update()
                .where(o.stocktake_lines.c.id == bindparam("line_id"))
                .values(book=bindparam("book"), difference=bindparam("difference")),
                settled,
            )

    def page(
        self,
        status: str | None = None,
        location: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Stocktake], int]:
        s = o.stocktakes.c
        where = []
        if status is not None:
            where.append(s.status == status)
        if location is not None:
            where.append(t.locations.c.code == location)
        visible = self._visible_locations()
        if visible is not None:
            where.append(s.location_id.in_(visible))
        query = self._select().where(*where)
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(query.order_by(s.id.desc()).limit(limit).offset(offset)).mappings()
        return [self._stocktake(r) for r in rows], int(total)

    @staticmethod
    def _select() -> Any:
        return select(o.stocktakes, t.locations.c.code.label("location")).join(
            t.locations, t.locations.c.id == o.stocktakes.c.location_id
        )

    @staticmethod
    def _stocktake(r: Any) -> Stocktake:
        return Stocktake(
            location=r["location"],
            category=r["category"],
            freeze=bool(r["freeze"]),
            blind=bool(r["blind"]),
            started_at=_utc(r["started_at"]) or datetime.now(UTC),
            started_by=r["started_by"],
            status=StocktakeStatus(r["status"]),
            reference=r["reference"],
            posted_at=_utc(r["posted_at"]),
            operation_id=r["operation_id"],
            id=int(r["id"]),
        )

    @staticmethod
    def _line_row(stocktake_id: int, line: CountLine) -> dict[str, Any]:
        return {
            "stocktake_id": stocktake_id,
            "item_id": line.item_id,
            "lot": line.lot or "",
            "expected": line.expected,
            "counted": line.counted,
            "counted_at": line.counted_at,
            "counted_by": line.counted_by,
        }
