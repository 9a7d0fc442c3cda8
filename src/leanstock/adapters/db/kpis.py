"""What the KPIs read: demand lines with what stock could not serve, scrap reasons, supplier
deliveries against their promise, stored forecasts, and the monthly cost snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    tuple_,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import planning_tables as p
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.metadata import Id
from leanstock.adapters.db.types import Exact
from leanstock.domain.catalog import LocationKind
from leanstock.domain.costing import CostedMove
from leanstock.domain.ledger import MoveKind, ShipmentReason
from leanstock.domain.orders import SalesStatus

ZERO = Decimal(0)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class KpiRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection

    def moves_mark(self) -> tuple[int, int]:
        """The newest move's id and the number of moves: the ledger is append-only, so
        together they change whenever a move is recorded."""
        row = self.db.execute(select(func.max(t.moves.c.id), func.count(t.moves.c.id))).one()
        return int(row[0] or 0), int(row[1])

    def moves_up_to(self, move_id: int) -> int:
        """How many moves have an id up to `move_id` (one committed late, with an id below a
        newer one's, raises it)."""
        query = select(func.count(t.moves.c.id)).where(t.moves.c.id <= move_id)
        return int(self.db.execute(query).scalar_one())

    def items_mark(self) -> str:
        """Changes whenever an item is added or changed, or the company's costing method."""
        items = self.db.execute(select(func.max(t.items.c.updated_at), func.count())).one()
        method = self.db.execute(
            select(t.settings.c.value).where(t.settings.c.key == "costing_method")
        ).scalar_one_or_none()
        changed = _utc(items[0]).isoformat() if items[0] is not None else "-"
        return f"{changed}:{items[1]}:{method or '-'}"

    def moves_after(self, move_id: int) -> list[CostedMove]:
        """Every move with an id above `move_id`, with its cost fields and its operation's
        reference, in the order of their ids."""
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
            .where(m.id > move_id)
            .order_by(m.id)
        )
        return [
            CostedMove(
                int(r.id),
                int(r.operation_id),
                _utc(r.occurred_at),
                int(r.source_id),
                int(r.target_id),
                r.quantity,
                r.unit_cost,
                r.conversion_cost,
                r.reference,
                int(r.item_id),
            )
            for r in self.db.execute(query)
        ]

    def items(self) -> list[dict[str, Any]]:
        query = select(t.items.c.id, t.items.c.sku, t.items.c.category).order_by(t.items.c.sku)
        return [dict(r) for r in self.db.execute(query).mappings()]

    def locations(self) -> list[dict[str, Any]]:
        query = select(t.locations.c.id, t.locations.c.code, t.locations.c.kind)
        return [dict(r) for r in self.db.execute(query).mappings()]

    def _demand(self, since: datetime) -> Any:
        """(item_id, location_id, at, asked, short): confirmed sales lines as ordered (a
        cancelled line counts only what stock could not serve: a lost sale) with what stock
        could not serve when each was confirmed, and counter sales, served in full."""
        lines = o.sales_lines.c
        orders = (
            select(
                lines.item_id,
                lines.location_id,
                o.sales_orders.c.ordered_at.label("at"),
                case((lines.cancelled, lines.short_at_order), else_=lines.ordered_quantity).label(
                    "asked"
                ),
                lines.short_at_order.label("short"),
            )
            .join(o.sales_orders, o.sales_orders.c.id == lines.order_id)
            .where(
                o.sales_orders.c.status != SalesStatus.DRAFT.value,
                o.sales_orders.c.ordered_at >= since,
                ~(lines.cancelled & (lines.short_at_order <= ZERO)),
            )
        )
        counter = (
            select(
                t.moves.c.item_id,
                t.moves.c.source_id.label("location_id"),
                t.moves.c.occurred_at.label("at"),
                t.moves.c.quantity.label("asked"),
                type_coerce(literal(0), Exact()).label("short"),
            )
            .join(t.operations, t.operations.c.id == t.moves.c.operation_id)
            .where(
                t.operations.c.kind == MoveKind.SHIPMENT.value,
                t.operations.c.reason == ShipmentReason.SALE.value,
                t.moves.c.occurred_at >= since,
            )
        )
        return union_all(orders, counter).subquery()

    def _text(self, moment: Any, pattern: str) -> Any:
        """A timestamp as UTC text: pattern `month` (YYYY-MM) or `day` (YYYY-MM-DD)."""
        if self.db.dialect.name == "postgresql":
            return func.to_char(
                func.timezone("UTC", moment), "YYYY-MM" if pattern == "month" else "YYYY-MM-DD"
            )
        return func.strftime("%Y-%m" if pattern == "month" else "%Y-%m-%d", moment)

    def _demand_months(self, since: datetime) -> Any:
        d = self._demand(since).c
        month = self._text(d.at, "month")
        served = case((d.short >= d.asked, ZERO), else_=d.asked - d.short)
        return select(
            d.item_id,
            d.location_id,
            month.label("month"),
            func.sum(d.asked, type_=Exact()).label("asked"),
            func.sum(served, type_=Exact()).label("served"),
            func.count().label("lines"),
            func.sum(case((d.short <= ZERO, 1), else_=0)).label("in_full"),
            func.count(func.distinct(case((d.short > ZERO, self._text(d.at, "day"))))).label(
                "short_days"
            ),
        ).group_by(d.item_id, d.location_id, month)

    def demand_months(
        self, since: datetime
    ) -> list[tuple[int, int, date, Any, Any, int, int, int]]:
        """Per item, location and month from `since`: (item id, location id, month, quantity
        asked, quantity served when asked, lines, lines served in full, days with a line stock
        could not fully serve).
        (Row by row: the report reads `demand_sums`; tests/integration/test_kpi_sums.py holds
        those sums to these rows.)"""
        return [
            (int(r[0]), int(r[1]), date.fromisoformat(r[2] + "-01"), r[3], r[4], r[5], r[6], r[7])
            for r in self.db.execute(self._demand_months(since))
        ]

    def demand_days(self, since: datetime) -> list[tuple[int, int, date, Decimal]]:
        """Per item, location and day from `since`: the quantity asked for."""
        d = self._demand(since).c
        day = self._text(d.at, "day")
        query = select(d.item_id, d.location_id, day, func.sum(d.asked, type_=Exact())).group_by(
            d.item_id, d.location_id, day
        )
        return [
            (int(r[0]), int(r[1]), date.fromisoformat(r[2]), r[3]) for r in self.db.execute(query)
        ]

    def scrap_reasons(self, after: int = 0) -> dict[int, str]:
        """The reason of every move into a scrap location (with an id above `after`), by move
        id."""
        scrap = select(t.locations.c.id).where(t.locations.c.kind == LocationKind.SCRAP.value)
        query = (
            select(t.moves.c.id, t.operations.c.reason)
            .join(t.operations, t.operations.c.id == t.moves.c.operation_id)
            .where(t.moves.c.target_id.in_(scrap.scalar_subquery()), t.moves.c.id > after)
        )
        return {int(r.id): r.reason or "other" for r in self.db.execute(query)}

    def _deliveries(self, since: date) -> Any:
        lines = o.purchase_lines.c
        promised = func.coalesce(
            lines.first_confirmed_date, lines.expected_date, o.receipts.c.promised_date
        )
        return (
            select(
                lines.item_id,
                lines.location_id,
                t.suppliers.c.code,
                o.receipts.c.received_on,
                promised.label("promised"),
            )
            .select_from(o.receipts)
            .join(o.purchase_lines, lines.id == o.receipts.c.purchase_line_id)
            .join(o.purchase_orders, o.purchase_orders.c.id == lines.order_id)
            .join(t.suppliers, t.suppliers.c.id == o.purchase_orders.c.supplier_id)
            .where(o.receipts.c.received_on >= since)
        )

    def deliveries(self, since: date) -> list[tuple[int, int, str, date, date | None]]:
        """(item id, location id, supplier, received on, promised): every delivery since,
        judged by the date first confirmed, else the date asked for (as the scorecards).
        (Row by row: the report reads `delivery_sums`; test_kpi_sums.py holds them to these.)"""
        return [
            (int(r.item_id), int(r.location_id), r.code, r.received_on, r.promised)
            for r in self.db.execute(self._deliveries(since))
        ]

    def forecasts(self, since: date, before: date) -> list[tuple[int, int, int, str, date, float]]:
        """(run id, item id, location id, freq, period start, forecast): every stored forecast
        of a period from `since` that ended before `before`, past the history it was made from
        (a forecast, not a fitted value)."""
        values = p.forecast_values.c
        runs = p.forecast_runs.c
        query = (
            select(
                runs.id, values.item_id, values.location_id, runs.freq, values.ds, values.forecast
            )
            .join(p.forecast_runs, runs.id == values.run_id)
            .where(
                values.ds >= since,
                values.ds < before,
                (runs.history_to.is_(None)) | (values.ds > runs.history_to),
            )
        )
        return [
            (int(r.id), int(r.item_id), int(r.location_id), r.freq, r.ds, float(r.forecast))
            for r in self.db.execute(query)
        ]

    def settings(self, prefix: str) -> dict[str, str]:
        query = select(t.settings.c.key, t.settings.c.value).where(
            t.settings.c.key.startswith(prefix, autoescape=True)
        )
        return {r.key: r.value for r in self.db.execute(query)}

    def delete_setting(self, key: str) -> None:
        self.db.execute(delete(t.settings).where(t.settings.c.key == key))

    # The monthly cost snapshot

    def months(self, since: date) -> list[dict[str, Any]]:
        """The snapshot's rows from `since`, one by one. The report reads `month_sums`;
        tests/integration/test_kpi_sums.py holds those sums to these rows."""
        k = t.kpi_months.c
        query = select(
            k.month,
            k.item_id,
            k.location_id,
            k.closing_value,
            k.average_value,
            k.sold_value,
            k.scrapped,
            k.value_days,
            k.through,
        ).where(k.month >= since)
        return [
            {
                "month": r[0],
                "item_id": r[1],
                "location_id": r[2],
                "closing_value": r[3],
                "average_value": r[4],
                "sold_value": r[5],
                "scrapped": r[6],
                "value_days": r[7],
                "through": _utc(r[8]),
            }
            for r in self.db.execute(query)
        ]

    def _grouped(
        self,
        query: Any,
        item_id: Any,
        location_id: Any,
        group_by: str,
        sku: str | None,
        category: str | None,
        location: str | None,
    ) -> tuple[Any, Any]:
        """`query` joined to the items and locations its rows need (by `item_id` and
        `location_id`), filtered to the item `sku`, the `category` and the location
        `location`; and the group a row falls in: `company`, or its item's SKU or category,
        or its location's code."""
        if group_by in ("item", "category") or sku is not None or category is not None:
            query = query.join(t.items, t.items.c.id == item_id)
            if sku is not None:
                query = query.where(t.items.c.sku == sku)
            if category is not None:
                query = query.where(t.items.c.category == category)
        if group_by == "location" or location is not None:
            query = query.join(t.locations, t.locations.c.id == location_id)
        if location is not None:
            query = query.where(t.locations.c.code == location)
        group: Any = {
            "item": t.items.c.sku,
            "category": t.items.c.category,
            "location": t.locations.c.code,
        }.get(group_by, literal_column("'company'"))
        return query, group

    @staticmethod
    def _by(group_by: str, group: Any) -> list[Any]:
        """The group as a GROUP BY term: none for the company's constant."""
        return [] if group_by == "company" else [group]

    def month_sums(
        self,
        since: date,
        group_by: str,
        *,
        sku: str | None = None,
        category: str | None = None,
        location: str | None = None,
        own_rates: Iterable[int] = (),
    ) -> list[dict[str, Any]]:
        """The snapshot's rows from `since` (of the item `sku`, the `category`, the location
        `location`) summed in the database per group (`_grouped`), month, location, moment
        each row has seen to (`through`) and holding rate (`rate_item`: the item's id for the
        items in `own_rates`, else None): closing value, value-days and cost of goods sold;
        with each row's scrap by reason (`scrap`, a list: JSON can only be summed exactly in
        Python). Every KPI of `services/kpis._add_costs` is linear in these for a given month,
        location, moment and rate, so it comes out of the sums as out of each row. Grouped in
        the order of the index `ix_kpi_months_sums`, which holds every column read (on
        SQLite; PostgreSQL reads the table)."""
        k = t.kpi_months.c
        rated = list(own_rates)
        scrapped = cast(k.scrapped, String)
        query, group = self._grouped(
            select().select_from(t.kpi_months).where(k.month >= since),
            k.item_id,
            k.location_id,
            group_by,
            sku,
            category,
            location,
        )
        keys = [k.month, k.location_id, k.through, *self._by(group_by, group)]
        rate_item: Any = literal(None, Id)
        if rated:
            rate_item = case((k.item_id.in_(rated), k.item_id), else_=None)
            keys.append(rate_item)
        query = query.add_columns(
            group.label("group"),
            k.month.label("month"),
            k.location_id.label("location_id"),
            k.through.label("through"),
            rate_item.label("rate_item"),
            func.sum(k.closing_value, type_=Exact()).label("closing_value"),
            func.sum(k.value_days, type_=Exact()).label("value_days"),
            func.sum(k.sold_value, type_=Exact()).label("sold_value"),
            func.aggregate_strings(case((scrapped != "{}", scrapped)), ",").label("scrap"),
        ).group_by(*keys)
        return [
            {
                "group": r.group,
                "month": r.month,
                "location_id": int(r.location_id),
                "through": _utc(r.through),
                "rate_item": None if r.rate_item is None else int(r.rate_item),
                "closing_value": r.closing_value,
                "value_days": r.value_days,
                "sold_value": r.sold_value,
                "scrap": json.loads(f"[{r.scrap}]") if r.scrap else [],
            }
            for r in self.db.execute(query)
        ]

    def demand_sums(
        self,
        since: datetime,
        group_by: str,
        *,
        sku: str | None = None,
        category: str | None = None,
        location: str | None = None,
    ) -> list[tuple[Any, date, Any, Any, int, int, int]]:
        """`demand_months` summed in the database per group (`_grouped`) and month: (group,
        month, quantity asked, quantity served when asked, lines, lines served in full,
        item-location days with a line stock could not fully serve)."""
        d = self._demand_months(since).subquery()
        query, group = self._grouped(
            select().select_from(d), d.c.item_id, d.c.location_id, group_by, sku, category, location
        )
        query = query.add_columns(
            group,
            d.c.month,
            func.sum(d.c.asked, type_=Exact()),
            func.sum(d.c.served, type_=Exact()),
            func.sum(d.c.lines),
            func.sum(d.c.in_full),
            func.sum(d.c.short_days),
        ).group_by(d.c.month, *self._by(group_by, group))
        return [
            (r[0], date.fromisoformat(r[1] + "-01"), r[2], r[3], int(r[4]), int(r[5]), int(r[6]))
            for r in self.db.execute(query)
        ]

    def delivery_sums(
        self,
        since: date,
        group_by: str,
        *,
        sku: str | None = None,
        category: str | None = None,
        location: str | None = None,
    ) -> list[tuple[Any, date, int, int]]:
        """`deliveries` with a promised date, counted in the database per group (`_grouped`)
        and month received: (group, month, deliveries, received after the date promised)."""
        d = self._deliveries(since).subquery()
        year, month = func.extract("year", d.c.received_on), func.extract("month", d.c.received_on)
        query, group = self._grouped(
            select().select_from(d), d.c.item_id, d.c.location_id, group_by, sku, category, location
        )
        query = (
            query.add_columns(
                group,
                year,
                month,
                func.count(),
                func.sum(case((d.c.received_on > d.c.promised, 1), else_=0)),
            )
            .where(d.c.promised.is_not(None))
            .group_by(year, month, *self._by(group_by, group))
        )
        return [
            (r[0], date(int(r[1]), int(r[2]), 1), int(r[3]), int(r[4]))
            for r in self.db.execute(query)
        ]

    def month_rows(self, keys: Iterable[tuple[date, int, int]]) -> list[dict[str, Any]]:
        """The snapshot's rows of these (month, item id, location id)."""
        k = t.kpi_months.c
        found: list[dict[str, Any]] = []
        wanted = list(keys)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = select(t.kpi_months).where(tuple_(k.month, k.item_id, k.location_id).in_(chunk))
            for r in self.db.execute(query).mappings():
                row = dict(r)
                row["through"] = _utc(row["through"])
                found.append(row)
        return found

    def tracks(
        self, keys: Iterable[tuple[int, int]] | None = None, before: date | None = None
    ) -> list[dict[str, Any]]:
        """Where the replay stopped for these (item id, location id), or for every one whose
        open month is before `before`."""
        c = t.kpi_tracks.c
        queries = []
        if keys is not None:
            wanted = list(keys)
            queries += [
                select(t.kpi_tracks).where(
                    tuple_(c.item_id, c.location_id).in_(wanted[start : start + 500])
                )
                for start in range(0, len(wanted), 500)
            ]
        if before is not None:
            queries.append(select(t.kpi_tracks).where(c.month < before))
        found: list[dict[str, Any]] = []
        for query in queries:
            for r in self.db.execute(query).mappings():
                row = dict(r)
                row["since"] = _utc(row["since"])
                found.append(row)
        return found

    def snapshot_state(self, lock: bool = False) -> dict[str, Any] | None:
        """The snapshot's watermark (`services/kpi_snapshot.py`); `lock`: created if missing
        and held until the transaction ends, so one refresh at a time writes the snapshot."""
        k = t.kpi_snapshot.c
        if lock:
            dialect = postgresql if self.db.dialect.name == "postgresql" else sqlite
            self.db.execute(dialect.insert(t.kpi_snapshot).values(id=1).on_conflict_do_nothing())
        query = select(k.state).where(k.id == 1)
        if lock:
            query = query.with_for_update()
        state = self.db.execute(query).scalar_one_or_none()
        return dict(state) if state else None

    def snapshot_costs(self) -> dict[str, str]:
        query = select(t.kpi_snapshot.c.costs).where(t.kpi_snapshot.c.id == 1)
        return dict(self.db.execute(query).scalar_one_or_none() or {})

    def put_snapshot_state(
        self, state: dict[str, Any], costs: dict[str, str] | None = None
    ) -> None:
        values: dict[str, Any] = {"state": state}
        if costs is not None:
            values["costs"] = costs
        self.db.execute(update(t.kpi_snapshot).where(t.kpi_snapshot.c.id == 1).values(**values))

    def put_snapshot(
        self,
        months: list[dict[str, Any]],
        tracks: list[dict[str, Any]],
        *,
        replace: bool,
        dropped: Iterable[tuple[date, int, int]] = (),
    ) -> None:
        """Write snapshot rows and tracks over the ones with the same keys, and delete the
        rows `dropped` (`replace`: over the whole snapshot)."""
        k, c = t.kpi_months.c, t.kpi_tracks.c
        if replace:
            self.db.execute(delete(t.kpi_months))
            self.db.execute(delete(t.kpi_tracks))
        else:
            month_keys = [(r["month"], r["item_id"], r["location_id"]) for r in months]
            month_keys += list(dropped)
            track_keys = [(r["item_id"], r["location_id"]) for r in tracks]
            for start in range(0, len(month_keys), 500):
                self.db.execute(
                    delete(t.kpi_months).where(
                        tuple_(k.month, k.item_id, k.location_id).in_(
                            month_keys[start : start + 500]
                        )
                    )
                )
            for start in range(0, len(track_keys), 500):
                self.db.execute(
                    delete(t.kpi_tracks).where(
                        tuple_(c.item_id, c.location_id).in_(track_keys[start : start + 500])
                    )
                )
        for table, rows in ((t.kpi_months, months), (t.kpi_tracks, tracks)):
            for start in range(0, len(rows), 5000):
                self.db.execute(insert(table), rows[start : start + 5000])
