"""Importing a business from spreadsheets and exporting it back, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from conftest import Templates
from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.adapters.files.spreadsheets import read_sheet, write_sheet
from leanstock.services import catalog, customers, exports, imports, queries, valuation
from leanstock.services.imports.fields import Sheet
from leanstock.services.orders import demand_history

D = Decimal

FILES = {
    "locations": "code,name,kind\nWH,Warehouse,warehouse\nSTORE,Shop,store\n",
    "suppliers": "Supplier Code,name,email\nMILL,The Mill,orders@mill.example\nDAIRY,Dairy,\n",
    "items": (
        "SKU,Description,UOM,kind,category,cost,lot_tracked,shelf_life,policy\n"
        "FLOUR,Flour 25 kg,bag,bought,dry,18.40,false,,reorder_point\n"
        "MILK,Milk 1l,l,bought,fresh,0.90,true,10,kanban\n"
        "LOAF,Sourdough loaf,each,made,bread,1.20,false,,make_to_order\n"
    ),
    "customers": (
        "Customer Code,name,email,phone,address,ship_to,priority,active\n"
        'BISTRO,Bistro Bella,orders@bistro.example,,"1 Main St, Springfield",Dock 4,2,true\n'
        "DELI,The Deli,,+44 20 7946 0000,,,,\n"
    ),
    "barcodes": "sku,EAN\nFLOUR,4006381333931\nMILK,96385074\nMILK,036000291452\n",
    "supplier-terms": (
        "supplier,sku,price,lead_time,moq,pack_size,priority,supplier_sku,price_breaks\n"
        "MILL,FLOUR,18.40,3,10,5,1,M-FL25,50:17.90; 200:17.20\n"
        "DAIRY,MILK,0.90,1,12,12,1,,\n"
    ),
    "boms": (
        "parent,component,qty,scrap,lead_time_days\nLOAF,FLOUR,0.02,0.05,1\nLOAF,MILK,0.1,0,1\n"
    ),
    "opening-stock": (
        "sku,location,on_hand,unit,lot,expiry\n"
        "FLOUR,WH,40,bag,,\n"
        "MILK,WH,24,l,M-1,2030-01-31\n"
        "MILK,STORE,6,,M-2,2030-02-28\n"
    ),
    "sales-history": (
        "date,sku,location,qty,shipped,customer,order\n"
        "2026-10-01,LOAF,STORE,12,12,walk-in,R-1\n"
        "2026-10-01,FLOUR,STORE,1,0,walk-in,R-1\n"
        "2026-10-02,LOAF,STORE,9,9,,\n"
        "2026-10-02,MILK,STORE,3,3,,\n"
    ),
    "purchase-history": (
        "po,supplier,sku,location,quantity,price,ordered_on,promised_on,received_on,received\n"
        "P-1,MILL,FLOUR,WH,40,18.40,2026-09-01,2026-09-04,2026-09-05,40\n"
        "P-1,MILL,FLOUR,STORE,5,18.40,2026-09-01,2026-09-04,2026-09-05,4\n"
        "P-2,DAIRY,MILK,WH,24,0.90,2026-09-10,2026-09-11,,\n"
    ),
}
ORDER = list(FILES)


def sheet(text: str) -> Sheet:
    return read_sheet(text.encode(), "csv")


def load(uow: UnitOfWork, *kinds: str) -> None:
    for kind in kinds or ORDER:
        report = imports.run_import(uow, kind, sheet(FILES[kind]))
        assert report.problems == [], (kind, report.problems)
        assert report.applied


@pytest.fixture
def db_url(db_kind: str, templates: Templates, request: pytest.FixtureRequest) -> Iterator[str]:
    """A copy of the whole business imported from FILES (once per session) for the tests that
    ask for `imported`, else an empty database. The test of importing it,
    `test_a_whole_business_imports_through_the_use_cases`, imports into an empty one."""
    seeds = {"imported": ("imported_business", import_the_files)}
    with templates.for_test(request, db_kind, seeds) as url:
        yield url


@pytest.fixture
def imported(uow: UnitOfWork) -> UnitOfWork:
    """Every kind of FILES imported, in ORDER."""
    return uow


def import_the_files(engine: Engine) -> None:
    load(UnitOfWork(engine))


def counts(uow: UnitOfWork) -> dict[str, int]:
    tables = (t.items, t.locations, t.suppliers, t.moves, o.sales_lines, o.purchase_lines)
    with uow:
        return {
            table.name: uow.connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in tables
        }


def test_a_whole_business_imports_through_the_use_cases(uow: UnitOfWork) -> None:
    load(uow)
    flour = catalog.get_item(uow, "FLOUR")
    assert (flour.name, flour.unit, flour.unit_cost) == ("Flour 25 kg", "bag", D("18.40"))
    terms = catalog.list_supplier_items(uow, supplier="MILL", sku="FLOUR").items[0]
    assert terms.price_at(D(200)) == D("17.20")
    assert (terms.moq, terms.supplier_sku) == (D(10), "M-FL25")
    levels = {(r["sku"], r["location"]): r["on_hand"] for r in queries.stock(uow).items}
    assert levels[("FLOUR", "WH")] == 40
    assert levels[("MILK", "STORE")] == 6
    lots = {(r["location"], r["lot"]): r["expires_on"] for r in queries.lots(uow, "MILK")}
    assert lots[("WH", "M-1")] == date(2030, 1, 31)


def test_imported_sales_history_is_the_demand_forecasts_read(imported: UnitOfWork) -> None:
    demand = demand_history(imported).filter(item="LOAF").sort("ds")
    assert demand["qty"].to_list() == [12.0, 9.0]
    unmet = demand_history(imported).filter(item="FLOUR")
    assert unmet["qty"].to_list() == [1.0]
    assert unmet["stockout"].to_list() == [True]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_kind_exports_and_imports_back_unchanged(imported: UnitOfWork, fmt: str) -> None:
    before = counts(imported)
    for kind in ORDER:
        exported = exports.export(imported, kind)
        assert exported.rows, kind
        again = read_sheet(write_sheet(exported, fmt), fmt)
        report = imports.run_import(imported, kind, again)
        assert report.problems == [], (kind, report.problems)
        assert report.created == 0, kind
        if not kind.endswith("history"):
            assert report.updated == 0, kind
            assert report.unchanged == len(exported.rows) or kind == "boms", kind
        assert exports.export(imported, kind) == exported, kind
    assert counts(imported) == before


def test_re_importing_a_changed_file_updates_instead_of_duplicating(imported: UnitOfWork) -> None:
    before = counts(imported)
    items = FILES["items"].replace("Flour 25 kg", '"Flour, 25 kg sack"')
    report = imports.run_import(imported, "items", sheet(items))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert catalog.get_item(imported, "FLOUR").name == "Flour, 25 kg sack"
    sales = FILES["sales-history"].replace(
        "2026-10-01,LOAF,STORE,12,12", "2026-10-01,LOAF,STORE,15,12"
    )
    report = imports.run_import(imported, "sales-history", sheet(sales))
    assert (report.created, report.updated) == (0, 2)
    assert demand_history(imported).filter(item="LOAF")["qty"].sum() == 24.0
    stock = FILES["opening-stock"].replace("FLOUR,WH,40", "FLOUR,WH,38")
    report = imports.run_import(imported, "opening-stock", sheet(stock))
    assert (report.updated, report.unchanged) == (1, 2)
    after = counts(imported)
    assert after["moves"] == before["moves"] + 1
    assert {k: v for k, v in after.items() if k != "moves"} == {
        k: v for k, v in before.items() if k != "moves"
    }


def test_a_dry_run_names_every_problem_by_row_and_column_and_changes_nothing(
    uow: UnitOfWork,
) -> None:
    load(uow, "locations", "suppliers", "items")
    before = counts(uow)
    cases = {
        "items": (
            "sku,name,lot_tracked\nEGG,Eggs,maybe\nEGG,Eggs again,false\n,No code,\n",
            [
                (2, "lot_tracked", "is not yes or no"),
                (3, "sku", "EGG is on row 2 already"),
                (4, "sku", "sku is empty"),
            ],
        ),
        "supplier-terms": (
            "supplier,sku,price,lead_time_days\nNOBODY,FLOUR,1,2\nMILL,FLOUR,cheap,2\n",
            [(2, "supplier", "No supplier NOBODY exists"), (3, "price", "is not a number")],
        ),
        "opening-stock": (
            "sku,location,qty,unit,lot,expiry\n"
            "FLOUR,WH,lots,,,\n"
            "FLOUR,STORE,3,kg,,\n"
            "MILK,WH,2,,M-9,31/01/2030\n"
            "MILK,WH,2,,,\n"
            "GHOST,WH,1,,,\n",
            [
                (2, "qty", "'lots' is not a number"),
                (3, "unit", "stocked in 'bag' and has no conversion from 'kg'"),
                (4, "expiry", "write it as YYYY-MM-DD"),
                (5, "lot", "is lot-tracked"),
                (6, "sku", "No item GHOST exists"),
            ],
        ),
        "customers": (
            "code,name,priority,email\nC1,One,0,\nC1,Again,,\nC2,,3,\nC3,Three,x,\n"
            "C4,Four,,not-an-address\n",
            [
                (2, "priority", "priority 0 is out of range"),
                (3, "code", "C1 is on row 2 already"),
                (4, "name", "needs a name"),
                (5, "priority", "is not a number"),
                (6, "email", "is not an e-mail address"),
            ],
        ),
        "barcodes": (
            "sku,barcode\nFLOUR,4006381333932\nFLOUR,12345\nGHOST,96385074\n"
            "FLOUR,036000291452\nMILK,036000291452\n",
            [
                (2, "barcode", "wrong check digit"),
                (3, "barcode", "is not a GTIN"),
                (4, "sku", "No item GHOST exists"),
                (6, "barcode", "036000291452 is on row 5 already"),
                (6, "barcode", "already used by item FLOUR"),  # the dry run tried row 5
            ],
        ),
        "sales-history": (
            "date,sku,location,qty\n2026-13-01,LOAF,STORE,1\n2026-10-01,LOAF,ATTIC,1\n"
            "2026-10-01,LOAF,STORE,-2\n",
            [
                (2, "date", "YYYY-MM-DD"),
                (3, "location", "No location ATTIC exists"),
                (4, "qty", "greater than zero"),
            ],
        ),
    }
    for kind, (text, expected) in cases.items():
        report = imports.run_import(uow, kind, sheet(text), dry_run=True)
        found = [(p.row, p.column) for p in report.problems]
        assert found == [(row, column) for row, column, _ in expected], (kind, report.problems)
        for problem, (_, _, words) in zip(report.problems, expected, strict=True):
            assert words in problem.message, problem
        assert not report.applied
    assert counts(uow) == before


def test_one_bad_row_imports_nothing_of_the_file(uow: UnitOfWork) -> None:
    load(uow, "locations")
    before = counts(uow)
    with uow:
        events = uow.outbox.events()  # the locations'
    text = "sku,name\nA,Apple\nB,Banana\nbad sku,Cherry\n"
    report = imports.run_import(uow, "items", sheet(text))
    assert [(p.row, p.column) for p in report.problems] == [(4, "sku")]
    assert counts(uow) == before
    with uow:
        assert uow.outbox.events() == events


def test_a_dry_run_of_a_good_file_reports_what_it_would_do_and_changes_nothing(
    uow: UnitOfWork,
) -> None:
    before = counts(uow)
    report = imports.run_import(uow, "locations", sheet(FILES["locations"]), dry_run=True)
    assert (report.ok, report.applied, report.created) == (True, False, 2)
    assert counts(uow) == before


def test_columns_match_by_alias_or_by_an_explicit_mapping(uow: UnitOfWork) -> None:
    text = "Artikel,Bezeichnung,Notes\nA1,Apfel,crunchy\n"
    report = imports.run_import(
        uow, "items", sheet(text), mapping={"Artikel": "sku", "Bezeichnung": "name"}
    )
    assert (report.applied, report.created) == (True, 1)
    assert report.ignored_columns == ["Notes"]
    assert catalog.get_item(uow, "A1").name == "Apfel"
    missing = imports.run_import(uow, "items", sheet("Artikel,name\nA2,Birne\n"))
    assert [(p.row, p.column) for p in missing.problems] == [(1, "sku")]


def test_a_large_history_file_imports_in_one_transaction(uow: UnitOfWork) -> None:
    """1,100 orders of four lines: the orders already known are looked up and their lines
    replaced 500 at a time (the history repository's chunks): three chunks, the last one
    part full. (It was 5,000 orders: five times the rows, the same paths.)"""
    load(uow, "locations", "suppliers", "items")
    rows = 4_400
    lines = ["date,sku,location,qty,order"]
    start = date(2025, 1, 1).toordinal()
    for n in range(rows):
        day = date.fromordinal(start + n // 40)
        sku = ("LOAF", "FLOUR", "MILK")[n % 3]
        lines.append(f"{day},{sku},{'STORE' if n % 2 else 'WH'},{1 + n % 7},S-{n // 4}")
    big = sheet("\n".join(lines) + "\n")
    report = imports.run_import(uow, "sales-history", big)
    assert report.problems == []
    assert report.created == rows // 4 == 1_100
    assert counts(uow)["sales_lines"] == rows
    again = imports.run_import(uow, "sales-history", big)
    assert (again.created, again.updated) == (0, 1_100)
    assert counts(uow)["sales_lines"] == rows
    total = sum(1 + n % 7 for n in range(rows))
    assert demand_history(uow)["qty"].sum() == total


def test_stock_exports_as_of_a_moment_with_its_value(uow: UnitOfWork) -> None:
    load(uow, "locations", "suppliers", "items", "opening-stock")
    now = exports.export(uow, "stock")
    row = dict(zip(now.columns, now.rows[0], strict=True))
    assert (row["sku"], row["location"], row["quantity"], row["value"]) == (
        "FLOUR",
        "WH",
        "40",
        "736",
    )
    past = exports.export(uow, "stock", datetime(2000, 1, 1, tzinfo=UTC))
    assert past.rows == []


def test_moves_orders_and_plan_runs_export_too(imported: UnitOfWork) -> None:
    moves = exports.export(imported, "moves")
    rows = [dict(zip(moves.columns, r, strict=True)) for r in moves.rows]
    assert {(r["sku"], r["target"], r["quantity"]) for r in rows} == {
        ("FLOUR", "WH", "40"),
        ("MILK", "WH", "24"),
        ("MILK", "STORE", "6"),
    }
    assert {r["kind"] for r in rows} == {"adjustment"}
    assert exports.export(imported, "moves", datetime(2000, 1, 1, tzinfo=UTC)).rows == []
    sales = exports.export(imported, "sales-orders")
    assert [r[:3] for r in sales.rows] == [
        ["SO-000001", "walk-in", "shipped"],
        ["SO-000002", "imported", "shipped"],
    ]
    purchases = exports.export(imported, "purchase-orders")
    assert [r[:3] for r in purchases.rows] == [
        ["PO-000001", "MILL", "closed"],
        ["PO-000002", "DAIRY", "closed"],
    ]
    assert exports.export(imported, "plan-runs").rows == []


def test_a_catalog_file_too_long_to_import_row_by_row_is_refused_whole(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "MAX_ROWS_ONE_BY_ONE", 2)
    report = imports.run_import(
        uow, "locations", sheet(FILES["locations"] + "BACK,Back room,store\n")
    )
    assert [(p.row, p.column) for p in report.problems] == [(None, None)]
    assert "split it" in report.problems[0].message
    assert catalog.list_locations(uow, physical=True).total == 0


def test_customers_and_barcodes_import_and_a_barcode_of_another_item_is_refused(
    uow: UnitOfWork,
) -> None:
    load(uow, "locations", "items", "customers", "barcodes")
    bistro = customers.get_customer(uow, "BISTRO")
    assert (bistro.billing_address, bistro.ship_to, bistro.priority) == (
        "1 Main St, Springfield",
        "Dock 4",
        2,
    )
    assert customers.get_customer(uow, "DELI").priority == 5
    assert catalog.get_item(uow, "036000291452").sku == "MILK"
    before = counts(uow)
    report = imports.run_import(uow, "barcodes", sheet("sku,barcode\nLOAF,96385074\n"))
    assert [(p.row, p.column) for p in report.problems] == [(2, "barcode")]
    assert "already used by item MILK" in report.problems[0].message
    assert counts(uow) == before
    assert catalog.barcodes_of(uow, ["LOAF"]) == {"LOAF": []}


def test_opening_stock_keeps_the_cost_each_row_gives(uow: UnitOfWork) -> None:
    load(uow, "locations", "items")
    text = "sku,location,qty,lot,expiry,unit_cost\nMILK,WH,10,M-1,2030-01-31,0.75\nFLOUR,WH,2,,,\n"
    report = imports.run_import(uow, "opening-stock", sheet(text))
    assert report.problems == []
    assert report.notes == []
    value = valuation.stock_value(uow)
    lines = {(v.sku, v.location): (v.quantity, v.value) for v in value.lines}
    assert lines[("MILK", "WH")] == (D(10), D("7.5"))  # the file's cost, not the item's 0.90
    assert lines[("FLOUR", "WH")] == (D(2), D("36.8"))  # no cost given: the item's 18.40
