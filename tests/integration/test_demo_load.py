"""Loading the sample business: a balanced ledger, no negative stock, the counts it reports.

The `engine` fixture (tests/conftest.py) runs each test on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from sqlalchemy import Engine, Table, func, select, union_all

from conftest import Templates
from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.engine import make_engine
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.demo import DemoBusiness, generate
from leanstock.domain.catalog import ItemKind, Policy
from leanstock.domain.errors import Conflict, InvalidInput
from leanstock.services import forecasting, orders, planning, production, purchasing
from leanstock.services.demo import DemoSummary, load_demo


@pytest.fixture(scope="module")
def business() -> DemoBusiness:
    return generate(seed=11, days=30, end=date(2026, 6, 30))


SUMMARIES: dict[str, DemoSummary] = {}
"""What loading the demo into each kind of database's template answered (this process's)."""


@pytest.fixture
def loaded(db_kind: str, templates: Templates, business: DemoBusiness) -> Iterator[Engine]:
    """A database of this test's own holding the loaded demo: loaded once per session into a
    template (tests/conftest.py) and copied per test, so a test may change it. The load into
    the empty template keeps its summary in SUMMARIES, for the test of loading itself."""

    def load(engine: Engine) -> None:
        SUMMARIES[db_kind] = load_demo(UnitOfWork(engine), business)

    with templates.copy(db_kind, "demo_load_11_30", load) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as db:
        return int(db.execute(select(func.count()).select_from(table)).scalar_one())


def test_loading_writes_what_the_summary_counts(
    loaded: Engine, db_kind: str, business: DemoBusiness
) -> None:
    """The template's load (into an empty, migrated database) against a copy of what it
    wrote: loading twice costs 1–5 s a database kind."""
    engine, summary = loaded, SUMMARIES[db_kind]
    assert summary.items == count(engine, t.items) == len(business.items)
    assert summary.suppliers == count(engine, t.suppliers) == 8
    assert summary.supplier_items == count(engine, t.supplier_items)
    assert summary.lots == count(engine, t.lots) == business.lots.height
    assert summary.moves == count(engine, t.moves) == business.moves.height
    assert summary.operations == count(engine, t.operations)
    assert summary.locations == 3
    assert (summary.first_day, summary.last_day) == (date(2026, 6, 1), date(2026, 6, 30))
    with engine.connect() as db:
        first, last = db.execute(
            select(func.min(t.moves.c.occurred_at), func.max(t.moves.c.occurred_at))
        ).one()
    assert (first.date(), last.date()) == (summary.first_day, summary.last_day)


def test_balances_sum_to_zero_per_item_and_no_physical_one_is_negative(
    loaded: Engine, business: DemoBusiness
) -> None:
    engine = loaded
    with engine.connect() as db:
        totals = db.execute(
            select(t.balances.c.item_id, func.sum(t.balances.c.quantity)).group_by(
                t.balances.c.item_id
            )
        ).all()
        physical = db.execute(
            select(func.min(t.balances.c.quantity), func.min(t.stock.c.on_hand))
            .select_from(t.balances)
            .join(t.locations, t.locations.c.id == t.balances.c.location_id)
            .join(
                t.stock,
                (t.stock.c.item_id == t.balances.c.item_id)
                & (t.stock.c.location_id == t.balances.c.location_id),
            )
            .where(t.locations.c.kind.in_(["warehouse", "store"]))
        ).one()
    assert len(totals) == business.moves["sku"].n_unique()  # out-of-season bakes never moved
    assert all(total == 0 for _, total in totals)
    assert physical[0] >= 0
    assert physical[1] >= 0


def test_stock_on_hand_is_the_sum_of_the_moves(loaded: Engine, business: DemoBusiness) -> None:
    engine = loaded
    legs = union_all(
        select(t.moves.c.item_id, t.moves.c.target_id.label("loc"), t.moves.c.quantity),
        select(t.moves.c.item_id, t.moves.c.source_id.label("loc"), -t.moves.c.quantity),
    ).subquery()
    with engine.connect() as db:
        from_moves = {
            (item, loc): q
            for item, loc, q in db.execute(
                select(legs.c.item_id, legs.c.loc, func.sum(legs.c.quantity)).group_by(
                    legs.c.item_id, legs.c.loc
                )
            )
            if q != 0
        }
        stock = {
            (item, loc): q
            for item, loc, q in db.execute(
                select(t.stock.c.item_id, t.stock.c.location_id, t.stock.c.on_hand)
            )
            if q != 0
        }
        on_hand = db.execute(
            select(t.items.c.sku, t.locations.c.code, t.stock.c.on_hand)
            .join(t.items, t.items.c.id == t.stock.c.item_id)
            .join(t.locations, t.locations.c.id == t.stock.c.location_id)
            .where(t.locations.c.code == "STORE-N", t.stock.c.on_hand != 0)
        ).all()
    assert stock == from_moves
    moves = business.moves
    expected = (
        pl.concat(
            [
                moves.select("sku", pl.col("target").alias("loc"), "quantity"),
                moves.select("sku", pl.col("source").alias("loc"), -pl.col("quantity")),
            ]
        )
        .filter(pl.col("loc") == "STORE-N")
        .group_by("sku")
        .agg(pl.col("quantity").sum())
        .filter(pl.col("quantity") != 0)
    )
    assert {sku: q for sku, _, q in on_hand} == {sku: Decimal(q) for sku, q in expected.iter_rows()}


def test_a_database_with_items_is_refused(loaded: Engine, business: DemoBusiness) -> None:
    engine = loaded
    moves = count(engine, t.moves)
    with pytest.raises(InvalidInput, match="already has items"):
        load_demo(UnitOfWork(engine), business)
    assert count(engine, t.moves) == moves


def test_a_history_that_runs_short_is_refused_and_nothing_is_written(
    engine: Engine, business: DemoBusiness
) -> None:
    moves = business.moves.with_columns(
        quantity=pl.when(pl.int_range(pl.len()) == business.moves["kind"].index_of("shipment"))
        .then(pl.col("quantity") * 1000)
        .otherwise(pl.col("quantity"))
    )
    broken = dataclasses.replace(business, moves=moves)
    with pytest.raises(Conflict, match="below zero"):
        load_demo(UnitOfWork(engine), broken)
    assert count(engine, t.items) == 0


def test_the_demo_bakery_bakes_from_its_recipes(loaded: Engine, business: DemoBusiness) -> None:
    made = [item for item in business.items if item.kind is ItemKind.MADE]
    assert count(loaded, o.boms) == len(made) > 0
    uow = UnitOfWork(loaded)
    sourdough = next(item for item in made if item.name == "Sourdough loaf")
    bom = production.get_bom(uow, sourdough.sku)
    assert bom.lead_time_days == 1
    assert {line.component for line in bom.lines} <= {i.sku for i in business.items}
    # A bake is released like any production order; its flour is reserved or pulled.
    order = production.create_production_order(uow, sourdough.sku, Decimal(12), "WH")
    assert production.release_production(uow, order.number).status == "released"
    # The kitchen has the flour: the bake reserves it from the warehouse's stock.
    flour = next(c for c in production.get_production_order(uow, order.number).components)
    assert flour.reserved == flour.quantity > 0


def test_a_cake_ordered_online_pulls_a_bake_from_the_kitchen_s_ingredients(
    loaded: Engine, business: DemoBusiness
) -> None:
    engine = loaded
    uow = UnitOfWork(engine)
    cake = next(i for i in business.items if i.policy is Policy.MAKE_TO_ORDER)
    placed = orders.place_order(
        uow,
        "Ada",
        [orders.NewLine(cake.sku, Decimal(1), "WH")],
        confirm=True,
        today=business.end,  # the day the history ends: its eggs and cream are fresh
    )
    line = placed.lines[0]
    assert line.fulfilment == "production"
    assert [peg.kind for peg in line.pegs] == ["production"]
    made = production.get_production_order(uow, line.pegs[0].supply)
    assert (made.sku, made.location, made.quantity) == (cake.sku, "WH", Decimal(1))
    recipe = next(bom for bom in business.boms if bom.sku == cake.sku)
    assert {c.sku: c.quantity for c in made.components} == dict(recipe.lines)
    # Eggs, flour, sugar: the kitchen holds them, so each is reserved, none bought.
    assert all(c.reserved == c.quantity for c in made.components)


def test_coffee_equipment_sold_online_is_drop_shipped_in_the_history_and_when_ordered(
    loaded: Engine, business: DemoBusiness
) -> None:
    engine = loaded
    with engine.connect() as db:
        linked = db.execute(
            select(o.purchase_orders.c.drop_ship_customer, o.sales_lines.c.fulfilment)
            .join(o.purchase_lines, o.purchase_lines.c.order_id == o.purchase_orders.c.id)
            .join(
                o.sales_lines,
                (o.sales_lines.c.order_id == o.purchase_orders.c.sales_order_id)
                & (o.sales_lines.c.item_id == o.purchase_lines.c.item_id),
            )
            .where(o.purchase_orders.c.drop_ship_customer.is_not(None))
        ).all()
    dropped = business.purchase_orders.filter(pl.col("drop_ship"))
    assert len(linked) == dropped.height > 0
    assert set(linked) == {("online", "drop_ship")}
    uow = UnitOfWork(engine)
    grinder = next(i for i in business.items if i.policy is Policy.DROP_SHIP)
    placed = orders.place_order(
        uow, "Ada", [orders.NewLine(grinder.sku, Decimal(1), "WH")], confirm=True
    )
    line = placed.lines[0]
    assert line.fulfilment == "drop_ship"
    order = purchasing.get_purchase_order(uow, line.pegs[0].supply.split("/")[0])
    assert order.drop_ship_customer == "Ada"
    assert order.supplier == "HEARTH"


@pytest.mark.slow
def test_a_plan_of_the_demo_bakery_releases_every_line(
    engine: Engine, business: DemoBusiness
) -> None:
    uow = UnitOfWork(engine)
    load_demo(uow, business)
    forecasting.run_forecast(uow, 7, "D")
    plan = planning.run_plan(uow)
    # The kitchen bakes to stock at the warehouse and the stores are refilled from it.
    made = {item.sku for item in business.items if item.kind is ItemKind.MADE}
    baked = [line for line in plan.lines if line.kind == "production"]
    assert baked
    assert {line.location for line in baked} == {"WH"}
    at_stores = {line.kind for line in plan.lines if line.sku in made and line.location != "WH"}
    assert at_stores <= {"transfer"}
    planning.approve_plan(uow, plan.id)
    released = planning.release_plan(uow, plan.id)
    failed = {line.sku: line.release_error for line in released.lines if line.status == "failed"}
    assert failed == {}
    assert released.status == "released"
