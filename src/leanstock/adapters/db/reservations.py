"""Reservations in the database: the rows and the stock row's `reserved` counter, which
change together here only. A part of `LedgerRepository` (`adapters/db/ledger.py`), which
inherits it; it works in the repository's connection and visibility."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, RowMapping, bindparam, func, select

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import visible_locations
from leanstock.adapters.db.pipeline import pipelined
from leanstock.domain.access import Visibility
from leanstock.domain.errors import NotFound
from leanstock.domain.ledger import Reservation, ReservationStatus

ZERO = Decimal(0)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _reservation(row: RowMapping) -> Reservation:
    return Reservation(**{**row, "status": ReservationStatus(row["status"])})


# `_change_reserved`'s update, built once (it runs on every reservation and order confirmation).
_CHANGE_RESERVED = (
    t.stock.update()
    .where(
        t.stock.c.item_id == bindparam("key_item"),
        t.stock.c.location_id == bindparam("key_location"),
    )
    .values(reserved=t.stock.c.reserved + bindparam("delta", type_=t.stock.c.reserved.type))
)


class ReservationRows:
    db: Connection
    visibility: Visibility

    # Reservations: the rows and the stock row's `reserved` counter change together, here only.

    def reserve(
        self, item_id: int, location_id: int, reference: str, quantity: Decimal
    ) -> Reservation:
        """Promise `quantity` at an item-location to `reference`.

        The caller holds the item-location's stock row lock and has checked that it is
        available (`domain.ledger.available`).
        """
        now = utc_now()
        new_id = self.db.execute(
            t.reservations.insert().values(
                item_id=item_id,
                location_id=location_id,
                reference=reference,
                quantity=quantity,
                open_quantity=quantity,
                status=ReservationStatus.OPEN.value,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key
        assert new_id is not None
        self._change_reserved({(item_id, location_id): quantity})
        return Reservation(
            int(new_id[0]),
            item_id,
            location_id,
            reference,
            quantity,
            quantity,
            ReservationStatus.OPEN,
            now,
            now,
        )

    def reserve_many(self, promises: Sequence[tuple[int, int, str, Decimal]]) -> None:
        """`reserve` many (item id, location id, reference, quantity) at once: the rows in one
        multi-row INSERT, the counters in one UPDATE, sent together on PostgreSQL.

        The caller holds the stock rows' locks and has checked each quantity is available,
        counting the promises before it in `promises` (`services.serving`)."""
        if not promises:
            return
        now = utc_now()
        deltas: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        for item_id, location_id, _, quantity in promises:
            deltas[(item_id, location_id)] += quantity
        with pipelined(self.db):
            self.db.execute(
                t.reservations.insert().inline(),
                [
                    {
                        "item_id": item_id,
                        "location_id": location_id,
                        "reference": reference,
                        "quantity": quantity,
                        "open_quantity": quantity,
                        "status": ReservationStatus.OPEN.value,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for item_id, location_id, reference, quantity in promises
                ],
            )
            self._change_reserved(deltas)

    def release(self, takes: Sequence[tuple[Reservation, Decimal]]) -> list[Reservation]:
        """Give back (reservation, quantity) pairs to available stock; returns them after."""
        return self._settle(takes, ReservationStatus.RELEASED)

    def consume(self, takes: Sequence[tuple[Reservation, Decimal]]) -> list[Reservation]:
        """Use up (reservation, quantity) pairs: the stock they held is being moved out."""
        return self._settle(takes, ReservationStatus.CONSUMED)

    def _settle(
        self, takes: Sequence[tuple[Reservation, Decimal]], closing: ReservationStatus
    ) -> list[Reservation]:
        after = [(r.less(q, closing), q) for r, q in takes if q > 0]
        if not after:
            return []
        now = utc_now()
        self.db.execute(
            t.reservations.update()
            .where(t.reservations.c.id == bindparam("reservation_id"))
            .values(
                open_quantity=bindparam("open_quantity"),
                status=bindparam("new_status"),
                updated_at=now,
            ),
            [
                {
                    "reservation_id": r.id,
                    "open_quantity": r.open_quantity,
                    "new_status": r.status.value,
                }
                for r, _ in after
            ],
        )
        deltas: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        for r, q in after:
            deltas[(r.item_id, r.location_id)] -= q
        self._change_reserved(deltas)
        return [r for r, _ in after]

    def _change_reserved(self, deltas: dict[tuple[int, int], Decimal]) -> None:
        """Add each delta to its stock row's `reserved`, in (item, location) order, in one
        statement (executed once per row by the driver)."""
        if not deltas:
            return
        self.db.execute(
            _CHANGE_RESERVED,
            [
                {"key_item": item_id, "key_location": location_id, "delta": delta}
                for (item_id, location_id), delta in sorted(deltas.items())
            ],
        )

    def reservation(self, reservation_id: int, lock: bool = False) -> Reservation:
        query = select(t.reservations).where(t.reservations.c.id == reservation_id)
        if lock:
            query = query.with_for_update()
        row = self.db.execute(query).mappings().first()
        if row is None:
            raise NotFound("reservation", reservation_id, "reservation")
        return _reservation(row)

    def open_reservations(self, reference: str) -> list[Reservation]:
        """The open reservations made for `reference`, oldest first."""
        rows = self.db.execute(
            select(t.reservations)
            .where(
                t.reservations.c.reference == reference,
                t.reservations.c.status == ReservationStatus.OPEN.value,
            )
            .order_by(t.reservations.c.id)
        ).mappings()
        return [_reservation(r) for r in rows]

    def reservations(
        self,
        reference: str | None = None,
        item_id: int | None = None,
        location_id: int | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Reservation], int]:
        query = select(t.reservations)
        for column, value in (
            (t.reservations.c.reference, reference),
            (t.reservations.c.item_id, item_id),
            (t.reservations.c.location_id, location_id),
            (t.reservations.c.status, status),
        ):
            if value is not None:
                query = query.where(column == value)
        if (visible := visible_locations(self.visibility)) is not None:
            query = query.where(t.reservations.c.location_id.in_(visible))
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(
            query.order_by(t.reservations.c.id).limit(limit).offset(offset)
        ).mappings()
        return [_reservation(r) for r in rows], int(total)

    def reserved_for(self, references: Sequence[str]) -> dict[str, Decimal]:
        """Open reserved quantity per reservation reference."""
        if not references:
            return {}
        rows = self.db.execute(
            select(t.reservations.c.reference, func.sum(t.reservations.c.open_quantity))
            .where(
                t.reservations.c.reference.in_(references),
                t.reservations.c.status == ReservationStatus.OPEN.value,
            )
            .group_by(t.reservations.c.reference)
        ).all()
        return {r[0]: r[1] for r in rows}
