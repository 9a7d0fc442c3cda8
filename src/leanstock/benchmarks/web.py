"""`leanstock bench web`: how long each web page takes to render at the server.

Each page is asked for through the ASGI app (no network, no browser: the server's own time,
templates included) by a signed-in owner, once to warm up and then `N` times (`--quick`: 5,
else 30); the figures per page are the p50 and p95 in milliseconds. Two databases, each a
temp SQLite file or a new PostgreSQL schema (`--database`):

- `demo`: the sample business of `leanstock demo` (about 200 items, two years of history;
  `--quick`: a quarter of a year);
- `generated`: 10,000 items (`--quick`: 1,000) in a warehouse and two stores, 20 suppliers,
  lot-tracked items with lots expired, expiring this week and later, a month of sales with
  some items sold out, 40 purchase orders (half of them late), 40 confirmed sales orders,
  10 made items with bills of materials and a production order each, and 40 transfers.

On PostgreSQL the loaded database is analyzed before the timing, as autovacuum soon would
after a bulk load (its planner otherwise takes the new tables for nearly empty ones).

Per page also the median CPU time of this process (the app and, on SQLite, the database),
which a busy machine inflates less than the wall time. The bar of issue #13: every page
under 300 ms p95 on both.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from leanstock.adapters.auth.credentials import new_password
from leanstock.adapters.db.engine import make_engine
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.benchmarks import BenchOptions
from leanstock.benchmarks._http import fresh_database
from leanstock.config import Settings
from leanstock.domain.access import Role
from leanstock.domain.catalog import (
    CUSTOMER,
    SUPPLIER,
    Item,
    ItemKind,
    Location,
    LocationKind,
    Supplier,
    SupplierItem,
)
from leanstock.domain.ledger import OperationRecord, Place, Posting
from leanstock.services import (
    accounts,
    catalog,
    orders,
    production,
    purchasing,
    stock,
    transfers,
)

BAR_MS = 300.0
EMAIL = "web-bench@leanstock.example"
LOCATIONS = (
    ("WH", "Warehouse", LocationKind.WAREHOUSE),
    ("STORE-1", "First store", LocationKind.STORE),
    ("STORE-2", "Second store", LocationKind.STORE),
)
SUPPLIERS = 20
ORDERS = 40
MADE = 10


def pages(engine: Engine) -> dict[str, str]:
    """The pages to time, by name: lists, and one of each kind of record page."""
    uow = UnitOfWork(engine)
    sku = catalog.list_items(uow, 1, 0).items[0].sku
    found = {
        "today": "/",
        "items": "/items",
        "items_search": "/items?q=1",
        # Sorted by a computed column: the whole catalogue ranked in SQL, every request.
        "items_by_cover": "/items?sort=cover&dir=desc",
        "items_by_class": "/items?sort=class",
        "item": f"/items/{sku}",
        "item_chart": f"/items/{sku}/chart.json",
        "stock": "/stock",
        "stock_outs": "/stock?short=1",
        "count_sheet": "/stock/count",
        "purchase_orders": "/purchase-orders",
        "sales_orders": "/sales-orders",
        "plans": "/plans",
        "suppliers": "/suppliers",
        "forecasts": "/forecasts",
        "production_orders": "/production-orders",
        "production_new": "/production-orders/new",
        "transfer_orders": "/transfer-orders",
        "transfer_new": "/transfer-orders/new",
        "settings_users": "/settings/users",
        "settings_tokens": "/settings/tokens",
        "settings_locations": "/settings/locations",
        "sales_new": "/sales-orders/new",
        "item_options": "/items/options?q=1",
        "stock_move": "/stock/move",
        "kpis": "/kpis",
        "today_kpis": "/today/kpis",
        "stocktakes": "/stocktakes",
        "imports": "/imports",
        "customers": "/customers",
        "customer_options": "/customers/options?customer_code=a",
    }
    purchase = purchasing.list_purchase_orders(uow, limit=1).items
    if purchase:
        found["purchase_order"] = f"/purchase-orders/{purchase[0]['number']}"
    suppliers = catalog.list_suppliers(uow, 1, 0).items
    if suppliers:
        found["supplier"] = f"/suppliers/{suppliers[0].code}"
    sales = orders.list_orders(uow, limit=1).items
    if sales:
        found["sales_order"] = f"/sales-orders/{sales[0]['number']}"
    made = production.list_production_orders(uow, limit=1).items
    if made:
        found["production_order"] = f"/production-orders/{made[0]['number']}"
    moved = transfers.list_transfer_orders(uow, limit=1).items
    if moved:
        found["transfer_order"] = f"/transfer-orders/{moved[0]['number']}"
    return found


def load_demo_business(engine: Engine, quick: bool) -> None:
    from leanstock.demo.generate import generate
    from leanstock.services.demo import load_demo

    load_demo(UnitOfWork(engine), generate(42, days=91 if quick else 730))


def load_generated(engine: Engine, items: int, seed: int = 0) -> None:
    """The generated catalogue: written through the repositories in bulk, like the demo."""
    rng = np.random.default_rng(seed)
    today = datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=35), datetime.min.time(), UTC)
    uow = UnitOfWork(engine)
    with uow:
        for code, name, kind in LOCATIONS:
            uow.catalog.add_location(Location(code, name, kind))
        for s in range(SUPPLIERS):
            uow.catalog.add_supplier(Supplier(f"SUP-{s:02d}", f"Supplier {s}"))
        ids: dict[str, int] = {}
        lot_tracked: list[str] = []
        for i in range(items):
            sku = f"SKU-{i:05d}"
            tracked = i % 10 == 0
            item = Item(
                sku,
                f"Item {i} {('bread', 'milk', 'flour', 'cup', 'bag')[i % 5]}",
                category=f"Category {i % 20}",
                unit_cost=Decimal(int(rng.integers(50, 5000))) / 100,
                lot_tracked=tracked,
                shelf_life_days=30 if tracked else None,
            )
            ids[sku] = uow.catalog.add_item(item).id
            if tracked:
                lot_tracked.append(sku)
            price = Decimal(int(rng.integers(30, 4000))) / 100
            lead = int(rng.integers(1, 15))
            uow.catalog.put_supplier_item(
                SupplierItem(f"SUP-{i % SUPPLIERS:02d}", sku, price, lead), create=True
            )
        # Per lot-tracked item: one lot expired, one expiring this week, one fresh.
        lots = [
            (ids[sku], f"{sku}-{n}", today + timedelta(days=offset))
            for sku in lot_tracked
            for n, offset in enumerate((-3, 4, 25))
        ]
        uow.ledger.add_lots(lots)
        places = {}
        for code in (*[c for c, _, _ in LOCATIONS], SUPPLIER, CUSTOMER):
            stored = uow.catalog.location(code)
            places[code] = Place(stored.id, code, stored.value.may_go_negative)
        operations: list[OperationRecord] = []
        received: dict[tuple[str, str], int] = {}
        for code, _, _ in LOCATIONS:
            postings = []
            for sku, item_id in ids.items():
                quantity = int(rng.integers(20, 200))
                received[(sku, code)] = quantity
                if sku in lot_tracked:
                    third = quantity // 3
                    for n in range(3):
                        postings.append(
                            Posting(
                                item_id,
                                places[SUPPLIER],
                                places[code],
                                Decimal(third),
                                f"{sku}-{n}",
                            )
                        )
                    received[(sku, code)] = 3 * third
                else:
                    postings.append(
                        Posting(item_id, places[SUPPLIER], places[code], Decimal(quantity))
                    )
            operations.append(OperationRecord("receipt", postings, start, f"opening {code}"))
        # A month of weekly sales from the stores; one item in 30 sells out.
        for week in range(4):
            when = start + timedelta(days=7 * (week + 1))
            for code in ("STORE-1", "STORE-2"):
                postings = []
                for sku, item_id in ids.items():
                    if sku in lot_tracked:
                        continue
                    sold_out = int(sku[-5:]) % 30 == 1
                    total = received[(sku, code)]
                    # The last unit of a sold-out item is sold through the service below.
                    left = total - 1
                    quantity = left // 4 + (left % 4 if week == 3 else 0) if sold_out else 3
                    postings.append(
                        Posting(item_id, places[code], places[CUSTOMER], Decimal(quantity))
                    )
                operations.append(OperationRecord("shipment", postings, when, f"sales {code}"))
        uow.ledger.post_history(operations)
        uow.commit()
    skus = list(ids)
    for sku in skus:
        if sku not in lot_tracked and int(sku[-5:]) % 30 == 1:
            for code in ("STORE-1", "STORE-2"):
                stock.ship(uow, sku, code, Decimal(1))
    for n in range(ORDERS):
        supplier = f"SUP-{n % SUPPLIERS:02d}"
        mine = skus[n % SUPPLIERS :: SUPPLIERS][:5]
        expected = today + timedelta(days=-5 if n % 2 else 10)
        lines = [purchasing.NewPurchaseLine(s, Decimal(24), "WH", None, expected) for s in mine]
        draft = purchasing.add_to_draft(uow, supplier, lines)
        purchasing.release(uow, draft.number)
    for n in range(ORDERS):
        chosen = [skus[(n * 37 + k * 101) % len(skus)] for k in range(3)]
        wanted = [orders.NewLine(s, Decimal(1), "STORE-1") for s in chosen if s not in lot_tracked]
        if wanted:
            orders.place_order(uow, f"customer-{n}", wanted, confirm=True)
    # Made items, each from three bought ones, with production orders at the warehouse; and
    # transfers from the warehouse to the first store.
    bought = [s for s in skus if s not in lot_tracked]
    for n in range(MADE):
        sku = f"MADE-{n:03d}"
        catalog.add_item(uow, Item(sku, f"Made item {n}", kind=ItemKind.MADE))
        parts = [bought[(n * 7 + k * 13) % len(bought)] for k in range(3)]
        production.put_bom(uow, sku, [(c, Decimal(1), Decimal(0)) for c in parts])
        production.create_production_order(uow, sku, Decimal(2), "WH")
    for n in range(ORDERS):
        sku = bought[(n * 53) % len(bought)]
        transfers.create_transfer_order(uow, sku, "WH", "STORE-1", Decimal(1))


@contextmanager
def signed_in(url: str) -> Iterator[tuple[TestClient, Engine]]:
    """A client of the whole app, signed in as an owner with the login form."""
    from leanstock.entrypoints.api.app import create_app

    engine = make_engine(url)
    password = new_password()
    accounts.create_user(UnitOfWork(engine), EMAIL, password, Role.OWNER)
    client = TestClient(create_app(Settings(cookie_secure=False), engine=engine))
    with client:
        answer = client.post("/login", data={"email": EMAIL, "password": password, "next": "/"})
        if answer.status_code != 200:
            raise RuntimeError(f"Signing in failed: {answer.status_code} {answer.text[:200]}")
        yield client, engine
    engine.dispose()


def time_pages(client: TestClient, engine: Engine, requests: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    for name, path in pages(engine).items():
        client.get(path)  # warm-up: templates compiled, caches filled
        times, cpu = [], []
        for _ in range(requests):
            started, cpu_started = time.perf_counter(), time.process_time()
            answer = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text[:200]}")
        ms = np.array(times)
        figures[name] = {
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 1),
        }
        f = figures[name]
        print(
            f"  {name:16} {path:40} p50 {f['p50_ms']:7.1f} ms  p95 {f['p95_ms']:7.1f} ms"
            f"  CPU p50 {f['cpu_p50_ms']:6.1f} ms",
            file=sys.stderr,
        )
    return figures


def run(options: BenchOptions) -> dict[str, object]:
    requests = 5 if options.quick else 30
    items = 1_000 if options.quick else 10_000
    result: dict[str, object] = {"benchmark": "web", "requests_per_page": requests}
    for dataset in ("demo", "generated"):
        with fresh_database(options.database) as (kind, url, _token):
            result["database"] = kind
            began = time.perf_counter()
            engine = make_engine(url)
            if dataset == "demo":
                load_demo_business(engine, options.quick)
            else:
                load_generated(engine, items)
            if engine.dialect.name == "postgresql":
                # As autovacuum would soon after a bulk load: the planner's statistics of the
                # loaded tables, without which it plans them as nearly empty.
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
                    db.execute(text("ANALYZE"))
            engine.dispose()
            print(
                f"{dataset}: loaded in {time.perf_counter() - began:.0f} s; timing pages",
                file=sys.stderr,
            )
            with signed_in(url) as (client, engine):
                figures = time_pages(client, engine, requests)
        result[dataset] = figures
        worst = max(f["p95_ms"] for f in figures.values())
        result[f"{dataset}_worst_p95_ms"] = worst
        result[f"{dataset}_median_p50_ms"] = round(
            statistics.median(f["p50_ms"] for f in figures.values()), 1
        )
    result["generated_items"] = items
    result["bar_p95_ms"] = BAR_MS
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    result["quick"] = options.quick
    return result
