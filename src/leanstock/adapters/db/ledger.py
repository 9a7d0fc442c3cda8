"""The stock ledger in the database: moves, balances, lots and stock reads (reservations:
`adapters/db/reservations.py`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, bindparam, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from leanstock.adapters.db import tables as t
from leanstock.adapters.db.one_step import Posted, post_document
from leanstock.adapters.db.pipeline import pipelined
from leanstock.adapters.db.reservations import ReservationRows, utc_now
from leanstock.domain.access import EVERYTHING, Visibility
from leanstock.domain.catalog import PHYSICAL_KINDS
from leanstock.domain.ledger import (
    KnownLot,
    LotStock,
    OneStepDocument,
    OperationRecord,
    Place,
    Posting,
    StockLevel,
)

ZERO = Decimal(0)
K = TypeVar("K")
# The balance upserts, built once per dialect and table (`LedgerRepository._upsert`).
_UPSERTS: dict[tuple[str, str], Any] = {}
PHYSICAL = sorted(kind.value for kind in PHYSICAL_KINDS)


# Balance changes by (item, location, lot) and by (item, location).
_Deltas = tuple[dict[tuple[int, int, str], Decimal], dict[tuple[int, int], Decimal]]


def _deltas(
    postings: Iterable[Posting],
) -> tuple[dict[tuple[int, int, str], Decimal], dict[tuple[int, int], Decimal], dict[int, bool]]:
    """What postings add to the per-lot balances and the per-location stock, and which of
    the locations they touch may go below zero."""
    lot_delta: dict[tuple[int, int, str], Decimal] = defaultdict(Decimal)
    location_delta: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    negative: dict[int, bool] = {}
    for p in postings:
        for place, sign in ((p.source, -1), (p.target, 1)):
            lot_delta[(p.item_id, place.id, p.lot or "")] += sign * p.quantity
            location_delta[(p.item_id, place.id)] += sign * p.quantity
            negative[place.id] = place.may_go_negative
    return lot_delta, location_delta, negative


def _add(into: dict[K, Decimal], deltas: dict[K, Decimal]) -> None:
    for key, delta in deltas.items():
        into[key] = into.get(key, ZERO) + delta


# `lock_stocks`' select, built once: every order confirmation and stock document sends it, and
# building it and its cache key anew cost about 0.1 ms of CPU a call (docs/performance.md).
_LOCK_STOCKS = (
    select(t.stock.c.item_id, t.stock.c.location_id, t.stock.c.on_hand, t.stock.c.reserved)
    .where(tuple_(t.stock.c.item_id, t.stock.c.location_id).in_(bindparam("keys", expanding=True)))
    .order_by(t.stock.c.item_id, t.stock.c.location_id)
    .with_for_update()
)


class LedgerRepository(ReservationRows):
    def __init__(self, connection: Connection, visibility: Visibility = EVERYTHING) -> None:
        self.db = connection
        self.dialect = connection.dialect.name
        self.visibility = visibility
        # Virtual locations whose balance changes wait for `settle` (a batch of documents).
        self._deferred_places: frozenset[int] = frozenset()
        self._kept: _Deltas = ({}, {})
        self._pending: _Deltas = ({}, {})

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # Locks and reads inside a transaction

    def lock_stock(self, item_id: int, place: Place) -> StockLevel:
        """Lock the item-location's stock row for this transaction and read it.

        The row is created first when missing, so even the first receipt and a concurrent
        shipment queue on the same lock. SQLite needs no row lock: BEGIN IMMEDIATE already
        gives the transaction the database's single write lock.
        """
        query = (
            select(t.stock.c.on_hand, t.stock.c.reserved)
            .where(t.stock.c.item_id == item_id, t.stock.c.location_id == place.id)
            .with_for_update()
        )
        row = self.db.execute(query).first()
        if row is None:
            self.db.execute(
                self._insert(t.stock)
                .values(
                    item_id=item_id,
                    location_id=place.id,
                    on_hand=ZERO,
                    reserved=ZERO,
                    may_go_negative=place.may_go_negative,
                )
                .on_conflict_do_nothing()
            )
            row = self.db.execute(query).one()
        return StockLevel(row.on_hand, row.reserved)

    def lock_stocks(
        self, rows: Sequence[tuple[int, Place]], create_first: bool = False
    ) -> dict[tuple[int, int], StockLevel]:
        """Lock many item-location rows, in (item, location) order, in one round trip.

        PostgreSQL locks the rows of `SELECT ... ORDER BY ... FOR UPDATE` as the sorted rows
        come out, so every caller takes them in the same order. Missing rows are created
        after (a second round trip, only then); with `create_first` (a batch that holds its
        rows for longer) every missing row is created first, so no new row is locked after a
        larger existing one, which two such transactions could otherwise do in a circle.
        """
        places = {(item_id, place.id): place for item_id, place in rows}
        keys = sorted(places)
        if create_first and keys:
            self._create_stock_rows(places, keys)
        found = {
            (r.item_id, r.location_id): r for r in self.db.execute(_LOCK_STOCKS, {"keys": keys})
        }
        missing = [key for key in keys if key not in found]
        if missing:
            self._create_stock_rows(places, missing)
            found = {
                (r.item_id, r.location_id): r for r in self.db.execute(_LOCK_STOCKS, {"keys": keys})
            }
        return {key: StockLevel(row.on_hand, row.reserved) for key, row in found.items()}

    def _create_stock_rows(
        self, places: dict[tuple[int, int], Place], keys: Sequence[tuple[int, int]]
    ) -> None:
        """Empty stock rows for the keys that have none (in key order); existing rows are
        left alone and unlocked."""
        for start in range(0, len(keys), 500):
            self.db.execute(
                self._insert(t.stock)
                .values(
                    [
                        {
                            "item_id": item_id,
                            "location_id": location_id,
                            "on_hand": ZERO,
                            "reserved": ZERO,
                            "may_go_negative": places[(item_id, location_id)].may_go_negative,
                        }
                        for item_id, location_id in keys[start : start + 500]
                    ]
                )
                .on_conflict_do_nothing()
            )

    def lots_of(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[LotStock]]:
        """What each lot holds, for many item-locations at once (read after locking them)."""
        rows = self.db.execute(
            select(
                t.balances.c.item_id,
                t.balances.c.location_id,
                t.balances.c.lot,
                t.balances.c.quantity,
                t.lots.c.expires_on,
            )
            .select_from(t.balances)
            .outerjoin(
                t.lots,
                and_(t.lots.c.item_id == t.balances.c.item_id, t.lots.c.code == t.balances.c.lot),
            )
            .where(tuple_(t.balances.c.item_id, t.balances.c.location_id).in_(sorted(set(keys))))
        )
        found: dict[tuple[int, int], list[LotStock]] = {key: [] for key in keys}
        for r in rows:
            found[(r.item_id, r.location_id)].append(
                LotStock(r.lot or None, r.quantity, r.expires_on)
            )
        return found

    def lock_stock_and_lots(self, item_id: int, place: Place) -> tuple[StockLevel, list[LotStock]]:
        """Lock the item-location, then read what each lot holds.

        Two statements on purpose: under READ COMMITTED, a statement that waited for a row lock
        re-reads only the locked row; rows it joined would still come from the snapshot taken
        before the wait, so a join here would let two shipments pick the same lot.
        """
        level = self.lock_stock(item_id, place)
        return level, self.lot_stock(item_id, place.id)

    def lot_stock(self, item_id: int, location_id: int) -> list[LotStock]:
        rows = self.db.execute(
            select(t.balances.c.lot, t.balances.c.quantity, t.lots.c.expires_on)
            .select_from(t.balances)
            .outerjoin(
                t.lots,
                and_(t.lots.c.item_id == t.balances.c.item_id, t.lots.c.code == t.balances.c.lot),
            )
            .where(t.balances.c.item_id == item_id, t.balances.c.location_id == location_id)
        ).all()
        return [LotStock(row.lot or None, row.quantity, row.expires_on) for row in rows]

    def expired_stock(self, today: date) -> list[tuple[int, int, str, Decimal]]:
        """(item id, location id, lot, quantity) of every lot past its expiry date that a
        physical location still holds, in (item, location, lot) order."""
        rows = self.db.execute(
            select(
                t.balances.c.item_id,
                t.balances.c.location_id,
                t.balances.c.lot,
                t.balances.c.quantity,
            )
            .join(
                t.lots,
                and_(t.lots.c.item_id == t.balances.c.item_id, t.lots.c.code == t.balances.c.lot),
            )
            .join(t.locations, t.locations.c.id == t.balances.c.location_id)
            .where(
                t.lots.c.expires_on < today,
                t.balances.c.quantity > 0,
                t.locations.c.kind.in_(PHYSICAL),
            )
            .order_by(t.balances.c.item_id, t.balances.c.location_id, t.balances.c.lot)
        )
        return [(r.item_id, r.location_id, r.lot, r.quantity) for r in rows]

    def lot(self, item_id: int, code: str) -> KnownLot | None:
        """The lot `code` of an item as registered, or None when it is new."""
        row = self.db.execute(
            select(t.lots.c.expires_on).where(t.lots.c.item_id == item_id, t.lots.c.code == code)
        ).first()
        return None if row is None else KnownLot(code, row.expires_on)

    def add_lot(self, item_id: int, code: str, expires_on: date | None) -> None:
        self.db.execute(
            self._insert(t.lots)
            .values(item_id=item_id, code=code, expires_on=expires_on, created_at=utc_now())
            .on_conflict_do_nothing()
        )

    # Writes

    def post(
        self,
        kind: str,
        postings: Sequence[Posting],
        occurred_at: datetime,
        reference: str | None = None,
        partner: str | None = None,
        reason: str | None = None,
        note: str | None = None,
    ) -> int:
        """Record one operation and its moves, and change the balances in the same transaction.

        Balances are changed with atomic upserts (`quantity = quantity + delta`), in key order,
        so concurrent postings cannot lose an update or deadlock on each other's rows.
        """
        recorded_at = utc_now()
        operation = t.operations.insert().values(
            kind=kind,
            reference=reference,
            partner=partner,
            reason=reason,
            note=note,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
        )
        operation_id = self.db.execute(operation).inserted_primary_key
        assert operation_id is not None
        op_id = int(operation_id[0])
        rows = [
            {
                "operation_id": op_id,
                "item_id": p.item_id,
                "lot": p.lot,
                "source_id": p.source.id,
                "target_id": p.target.id,
                "quantity": p.quantity,
                "kind": kind,
                "occurred_at": occurred_at,
                "unit_cost": p.unit_cost,
                "conversion_cost": p.conversion_cost,
            }
            for p in postings
        ]
        # One statement compiled once (executemany: a multi-row VALUES or a pipeline, one
        # round trip); a `.values(rows)` statement would be compiled anew per row count. The
        # moves and the balance changes go out together (one round trip on PostgreSQL).
        with pipelined(self.db):
            self.db.execute(t.moves.insert().inline(), rows)
            self.apply(postings)
        return op_id

    def posts_in_one_step(self) -> bool:
        """Whether `post_document` can post a document in one round trip: on PostgreSQL, and
        not inside a batch that defers the virtual locations' balances (`defer`), which the
        function would write at once."""
        return self.dialect == "postgresql" and not self._deferred_places

    def post_document(self, document: OneStepDocument) -> Posted | None:
        """Lock, check, pick and post a document in one call (`adapters.db.one_step`); None
        when the database declined it, having written nothing, or cannot (SQLite)."""
        return post_document(self.db, document) if self.posts_in_one_step() else None

    def apply(self, postings: Iterable[Posting]) -> None:
        """Add the postings' quantities to the per-lot balances and the per-location stock
        (those of deferred virtual locations wait for `settle`)."""
        lots, levels, negative = _deltas(postings)
        if self._deferred_places:
            deferred = self._deferred_places
            _add(self._pending[0], {k: lots.pop(k) for k in list(lots) if k[1] in deferred})
            _add(self._pending[1], {k: levels.pop(k) for k in list(levels) if k[1] in deferred})
        for statement, rows in self._changes(lots, levels, negative):
            self.db.execute(statement, rows)

    def defer(self, place_ids: Iterable[int]) -> None:
        """Hold back the balance changes of these virtual locations until `settle`.

        A batch of documents in one transaction would otherwise take the rows of, say, the
        customer location item by item in document order, and two batches on overlapping items
        could wait for each other in a circle. Nothing in a stock document reads a virtual
        location's balance, and `settle` writes them all at the end in key order, as a single
        document does. `keep_deferred` (a document's savepoint released) keeps what is pending;
        `drop_deferred` (rolled back) forgets it.
        """
        self._deferred_places = frozenset(place_ids)

    def keep_deferred(self) -> None:
        _add(self._kept[0], self._pending[0])
        _add(self._kept[1], self._pending[1])
        self.drop_deferred()

    def drop_deferred(self) -> None:
        for pending in self._pending:
            pending.clear()

    def settle(self) -> None:
        """Write the deferred balance changes (see `defer`)."""
        self.drop_deferred()
        lots, levels = self._kept
        self._kept = ({}, {})
        virtual = dict.fromkeys(self._deferred_places, True)
        for statement, rows in self._changes(lots, levels, virtual):
            self.db.execute(statement, rows)

    def _changes(
        self,
        lot_delta: dict[tuple[int, int, str], Decimal],
        location_delta: dict[tuple[int, int], Decimal],
        negative: dict[int, bool],
    ) -> list[tuple[Any, list[dict[str, Any]]]]:
        """The upserts that add postings to the balances and the stock, `column += delta`,
        each a statement and its rows (executemany: the statement is compiled once).

        Databases check CHECK constraints on the row an upsert proposes before they find the
        conflict, so a decrement proposes its row as allowed to go negative; only the quantity
        is updated on conflict, so the existing row keeps its own flag and its constraint holds.
        Decrements of locations that must stay non-negative always hit an existing row: the
        service picked them from the balances it read under the item-location's lock. Rows go
        in key order, so concurrent postings cannot deadlock on each other's rows.
        """
        balances: list[dict[str, Any]] = [
            {"item_id": item, "location_id": location, "lot": lot, "quantity": delta}
            for (item, location, lot), delta in sorted(lot_delta.items())
            if delta != 0
        ]
        levels: list[dict[str, Any]] = [
            {"item_id": item, "location_id": location, "on_hand": delta, "reserved": ZERO}
            for (item, location), delta in sorted(location_delta.items())
            if delta != 0
        ]
        statements = []
        for table, keys, column_name, rows in (
            (t.balances, ["item_id", "location_id", "lot"], "quantity", balances),
            (t.stock, ["item_id", "location_id"], "on_hand", levels),
        ):
            if not rows:
                continue
            chunk = [
                {**r, "may_go_negative": negative[r["location_id"]] or r[column_name] < 0}
                for r in rows
            ]
            statements.append((self._upsert(table, keys, column_name), chunk))
        return statements

    def _upsert(self, table: Any, keys: list[str], column_name: str) -> Any:
        """`INSERT ... ON CONFLICT (keys) DO UPDATE SET column = column + excluded.column`."""
        key = (self.dialect, table.name)
        if key not in _UPSERTS:
            insert = self._insert(table)
            _UPSERTS[key] = insert.inline().on_conflict_do_update(
                index_elements=keys,
                set_={column_name: table.c[column_name] + insert.excluded[column_name]},
            )
        return _UPSERTS[key]

    def free_stock(self, item_id: int, location_id: int | None = None) -> Decimal:
        """on hand − reserved, without a lock, at one location or summed over warehouses and
        stores: a quote's estimate, which a confirmation re-checks under the lock."""
        free = func.coalesce(func.sum(t.stock.c.on_hand - t.stock.c.reserved), ZERO)
        query = (
            select(free)
            .select_from(t.stock)
            .join(t.locations, t.locations.c.id == t.stock.c.location_id)
            .where(t.stock.c.item_id == item_id, t.stock.c.on_hand > t.stock.c.reserved)
        )
        if location_id is not None:
            query = query.where(t.stock.c.location_id == location_id)
        else:
            query = query.where(t.locations.c.kind.in_(["warehouse", "store"]))
        return Decimal(self.db.execute(query).scalar_one())

    def available_elsewhere(self, item_id: int, not_location: int) -> list[tuple[Place, Decimal]]:
        """Warehouses and stores other than `not_location` with on hand − reserved > 0, most first.

        A hint to choose from; the pull re-checks under the source's row lock.
        """
        free = t.stock.c.on_hand - t.stock.c.reserved
        rows = self.db.execute(
            select(t.locations.c.id, t.locations.c.code, t.locations.c.allow_negative, free)
            .join(t.locations, t.locations.c.id == t.stock.c.location_id)
            .where(
                and_(
                    t.stock.c.item_id == item_id,
                    t.stock.c.location_id != not_location,
                    t.locations.c.kind.in_(["warehouse", "store"]),
                    free > ZERO,
                )
            )
            .order_by(free.desc(), t.locations.c.code)
        ).all()
        return [(Place(r[0], r[1], r[2]), r[3]) for r in rows]

    def moved(
        self, reference: str, item_id: int, source_id: int, target_id: int
    ) -> list[tuple[str | None, Decimal]]:
        """What operations under `reference` moved of an item from one location to another,
        per lot, in the order first moved (a transfer's lots into transit)."""
        query = (
            select(t.moves.c.lot, func.sum(t.moves.c.quantity), func.min(t.moves.c.id))
            .join(t.operations, t.operations.c.id == t.moves.c.operation_id)
            .where(
                t.operations.c.reference == reference,
                t.moves.c.item_id == item_id,
                t.moves.c.source_id == source_id,
                t.moves.c.target_id == target_id,
            )
            .group_by(t.moves.c.lot)
            .order_by(func.min(t.moves.c.id))
        )
        return [(lot, Decimal(quantity)) for lot, quantity, _ in self.db.execute(query)]

    def names(self, item_id: int, location_id: int) -> tuple[str, str]:
        """The SKU and location code behind two ids."""
        row = self.db.execute(
            select(
                select(t.items.c.sku).where(t.items.c.id == item_id).scalar_subquery().label("sku"),
                select(t.locations.c.code)
                .where(t.locations.c.id == location_id)
                .scalar_subquery()
                .label("code"),
            )
        ).one()
        return row.sku, row.code

    def has_moves(self, item_id: int) -> bool:
        return (
            self.db.execute(
                select(t.moves.c.id).where(t.moves.c.item_id == item_id).limit(1)
            ).first()
            is not None
        )

    def set_may_go_negative(self, location_id: int, value: bool) -> None:
        """Keep the denormalised flag the balance constraints read in step with the location."""
        for table in (t.balances, t.stock):
            self.db.execute(
                table.update()
                .where(table.c.location_id == location_id)
                .values(may_go_negative=value)
            )

    def ledger_check(self) -> dict[str, Any]:
        """Items whose balances over all locations do not sum to zero (there should be none)."""
        sums = self.db.execute(
            select(t.balances.c.item_id, func.sum(t.balances.c.quantity).label("total"))
            .group_by(t.balances.c.item_id)
            .having(func.sum(t.balances.c.quantity) != ZERO)
        ).all()
        return {"unbalanced_items": [int(r.item_id) for r in sums]}

    # Bulk loading of history

    def add_lots(self, lots: Sequence[tuple[int, str, date | None]]) -> None:
        """Register many lots in one statement: (item id, code, expiry); known ones stay."""
        if not lots:
            return
        now = utc_now()
        self.db.execute(
            self._insert(t.lots).on_conflict_do_nothing(),
            [
                {"item_id": item_id, "code": code, "expires_on": expires_on, "created_at": now}
                for item_id, code, expires_on in lots
            ],
        )

    def post_history(self, operations: Sequence[OperationRecord]) -> list[int]:
        """Record many past operations and their moves at once, and change the balances by the net.

        For loading history (the demo business, a move from another system), where `post`'s few
        statements per operation add up to minutes. The moves are the same; the balances change
        once, so the non-negative constraints see only the end state: the caller must have checked
        that no physical location ran short in between, which `post` leaves to the service too.
        """
        if not operations:
            return []
        recorded_at = utc_now()
        ids = (
            self.db.execute(
                t.operations.insert().returning(t.operations.c.id, sort_by_parameter_order=True),
                [
                    {
                        "kind": op.kind,
                        "reference": op.reference,
                        "partner": op.partner,
                        "reason": op.reason,
                        "note": op.note,
                        "occurred_at": op.occurred_at,
                        "recorded_at": recorded_at,
                    }
                    for op in operations
                ],
            )
            .scalars()
            .all()
        )
        self.db.execute(
            t.moves.insert(),
            [
                {
                    "operation_id": op_id,
                    "item_id": p.item_id,
                    "lot": p.lot,
                    "source_id": p.source.id,
                    "target_id": p.target.id,
                    "quantity": p.quantity,
                    "kind": op.kind,
                    "occurred_at": op.occurred_at,
                    "unit_cost": p.unit_cost,
                    "conversion_cost": p.conversion_cost,
                }
                for op_id, op in zip(ids, operations, strict=True)
                for p in op.postings
            ],
        )
        self.apply(p for op in operations for p in op.postings)
        return [int(i) for i in ids]
