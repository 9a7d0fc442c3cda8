"""Serial numbers in the database: where each serial is, and which operations moved it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from leanstock.adapters.db import tables as t
from leanstock.domain.access import EVERYTHING, Visibility
from leanstock.domain.errors import Conflict
from leanstock.domain.serials import SerialAt, SerialMove


class SerialsRepository:
    def __init__(self, connection: Connection, visibility: Visibility = EVERYTHING) -> None:
        self.db = connection
        self.visibility = visibility

    def _where(self) -> Any:
        return select(t.serials.c.serial, t.serials.c.lot, t.locations.c.code).join(
            t.locations, t.locations.c.id == t.serials.c.location_id
        )

    def where(self, item_id: int, serials: Sequence[str]) -> dict[str, SerialAt]:
        """Where the named serials of an item are now, their rows locked (PostgreSQL) until
        the transaction ends, so two moves of one serial run one after the other and the
        second sees where the first took it. A serial never seen is absent."""
        found: dict[str, SerialAt] = {}
        names = sorted(set(serials))
        for start in range(0, len(names), 500):
            query = (
                self._where()
                .where(
                    t.serials.c.item_id == item_id,
                    t.serials.c.serial.in_(names[start : start + 500]),
                )
                .order_by(t.serials.c.serial)
                .with_for_update(of=t.serials)
            )
            for serial, lot, code in self.db.execute(query):
                found[serial] = SerialAt(serial, lot, code)
        return found

    def move(self, operation_id: int, moves: Sequence[SerialMove]) -> None:
        """Record that `operation_id` moved these serials: a new serial is created where it
        arrives; a known one is moved only from where it is (another transaction that moved it
        first makes this one fail and nothing of it is kept)."""
        now = datetime.now(UTC)
        history: list[dict[str, Any]] = []
        for m in sorted(moves, key=lambda m: (m.item_id, m.serial)):
            key = and_(t.serials.c.item_id == m.item_id, t.serials.c.serial == m.serial)
            moved = self.db.execute(
                update(t.serials)
                .where(key, t.serials.c.location_id == m.source.id)
                .values(location_id=m.target.id, lot=m.lot)
                .returning(t.serials.c.id)
            ).first()
            if moved is None:
                if self.db.execute(select(t.serials.c.id).where(key)).first() is not None:
                    raise Conflict(
                        f"Serial {m.serial} moved while this operation ran; nothing was "
                        "changed. Try again.",
                        "serials",
                    )
                created = self.db.execute(
                    t.serials.insert()
                    .values(
                        item_id=m.item_id,
                        serial=m.serial,
                        lot=m.lot,
                        location_id=m.target.id,
                        created_at=now,
                    )
                    .returning(t.serials.c.id)
                ).first()
                assert created is not None
                serial_id = int(created[0])
            else:
                serial_id = int(moved[0])
            history.append(
                {
                    "serial_id": serial_id,
                    "operation_id": operation_id,
                    "source_id": m.source.id,
                    "target_id": m.target.id,
                }
            )
        if history:
            self.db.execute(t.serial_moves.insert(), history)

    def at(self, item_id: int, location_id: int, lot: str | None = None) -> list[SerialAt]:
        """The serials of an item at one location (of one lot, when named), by serial."""
        query = self._where().where(
            t.serials.c.item_id == item_id, t.serials.c.location_id == location_id
        )
        if lot is not None:
            query = query.where(t.serials.c.lot == lot)
        rows = self.db.execute(query.order_by(t.serials.c.serial))
        return [SerialAt(serial, lot, code) for serial, lot, code in rows]

    def of_item(
        self, item_id: int, location: str | None, limit: int, offset: int
    ) -> tuple[list[SerialAt], int]:
        """A page of an item's serials (at one location, when named), by serial, narrowed to
        the locations the principal sees; and how many there are."""
        query = self._where().where(t.serials.c.item_id == item_id)
        if location is not None:
            query = query.where(t.locations.c.code == location)
        if self.visibility.locations is not None:
            query = query.where(t.locations.c.code.in_(sorted(self.visibility.locations)))
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(query.order_by(t.serials.c.serial).limit(limit).offset(offset))
        return [SerialAt(serial, lot, code) for serial, lot, code in rows], total

    def history(self, item_id: int, serial: str) -> list[dict[str, Any]]:
        """Every move of one serial, oldest first: the operation's kind, reference, partner
        (the supplier it came from, the customer it went to) and its two locations."""
        source = t.locations.alias("source")
        target = t.locations.alias("target")
        query = (
            select(
                t.operations.c.id.label("operation_id"),
                t.operations.c.kind,
                source.c.code.label("source"),
                target.c.code.label("target"),
                t.operations.c.occurred_at,
                t.operations.c.reference,
                t.operations.c.partner,
            )
            .select_from(t.serial_moves)
            .join(t.serials, t.serials.c.id == t.serial_moves.c.serial_id)
            .join(t.operations, t.operations.c.id == t.serial_moves.c.operation_id)
            .join(source, source.c.id == t.serial_moves.c.source_id)
            .join(target, target.c.id == t.serial_moves.c.target_id)
            .where(t.serials.c.item_id == item_id, t.serials.c.serial == serial)
            .order_by(t.operations.c.occurred_at, t.serial_moves.c.id)
        )
        return [dict(r) for r in self.db.execute(query).mappings()]

    def moved_by(
        self, operation_ids: Sequence[int], item_id: int, lot: str | None = None
    ) -> dict[int, list[str]]:
        """The serials of an item (of one lot, when named) each operation moved: the serials
        a customer received."""
        found: dict[int, list[str]] = {}
        if not operation_ids:
            return found
        query = (
            select(t.serial_moves.c.operation_id, t.serials.c.serial)
            .join(t.serials, t.serials.c.id == t.serial_moves.c.serial_id)
            .where(
                t.serial_moves.c.operation_id.in_(sorted(set(operation_ids))),
                t.serials.c.item_id == item_id,
            )
            .order_by(t.serials.c.serial)
        )
        if lot is not None:
            query = query.where(t.serials.c.lot == lot)
        for operation_id, serial in self.db.execute(query):
            found.setdefault(int(operation_id), []).append(serial)
        return found

    def carried(self, reference: str, item_id: int, source_id: int, target_id: int) -> list[str]:
        """The serials of an item that operations under `reference` moved from one location
        to another (a transfer order's serials into transit), by serial."""
        query = (
            select(t.serials.c.serial)
            .distinct()
            .select_from(t.serial_moves)
            .join(t.serials, t.serials.c.id == t.serial_moves.c.serial_id)
            .join(t.operations, t.operations.c.id == t.serial_moves.c.operation_id)
            .where(
                t.operations.c.reference == reference,
                t.serials.c.item_id == item_id,
                t.serial_moves.c.source_id == source_id,
                t.serial_moves.c.target_id == target_id,
            )
            .order_by(t.serials.c.serial)
        )
        return [serial for (serial,) in self.db.execute(query)]

    def count_by_place(self) -> dict[tuple[int, int], int]:
        """How many serials of each item are at each location (the ledger check compares it
        with the balances)."""
        query = select(t.serials.c.item_id, t.serials.c.location_id, func.count()).group_by(
            t.serials.c.item_id, t.serials.c.location_id
        )
        return {(int(i), int(loc)): int(n) for i, loc, n in self.db.execute(query)}
