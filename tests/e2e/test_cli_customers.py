"""Customer and barcode commands as a person uses them: records, orders for them, and items
named by a scanned barcode."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from leanstock.adapters.db.engine import make_engine, upgrade
from leanstock.entrypoints.cli import app
from leanstock.entrypoints.cli.app import console

runner = CliRunner()
EAN = "4006381333931"


def leanstock(db: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", f"sqlite:///{db}", *args])
    return result.exit_code, result.output


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(console, "width", 220)
    path = tmp_path / "shop.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    for args in (("add-location", "WH", "Warehouse"), ("add-item", "MUG", "Mug", "--barcode", EAN)):
        assert leanstock(path, *args)[0] == 0
    return path


def test_a_customer_is_added_changed_listed_and_ordered_for(db: Path) -> None:
    code, out = leanstock(
        db, "add-customer", "BISTRO", "Bistro Bella", "--priority", "2",
        "--shipping-address", r"Dock 4\nHarbour Rd",
    )  # fmt: skip
    assert code == 0, out
    code, out = leanstock(db, "update-customer", "BISTRO", "--email", "o@bistro.example")
    assert code == 0, out
    code, out = leanstock(db, "customers", "--search", "bistro")
    assert code == 0
    assert "Bistro Bella" in out
    assert "Dock 4, Harbour Rd" in out
    code, out = leanstock(db, "place-order", "-c", "BISTRO", "--line", "MUG:2", "--location", "WH")
    assert code == 0, out
    assert "Bistro Bella (BISTRO)" in out
    code, out = leanstock(db, "place-order", "walk-in", "--line", "MUG:1", "--location", "WH")
    assert code == 0, out
    code, out = leanstock(db, "orders", "--customer-code", "BISTRO")
    assert "SO-000001" in out
    assert "SO-000002" not in out
    code, out = leanstock(db, "customer", "BISTRO")
    assert code == 0
    assert "o@bistro.example" in out
    assert "SO-000001" in out
    code, out = leanstock(db, "delete-customer", "BISTRO")
    assert code == 2
    assert "active to false" in out


def test_bad_customer_input_is_one_red_line_and_changes_nothing(db: Path) -> None:
    code, out = leanstock(db, "add-customer", "C1", "One", "--priority", "12")
    assert code == 2
    assert "priority 12 is out of range" in out
    code, out = leanstock(db, "place-order", "-c", "NOBODY", "--line", "MUG:1", "--location", "WH")
    assert code == 2
    assert "No customer NOBODY exists." in out
    code, out = leanstock(db, "customers")
    assert "0 in all" in out


def test_commands_take_a_barcode_wherever_they_name_an_item(db: Path) -> None:
    assert leanstock(db, "receive", EAN, "WH", "5")[0] == 0
    code, out = leanstock(db, "item", EAN)
    assert code == 0
    assert "MUG" in out
    assert EAN in out
    code, out = leanstock(db, "stock", "--sku", EAN)
    assert code == 0
    assert "MUG" in out
    code, out = leanstock(db, "add-barcode", "MUG", "96385074")  # EAN-8
    assert code == 0, out
    code, out = leanstock(db, "add-barcode", "MUG", "96385075")
    assert code == 2
    assert "wrong check digit" in out
    code, out = leanstock(db, "remove-barcode", "MUG", EAN)
    assert code == 0, out
    code, out = leanstock(db, "item", EAN)
    assert code == 2
    assert f"No item {EAN} exists." in out
