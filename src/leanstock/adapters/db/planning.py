"""Forecast runs, the event calendar and plan runs in the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import planning_tables as p
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import visible_locations
from leanstock.domain.access import EVERYTHING, Visibility
from leanstock.domain.errors import NotFound
from leanstock.domain.orders import PREFIXES, sales
from leanstock.domain.orders import production as made
from leanstock.domain.orders import purchasing as bought
from leanstock.domain.orders import transfers as moved
from leanstock.domain.plans import PlanStatus

CHUNK = 5000


def _now() -> datetime:
    return datetime.now(UTC)


class PlanningRepository:
    def __init__(self, connection: Connection, visibility: Visibility = EVERYTHING) -> None:
        self.db = connection
        # Item-location rows (forecasts, accuracy, plan lines) of the principal's locations.
        self.visibility = visibility

    def ids(self) -> tuple[dict[str, int], dict[str, int]]:
        """SKU → item id and location code → location id, for writing frames keyed by name."""
        items = dict(self.db.execute(select(t.items.c.sku, t.items.c.id)).all())
        places = dict(self.db.execute(select(t.locations.c.code, t.locations.c.id)).all())
        return items, places

    def _insert_many(self, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(rows), CHUNK):
            self.db.execute(table.insert(), list(rows[start : start + CHUNK]))

    # Events

    def add_event(
        self,
        name: str,
        starts_on: date,
        ends_on: date,
        skus: list[str] | None,
        categories: list[str] | None,
        uplift: float | None,
    ) -> int:
        new_id = self.db.execute(
            p.events.insert().values(
                name=name,
                starts_on=starts_on,
                ends_on=ends_on,
                skus=skus,
                categories=categories,
                uplift=uplift,
                created_at=_now(),
            )
        ).inserted_primary_key
        assert new_id is not None
        return int(new_id[0])

    def events(self) -> list[dict[str, Any]]:
        rows = self.db.execute(select(p.events).order_by(p.events.c.starts_on, p.events.c.id))
        return [dict(r._mapping) for r in rows]

    # Forecast runs

    def add_forecast_run(self, run: dict[str, Any]) -> int:
        new_id = self.db.execute(
            p.forecast_runs.insert().values(**run, created_at=_now())
        ).inserted_primary_key
        assert new_id is not None
        return int(new_id[0])

    def add_forecast_values(self, rows: Sequence[dict[str, Any]]) -> None:
        self._insert_many(p.forecast_values, rows)

    def add_forecast_accuracy(self, rows: Sequence[dict[str, Any]]) -> None:
        self._insert_many(p.forecast_accuracy, rows)

    def add_forecast_totals(self, rows: Sequence[dict[str, Any]]) -> None:
        self._insert_many(p.forecast_totals, rows)

    def forecast_totals(self, run_id: int, level: str, key: str) -> list[dict[str, Any]]:
        """The reconciled total of an item (all locations) or a category, per period."""
        c = p.forecast_totals.c
        rows = self.db.execute(
            select(c.ds, c.forecast, c.quantiles)
            .where(c.run_id == run_id, c.level == level, c.key == key)
            .order_by(c.ds)
        )
        return [dict(r._mapping) for r in rows]

    def forecast_run(self, run_id: int | None = None) -> dict[str, Any]:
        """A run by id, or the newest when `run_id` is None."""
        query = select(p.forecast_runs)
        query = (
            query.where(p.forecast_runs.c.id == run_id)
            if run_id is not None
            else query.order_by(p.forecast_runs.c.id.desc()).limit(1)
        )
        row = self.db.execute(query).first()
        if row is None:
            raise NotFound("forecast run", run_id if run_id is not None else "yet", "run")
        return dict(row._mapping)

    def forecast_runs(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        total = self.db.execute(select(func.count()).select_from(p.forecast_runs)).scalar_one()
        rows = self.db.execute(
            select(p.forecast_runs)
            .order_by(p.forecast_runs.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [dict(r._mapping) for r in rows], int(total)

    def forecast_values(
        self, run_id: int, item_id: int | None = None, location_id: int | None = None
    ) -> list[dict[str, Any]]:
        query = (
            select(
                t.items.c.sku.label("item"),
                t.locations.c.code.label("location"),
                p.forecast_values.c.ds,
                p.forecast_values.c.forecast,
                p.forecast_values.c.quantiles,
            )
            .join(t.items, t.items.c.id == p.forecast_values.c.item_id)
            .join(t.locations, t.locations.c.id == p.forecast_values.c.location_id)
            .where(p.forecast_values.c.run_id == run_id)
            .order_by(t.items.c.sku, t.locations.c.code, p.forecast_values.c.ds)
        )
        if item_id is not None:
            query = query.where(p.forecast_values.c.item_id == item_id)
        if location_id is not None:
            query = query.where(p.forecast_values.c.location_id == location_id)
        if (visible := visible_locations(self.visibility)) is not None:
            query = query.where(p.forecast_values.c.location_id.in_(visible))
        return [dict(r._mapping) for r in self.db.execute(query)]

    def forecast_accuracy(
        self, run_id: int, item_id: int, location_id: int | None = None
    ) -> list[dict[str, Any]]:
        query = (
            select(
                t.locations.c.code.label("location"),
                p.forecast_accuracy.c.model,
                p.forecast_accuracy.c.chosen,
                p.forecast_accuracy.c.demand_class,
                p.forecast_accuracy.c.metrics,
            )
            .join(t.locations, t.locations.c.id == p.forecast_accuracy.c.location_id)
            .where(p.forecast_accuracy.c.run_id == run_id, p.forecast_accuracy.c.item_id == item_id)
            .order_by(
                t.locations.c.code, p.forecast_accuracy.c.chosen.desc(), p.forecast_accuracy.c.model
            )
        )
        if location_id is not None:
            query = query.where(p.forecast_accuracy.c.location_id == location_id)
        if (visible := visible_locations(self.visibility)) is not None:
            query = query.where(p.forecast_accuracy.c.location_id.in_(visible))
        return [dict(r._mapping) for r in self.db.execute(query)]

    def forecast_accuracy_by_class(self, run_id: int) -> list[dict[str, Any]]:
        """A run's backtest scores averaged per demand class and model, with how many
        series each covers; model "selected" is the forecast the run chose per series."""
        a = p.forecast_accuracy.c
        means = [
            func.avg(a.metrics[name].as_float()).label(name)
            for name in ("mase", "rmsse", "wape", "bias")
        ]
        query = (
            select(a.demand_class, a.model, func.count().label("series"), *means)
            .where(a.run_id == run_id)
            .group_by(a.demand_class, a.model)
            .order_by(a.demand_class, a.model)
        )
        return [dict(r._mapping) for r in self.db.execute(query)]

    # Inputs of a plan

    def backorders(self) -> list[dict[str, Any]]:
        """Confirmed sales demand not yet covered by stock, per item and location: open sales
        quantity (ordered − shipped, not drop-shipped) − what is reserved for sales lines.

        Supply pegged to those lines is open supply, so the plan nets it against this.
        """
        active = [sales.SalesStatus.CONFIRMED.value, sales.SalesStatus.PARTIALLY_SHIPPED.value]
        lines = (
            select(
                o.sales_lines.c.item_id,
                o.sales_lines.c.location_id,
                (o.sales_lines.c.quantity - o.sales_lines.c.shipped).label("qty"),
            )
            .join(o.sales_orders, o.sales_orders.c.id == o.sales_lines.c.order_id)
            .where(
                o.sales_orders.c.status.in_(active),
                o.sales_lines.c.cancelled.is_(False),
                o.sales_lines.c.fulfilment != sales.Fulfilment.DROP_SHIP.value,
                o.sales_lines.c.quantity > o.sales_lines.c.shipped,
            )
        )
        held = select(
            t.reservations.c.item_id,
            t.reservations.c.location_id,
            (-t.reservations.c.open_quantity).label("qty"),
        ).where(
            t.reservations.c.status == "open",
            t.reservations.c.reference.like(f"{PREFIXES['sales']}-%"),
        )
        union = lines.union_all(held).subquery()
        query = (
            select(
                t.items.c.sku.label("item"),
                t.locations.c.code.label("location"),
                func.sum(union.c.qty).label("backordered"),
            )
            .join(t.items, t.items.c.id == union.c.item_id)
            .join(t.locations, t.locations.c.id == union.c.location_id)
            .group_by(t.items.c.sku, t.locations.c.code)
        )
        return [dict(r._mapping) for r in self.db.execute(query) if r.backordered > 0]

    def open_supply(self) -> list[dict[str, Any]]:
        """Ordered but not yet received, per item and location: purchase, production, transfer.

        Purchase lines count their confirmed quantity when the supplier confirmed one;
        rejected quantities were delivered, so they are not open any more.
        """
        ordered = func.coalesce(o.purchase_lines.c.confirmed_quantity, o.purchase_lines.c.quantity)
        purchase = (
            select(
                o.purchase_lines.c.item_id,
                o.purchase_lines.c.location_id,
                (ordered - o.purchase_lines.c.received - o.purchase_lines.c.rejected).label("qty"),
            )
            .join(o.purchase_orders, o.purchase_orders.c.id == o.purchase_lines.c.order_id)
            .where(
                o.purchase_orders.c.status.in_([s.value for s in bought.OPEN]),
                o.purchase_orders.c.drop_ship_customer.is_(None),
            )
        )
        production = select(
            o.production_orders.c.item_id,
            o.production_orders.c.location_id,
            (o.production_orders.c.quantity - o.production_orders.c.produced).label("qty"),
        ).where(o.production_orders.c.status.in_([s.value for s in made.OPEN]))
        transfer = select(
            o.transfer_orders.c.item_id,
            o.transfer_orders.c.target_id.label("location_id"),
            (o.transfer_orders.c.quantity - o.transfer_orders.c.received).label("qty"),
        ).where(o.transfer_orders.c.status.in_([s.value for s in moved.OPEN]))
        union = purchase.union_all(production, transfer).subquery()
        query = (
            select(
                t.items.c.sku.label("item"),
                t.locations.c.code.label("location"),
                func.sum(union.c.qty).label("open_supply"),
            )
            .join(t.items, t.items.c.id == union.c.item_id)
            .join(t.locations, t.locations.c.id == union.c.location_id)
            .group_by(t.items.c.sku, t.locations.c.code)
        )
        return [dict(r._mapping) for r in self.db.execute(query)]

    # Plan runs

    def add_plan_run(
        self, forecast_run_id: int | None, parameters: dict[str, Any], summary: dict[str, Any]
    ) -> int:
        new_id = self.db.execute(
            p.plan_runs.insert().values(
                created_at=_now(),
                status=PlanStatus.DRAFT.value,
                forecast_run_id=forecast_run_id,
                parameters=parameters,
                summary=summary,
            )
        ).inserted_primary_key
        assert new_id is not None
        return int(new_id[0])

    def add_plan_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        self._insert_many(p.plan_lines, rows)

    def plan_run(self, run_id: int, lock: bool = False) -> dict[str, Any]:
        query = select(p.plan_runs).where(p.plan_runs.c.id == run_id)
        if lock:
            query = query.with_for_update()
        row = self.db.execute(query).first()
        if row is None:
            raise NotFound("plan run", run_id, "run")
        return dict(row._mapping)

    def plan_runs(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        total = self.db.execute(select(func.count()).select_from(p.plan_runs)).scalar_one()
        rows = self.db.execute(
            select(p.plan_runs).order_by(p.plan_runs.c.id.desc()).limit(limit).offset(offset)
        )
        return [dict(r._mapping) for r in rows], int(total)

    def plan_lines(self, run_id: int, line_id: int | None = None) -> list[dict[str, Any]]:
        source = t.locations.alias("source")
        query = (
            select(
                p.plan_lines,
                t.items.c.sku,
                t.locations.c.code.label("location"),
                t.suppliers.c.code.label("supplier"),
                source.c.code.label("source"),
            )
            .join(t.items, t.items.c.id == p.plan_lines.c.item_id)
            .join(t.locations, t.locations.c.id == p.plan_lines.c.location_id)
            .outerjoin(t.suppliers, t.suppliers.c.id == p.plan_lines.c.supplier_id)
            .outerjoin(source, source.c.id == p.plan_lines.c.source_location_id)
            .where(p.plan_lines.c.run_id == run_id)
            .order_by(p.plan_lines.c.order_by, t.items.c.sku, p.plan_lines.c.id)
        )
        if line_id is not None:
            query = query.where(p.plan_lines.c.id == line_id)
        if (visible := visible_locations(self.visibility)) is not None:
            query = query.where(p.plan_lines.c.location_id.in_(visible))
        return [dict(r._mapping) for r in self.db.execute(query)]

    def update_plan_line(self, line_id: int, **values: Any) -> None:
        self.db.execute(p.plan_lines.update().where(p.plan_lines.c.id == line_id).values(**values))

    def update_plan_run(self, run_id: int, **values: Any) -> None:
        self.db.execute(p.plan_runs.update().where(p.plan_runs.c.id == run_id).values(**values))

    def production_lead_times(self) -> dict[str, int]:
        """Days to make each item that has a bill of materials."""
        rows = self.db.execute(
            select(t.items.c.sku, o.boms.c.lead_time_days).join(
                t.items, t.items.c.id == o.boms.c.item_id
            )
        ).all()
        return {sku: int(days) for sku, days in rows}
