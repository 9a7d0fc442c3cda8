# ruff: noqa: N999  (the module is named for `leanstock bench import`)
"""`leanstock bench import`: a business's files imported into a fresh database.

A catalog of 500 items at 4 locations with 10 suppliers, then 100,000 rows of sales history
(as a CSV file and, for the read alone, as XLSX), imported and imported again (which updates
every order), then 2,000 rows of opening stock (row by row through the stock-count use case).
Target (issue 14): 100,000 history rows in under 30 s on SQLite and on PostgreSQL.
Figures: seconds and rows per second of each step, file reading included.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from leanstock.benchmarks import BenchOptions, peak_memory_mb
from leanstock.benchmarks._http import fresh_database

ITEMS = 500
LOCATIONS = ("WH", "S1", "S2", "S3")


def _csv(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _files(history_rows: int) -> dict[str, bytes]:
    items = ["sku,name,unit,lot_tracked,shelf_life_days"] + [
        f"SKU-{i:05d},Item {i},each,{'true,30' if i % 5 == 0 else 'false,'}" for i in range(ITEMS)
    ]
    locations = ["code,name,kind"] + [
        f"{c},{c},{'warehouse' if c == 'WH' else 'store'}" for c in LOCATIONS
    ]
    suppliers = ["code,name"] + [f"SUP-{s},Supplier {s}" for s in range(10)]
    start = date(2024, 1, 1)
    history = ["date,sku,location,quantity,shipped,customer,order"]
    for n in range(history_rows):
        day = start + timedelta(days=n // 150)
        sku = f"SKU-{(n * 7919) % ITEMS:05d}"
        location = LOCATIONS[n % 4]
        quantity = 1 + n % 9
        customer = f"c{(n // 5) % 50}"
        history.append(
            f"{day},{sku},{location},{quantity},{quantity - n % 2},{customer},O-{n // 5}"
        )
    stock = ["sku,location,quantity,lot,expiry"]
    for i in range(ITEMS):
        for location in LOCATIONS:
            lot = f"L{i}" if i % 5 == 0 else ""
            expiry = "2030-01-01" if lot else ""
            stock.append(f"SKU-{i:05d},{location},{10 + i % 17},{lot},{expiry}")
    return {
        "locations": _csv(locations),
        "suppliers": _csv(suppliers),
        "items": _csv(items),
        "sales-history": _csv(history),
        "opening-stock": _csv(stock),
    }


def _timed(uow: Any, kind: str, data: bytes, fmt: str = "csv") -> tuple[float, Any]:
    from leanstock.adapters.files.spreadsheets import read_sheet
    from leanstock.services import imports

    began = time.perf_counter()
    report = imports.run_import(uow, kind, read_sheet(data, fmt))
    seconds = time.perf_counter() - began
    if report.problems:
        raise RuntimeError(f"{kind}: {report.problems[:3]}")
    return seconds, report


def run(options: BenchOptions) -> dict[str, object]:
    from leanstock.adapters.db.engine import make_engine
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.adapters.files.spreadsheets import read_sheet, write_sheet

    history_rows = 10_000 if options.quick else 100_000
    files = _files(history_rows)
    figures: dict[str, object] = {"history_rows": history_rows}
    with fresh_database(options.database) as (kind, url, _token):
        figures["database"] = kind
        engine = make_engine(url)
        uow = UnitOfWork(engine)
        for name in ("locations", "suppliers", "items"):
            _timed(uow, name, files[name])
        seconds, report = _timed(uow, "sales-history", files["sales-history"])
        figures["history_import_s"] = round(seconds, 2)
        figures["history_rows_per_s"] = round(history_rows / seconds)
        figures["history_orders"] = report.created
        seconds, report = _timed(uow, "sales-history", files["sales-history"])
        figures["history_reimport_s"] = round(seconds, 2)
        figures["history_reimport_updated"] = report.updated
        stock_rows = ITEMS * len(LOCATIONS)
        seconds, _ = _timed(uow, "opening-stock", files["opening-stock"])
        figures["opening_stock_rows"] = stock_rows
        figures["opening_stock_s"] = round(seconds, 2)
        figures["opening_stock_rows_per_s"] = round(stock_rows / seconds)
        engine.dispose()
    sheet = read_sheet(files["sales-history"], "csv")
    xlsx = write_sheet(sheet, "xlsx")
    began = time.perf_counter()
    read_sheet(xlsx, "xlsx")
    figures["xlsx_read_s"] = round(time.perf_counter() - began, 2)
    figures["under_30_s"] = float(str(figures["history_import_s"])) < 30
    figures["peak_memory_mb"] = peak_memory_mb()
    return figures
