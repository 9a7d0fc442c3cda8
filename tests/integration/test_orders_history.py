"""The demo's history as past orders: demand at order time, promised against actual deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest
from sqlalchemy import Engine

from conftest import Templates
from leanstock.adapters.db.engine import make_engine
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.demo import DemoBusiness, generate
from leanstock.demo.generate import DISRUPTED_SUPPLIER, DISRUPTION, DISRUPTION_DELAY
from leanstock.services import orders, purchasing, queries
from leanstock.services.demo import load_demo

# Two months: loading the history is most of this module's cost (and grows with the days),
# and 60 days already hold 565 receipts, 6 of the disrupted supplier's orders placed in its
# disruption and 54 before it; 120 days took twice as long to load and asserted the same.
DAYS = 60


@pytest.fixture(scope="module")
def business() -> DemoBusiness:
    return generate(seed=5, days=DAYS, end=date(2026, 6, 30))


@pytest.fixture
def loaded(db_kind: str, templates: Templates, business: DemoBusiness) -> Iterator[UnitOfWork]:
    """A database of this test's own holding the loaded history: loaded once per session into
    a template (tests/conftest.py), copied per test, so a test may change it."""

    def load(engine: Engine) -> None:
        load_demo(UnitOfWork(engine), business)

    with templates.copy(db_kind, f"demo_history_5_{DAYS}", load) as url:
        engine = make_engine(url)
        yield UnitOfWork(engine)
        engine.dispose()


@pytest.mark.slow
def test_past_sales_orders_carry_all_demand_including_what_was_not_served(
    loaded: UnitOfWork, business: DemoBusiness
) -> None:
    uow = loaded
    history = orders.demand_history(uow, "D")
    sold = business.profiles.filter(pl.col("outflow") == "shipment")["sku"]
    asked = business.demand.filter(pl.col("sku").is_in(sold.implode()))
    assert history["qty"].sum() == pytest.approx(float(asked["demanded"].sum()), rel=1e-9)
    unserved = asked.filter(pl.col("served") < pl.col("demanded"))
    assert history["stockout"].sum() == unserved.select("day", "sku", "location").n_unique()
    assert history["ds"].min() == business.start
    weekly = orders.demand_history(uow, "W")
    assert weekly["qty"].sum() == pytest.approx(history["qty"].sum())


def test_past_purchase_orders_keep_promised_and_actual_deliveries(
    loaded: UnitOfWork, business: DemoBusiness
) -> None:
    uow = loaded
    receipts = purchasing.receipt_history(uow)
    delivered = business.purchase_orders.filter(pl.col("received_on").is_not_null())
    assert receipts.height == delivered.height
    assert receipts["received_qty"].sum() == pytest.approx(float(delivered["received"].sum()))
    late = receipts.filter(pl.col("received_date") > pl.col("promised_date"))
    short = receipts.filter(pl.col("received_qty") < pl.col("ordered_qty"))
    assert 0 < late.height < receipts.height
    assert 0 < short.height < receipts.height
    first = business.receipts.row(0, named=True)
    number = first["reference"]
    po = purchasing.get_purchase_order(uow, number)
    assert po.supplier == first["partner"]
    assert any(line.received > 0 for line in po.lines)


def test_one_supplier_has_a_disruption_period(loaded: UnitOfWork, business: DemoBusiness) -> None:
    uow = loaded
    receipts = purchasing.receipt_history(uow).filter(pl.col("supplier") == DISRUPTED_SUPPLIER)
    start = business.start + timedelta(days=int(DAYS * DISRUPTION[0]))
    end = business.start + timedelta(days=int(DAYS * DISRUPTION[1]))
    ordered = pl.col("ordered_at").dt.date()
    during = receipts.filter((ordered >= start) & (ordered < end))
    before = receipts.filter(ordered < start)
    assert during.height > 0
    delay = (pl.col("received_date") - pl.col("promised_date")).dt.total_days()
    assert during.select(delay.min()).item() >= DISRUPTION_DELAY
    assert before.select(delay.mean()).item() < 3


def test_new_orders_follow_the_history_numbers(loaded: UnitOfWork, business: DemoBusiness) -> None:
    uow = loaded
    last = purchasing.list_purchase_orders(uow, limit=1).items[0]["number"]
    sku = queries.stock(uow, location="WH").items[0]["sku"]
    view = orders.place_order(uow, "New", [orders.NewLine(sku, Decimal(1), "WH")], confirm=True)
    assert view.number == f"SO-{orders.list_orders(uow).total:06d}"
    assert purchasing.list_purchase_orders(uow, limit=1).items[0]["number"] >= last
