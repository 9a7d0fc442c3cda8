"""`leanstock import` and `leanstock export` as a person uses them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from leanstock.entrypoints.cli import app

runner = CliRunner()


def leanstock(db: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", f"sqlite:///{db}", *args])
    return result.exit_code, result.output


def test_a_business_moves_in_from_files_and_out_again(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    assert leanstock(db, "init")[0] == 0
    template = tmp_path / "items.xlsx"
    code, out = leanstock(db, "import", "template", "items", "--output", str(template))
    assert code == 0, out
    code, out = leanstock(db, "import", "items", str(template), "--dry-run")
    assert code == 0, out
    assert "1 would be created" in out
    assert "nothing changed" in out
    code, out = leanstock(db, "export", "items")
    assert (
        out.strip()
        == "sku,name,unit,kind,category,unit_cost,lot_tracked,shelf_life_days,policy,active,"
        "serial_tracked"
    )
    assert leanstock(db, "import", "items", str(template))[0] == 0
    exported = tmp_path / "out.csv"
    code, out = leanstock(db, "export", "items", "--output", str(exported))
    assert code == 0, out
    assert "FLOUR-25,Flour 25 kg,bag" in exported.read_text()
    code, out = leanstock(db, "import", "items", str(exported))
    assert code == 0, out
    assert "1 unchanged" in out


def test_problems_print_by_row_and_column_and_exit_1(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    assert leanstock(db, "init")[0] == 0
    bad = tmp_path / "stock.csv"
    bad.write_text("sku,location,qty\nGHOST,WH,two\n")
    code, out = leanstock(db, "import", "opening-stock", str(bad))
    assert code == 1
    assert "nothing was imported" in out
    assert "'two' is not a number" in out
    code, out = leanstock(db, "import", "opening-stock", str(tmp_path / "missing.csv"))
    assert code == 2
    assert "No file" in out
    code, out = leanstock(db, "export", "widgets")
    assert code == 2
    assert "Unknown export kind" in out


def test_the_worker_publishes_the_outbox_once(tmp_path: Path) -> None:
    from decimal import Decimal

    from leanstock.adapters.db.engine import make_engine
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.domain.catalog import Item, Location
    from leanstock.services import catalog, orders

    db = tmp_path / "shop.db"
    assert leanstock(db, "init")[0] == 0
    engine = make_engine(f"sqlite:///{db}")
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup"))
    orders.place_order(uow, "Bo", [orders.NewLine("CUP", Decimal(1), "WH")])
    engine.dispose()
    code, out = leanstock(db, "worker", "--once")
    assert code == 0, out
    assert out.startswith("3 events published")  # the location, the item and the order
    code, out = leanstock(db, "publish", "--once")
    assert out.startswith("0 events published")


def test_the_publisher_that_serve_starts_publishes_in_the_background(tmp_path: Path) -> None:
    import time
    from decimal import Decimal

    from leanstock.adapters.db.engine import make_engine
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.domain.catalog import Item, Location
    from leanstock.entrypoints.cli.worker import start_publisher
    from leanstock.services import catalog, orders

    db = tmp_path / "shop.db"
    assert leanstock(db, "init")[0] == 0
    engine = make_engine(f"sqlite:///{db}")
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup"))
    stop = start_publisher(engine, interval=0.05)
    try:
        orders.place_order(uow, "Bo", [orders.NewLine("CUP", Decimal(1), "WH")])
        for _ in range(600):
            with uow:
                events = uow.outbox.events()
            if events and all(e["published_at"] is not None for e in events):
                break
            time.sleep(0.05)
    finally:
        stop.set()
    assert events
    assert all(e["published_at"] is not None for e in events)
    engine.dispose()
