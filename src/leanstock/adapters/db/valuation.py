"""What costing reads and the company settings it depends on: items' costing, their moves
with the costs they carry, location kinds, and the settings table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from leanstock.adapters.db import tables as t
from leanstock.domain.catalog import CostingMethod, LocationKind
from leanstock.domain.costing import CostedMove
from leanstock.domain.history import BACKDATED_AFTER
from leanstock.domain.ledger import ReservationStatus
from leanstock.services.ports import ItemCosting, RevaluationJob


class ValuationRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def items(self, sku: str | None = None, category: str | None = None) -> list[ItemCosting]:
        """The items to value (one SKU, one category, or all), with their own costing method."""
        query = select(
            t.items.c.id, t.items.c.sku, t.items.c.category, t.items.c.unit_cost, t.items.c.costing
        ).order_by(t.items.c.sku)
        if sku is not None:
            query = query.where(t.items.c.sku == sku)
        if category is not None:
            query = query.where(t.items.c.category == category)
        return [
            ItemCosting(
                int(r.id),
                r.sku,
                r.category,
                r.unit_cost,
                CostingMethod(r.costing) if r.costing else None,
            )
            for r in self.db.execute(query)
        ]

    def moves(self, item_ids: Sequence[int] | None = None) -> list[CostedMove]:
        """Every move (of these items, or all) with its cost fields and its operation's
        reference, in the order they occurred."""
        found: list[CostedMove] = []
        m = t.moves.c
        query = (
            select(
                m.id,
                m.item_id,
                m.operation_id,
                m.occurred_at,
                m.source_id,
                m.target_id,
                m.quantity,
                m.unit_cost,
                m.conversion_cost,
                t.operations.c.reference,
            )
            .join(t.operations, t.operations.c.id == m.operation_id)
            .order_by(m.occurred_at, m.operation_id, m.id)
        )
        if item_ids is not None:
            query = query.where(m.item_id.in_(list(item_ids)))
        for r in self.db.execute(query):
            occurred = r.occurred_at
            if occurred.tzinfo is None:
                occurred = occurred.replace(tzinfo=UTC)
            found.append(
                CostedMove(
                    int(r.id),
                    int(r.operation_id),
                    occurred,
                    int(r.source_id),
                    int(r.target_id),
                    r.quantity,
                    r.unit_cost,
                    r.conversion_cost,
                    r.reference,
                    int(r.item_id),
                )
            )
        return found

    def location_kinds(self) -> dict[int, tuple[str, LocationKind]]:
        rows = self.db.execute(select(t.locations.c.id, t.locations.c.code, t.locations.c.kind))
        return {int(r.id): (r.code, LocationKind(r.kind)) for r in rows}

    def default_method_in_use(self) -> bool:
        """Whether any item valued by the company's default method has moves."""
        query = (
            select(t.moves.c.id)
            .join(t.items, t.items.c.id == t.moves.c.item_id)
            .where(t.items.c.costing.is_(None))
            .limit(1)
        )
        return self.db.execute(query).first() is not None

    def balance_path(
        self, item_id: int, location_id: int, lot: str | None, when: datetime
    ) -> tuple[Decimal, list[tuple[datetime, Decimal]]]:
        """An item-location's (or one lot's) balance at `when`, and the change each later move
        makes, in time order. Read under the item-location's stock row lock.

        The balance then is today's (`balances`, kept in step with the moves) less what the
        later moves changed, so the cost follows the moves after `when`, not all history."""
        m, b = t.moves.c, t.balances.c
        delta = case((m.target_id == location_id, m.quantity), else_=-m.quantity).label("delta")
        where = [m.item_id == item_id, or_(m.source_id == location_id, m.target_id == location_id)]
        current = select(func.coalesce(func.sum(b.quantity), 0)).where(
            b.item_id == item_id, b.location_id == location_id
        )
        if lot is not None:
            where.append(m.lot == lot)
            current = current.where(b.lot == lot)
        rows = self.db.execute(
            select(m.occurred_at, delta)
            .where(*where, m.occurred_at > when)
            .order_by(m.occurred_at, m.operation_id, m.id)
        ).all()
        later = [(r[0] if r[0].tzinfo else r[0].replace(tzinfo=UTC), Decimal(r[1])) for r in rows]
        now = Decimal(self.db.execute(current).scalar_one())
        return now - sum((d for _, d in later), Decimal(0)), later

    def moved_after(self, item_ids: Sequence[int], when: datetime) -> bool:
        """Whether any of the items has a move dated after `when` (any location)."""
        m = t.moves.c
        query = select(m.id).where(m.item_id.in_(list(item_ids)), m.occurred_at > when).limit(1)
        return self.db.execute(query).first() is not None

    def reservation_path(
        self, item_id: int, location_id: int, when: datetime
    ) -> tuple[Decimal, list[tuple[datetime, Decimal]]]:
        """What the item-location's open reservations held at `when` (those made by then), and
        the change each one made later (minus its open quantity, at the moment it was made), in
        time order. Only reservations still open are known: one shipped or released since
        keeps no record of how much it held when."""
        r = t.reservations.c
        rows = self.db.execute(
            select(r.created_at, r.open_quantity)
            .where(
                r.item_id == item_id,
                r.location_id == location_id,
                r.status == ReservationStatus.OPEN.value,
                r.open_quantity > 0,
            )
            .order_by(r.created_at, r.id)
        ).all()
        held, later = Decimal(0), []
        for created, quantity in rows:
            at = created if created.tzinfo else created.replace(tzinfo=UTC)
            if at <= when:
                held += Decimal(quantity)
            else:
                later.append((at, -Decimal(quantity)))
        return held, later

    def later_moves(self, item_id: int, when: datetime) -> int:
        """How many moves of the item are dated after `when`: what a backdated move re-values."""
        m = t.moves.c
        query = select(func.count()).where(m.item_id == item_id, m.occurred_at > when)
        return int(self.db.execute(query).scalar_one())

    def costed_moves_until(self, item_ids: Sequence[int], operation_id: int) -> list[CostedMove]:
        """The items' moves recorded up to and including `operation_id` (operation ids grow in
        the order operations were recorded): the ledger as it stood right after it."""
        return [m for m in self.moves(item_ids) if m.operation_id <= operation_id]

    def add_revaluation_job(
        self, operation_id: int, item_id: int, occurred_at: datetime, later_moves: int
    ) -> int:
        return int(
            self.db.execute(
                t.revaluation_jobs.insert()
                .values(
                    operation_id=operation_id,
                    item_id=item_id,
                    occurred_at=occurred_at,
                    later_moves=later_moves,
                    status="queued",
                    created_at=datetime.now(UTC),
                )
                .returning(t.revaluation_jobs.c.id)
            ).scalar_one()
        )

    def claim_revaluation_job(self, stale_before: datetime) -> RevaluationJob | None:
        """The oldest queued job (or one left running by a worker that stopped before
        `stale_before`), marked running; other workers skip it while this transaction holds it."""
        j = t.revaluation_jobs.c
        query = (
            select(j.id)
            .where(
                or_(j.status == "queued", and_(j.status == "running", j.started_at < stale_before))
            )
            .order_by(j.id)
            .limit(1)
        )
        if self.db.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job_id = self.db.execute(query).scalar()
        if job_id is None:
            return None
        self.db.execute(
            t.revaluation_jobs.update()
            .where(j.id == job_id)
            .values(status="running", started_at=datetime.now(UTC), error=None)
        )
        return self.revaluation_job(int(job_id))

    def finish_revaluation_job(self, job_id: int, status: str, error: str | None) -> None:
        j = t.revaluation_jobs.c
        self.db.execute(
            t.revaluation_jobs.update()
            .where(j.id == job_id)
            .values(status=status, error=error, finished_at=datetime.now(UTC))
        )

    def _jobs(self) -> Any:
        j, r = t.revaluation_jobs.c, t.revaluations.c
        return (
            select(
                t.revaluation_jobs,
                t.items.c.sku,
                r.later_cost_before,
                r.later_cost_after,
            )
            .join(t.items, t.items.c.id == j.item_id)
            .outerjoin(
                t.revaluations,
                and_(r.operation_id == j.operation_id, r.item_id == j.item_id),
            )
        )

    @staticmethod
    def _job(row: Any) -> RevaluationJob:
        def utc(value: datetime | None) -> datetime | None:
            if value is None or value.tzinfo is not None:
                return value
            return value.replace(tzinfo=UTC)

        return RevaluationJob(
            id=int(row["id"]),
            operation_id=int(row["operation_id"]),
            item_id=int(row["item_id"]),
            sku=row["sku"],
            occurred_at=utc(row["occurred_at"]) or row["occurred_at"],
            later_moves=int(row["later_moves"]),
            status=row["status"],
            error=row["error"],
            created_at=utc(row["created_at"]) or row["created_at"],
            started_at=utc(row["started_at"]),
            finished_at=utc(row["finished_at"]),
            later_cost_before=row["later_cost_before"],
            later_cost_after=row["later_cost_after"],
        )

    def revaluation_job(self, job_id: int) -> RevaluationJob | None:
        row = (
            self.db.execute(self._jobs().where(t.revaluation_jobs.c.id == job_id))
            .mappings()
            .first()
        )
        return None if row is None else self._job(row)

    def revaluation_jobs(
        self, status: str | None, limit: int, offset: int
    ) -> tuple[list[RevaluationJob], int]:
        query = self._jobs()
        if status is not None:
            query = query.where(t.revaluation_jobs.c.status == status)
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(
            query.order_by(t.revaluation_jobs.c.id.desc()).limit(limit).offset(offset)
        ).mappings()
        return [self._job(r) for r in rows], int(total)

    # Backdated operations and what they re-valued

    def add_revaluation(
        self,
        operation_id: int,
        item_id: int,
        when: datetime,
        before: Decimal,
        after: Decimal,
    ) -> None:
        self.db.execute(
            t.revaluations.insert().values(
                operation_id=operation_id,
                item_id=item_id,
                occurred_at=when,
                recorded_at=datetime.now(UTC),
                later_cost_before=before,
                later_cost_after=after,
            )
        )

    def backdated(
        self,
        item_id: int | None,
        location_id: int | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """Moves recorded more than BACKDATED_AFTER after the moment they say they happened,
        newest first, with what their operation re-valued (when it did)."""
        o, m = t.operations.c, t.moves.c
        if self.db.dialect.name == "postgresql":
            late = o.recorded_at - o.occurred_at > literal(BACKDATED_AFTER)
        else:
            seconds = (func.julianday(o.recorded_at) - func.julianday(o.occurred_at)) * 86400
            late = seconds > BACKDATED_AFTER.total_seconds()
        source, target = t.locations.alias("source"), t.locations.alias("target")
        rev = (
            select(
                t.revaluations.c.operation_id,
                t.revaluations.c.item_id,
                t.revaluations.c.later_cost_before,
                t.revaluations.c.later_cost_after,
            )
        ).subquery()
        query = (
            select(
                o.id.label("operation_id"),
                o.kind,
                o.reference,
                o.occurred_at,
                o.recorded_at,
                t.items.c.sku,
                source.c.code.label("source"),
                target.c.code.label("target"),
                m.quantity,
                m.lot,
                rev.c.later_cost_before,
                rev.c.later_cost_after,
            )
            .select_from(t.moves)
            .join(t.operations, o.id == m.operation_id)
            .join(t.items, t.items.c.id == m.item_id)
            .join(source, source.c.id == m.source_id)
            .join(target, target.c.id == m.target_id)
            .outerjoin(rev, and_(rev.c.operation_id == o.id, rev.c.item_id == m.item_id))
            .where(late)
        )
        if item_id is not None:
            query = query.where(m.item_id == item_id)
        if location_id is not None:
            query = query.where(or_(m.source_id == location_id, m.target_id == location_id))
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(
            query.order_by(o.recorded_at.desc(), m.id.desc()).limit(limit).offset(offset)
        ).mappings()
        found = []
        for r in rows:
            row = dict(r)
            for key in ("occurred_at", "recorded_at"):
                if row[key].tzinfo is None:
                    row[key] = row[key].replace(tzinfo=UTC)
            found.append(row)
        return found, int(total)

    # Settings

    def setting(self, key: str, lock: bool = False) -> str | None:
        query = select(t.settings.c.value).where(t.settings.c.key == key)
        if lock:
            query = query.with_for_update()
        return self.db.execute(query).scalar_one_or_none()

    def put_setting(self, key: str, value: str) -> None:
        insert = (postgresql.insert if self.db.dialect.name == "postgresql" else sqlite.insert)(
            t.settings
        ).values(key=key, value=value, updated_at=datetime.now(UTC))
        self.db.execute(
            insert.on_conflict_do_update(
                index_elements=["key"],
                set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
            )
        )
