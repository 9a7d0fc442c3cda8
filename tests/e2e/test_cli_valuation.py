"""`leanstock value`, `cost-flows`, `costing-method` and `add-unit` as a person uses them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from leanstock.entrypoints.cli import app

runner = CliRunner()


def leanstock(db: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", f"sqlite:///{db}", *args])
    return result.exit_code, " ".join(result.output.replace("│", " ").split())


def test_stock_value_and_cost_of_goods_sold_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    assert leanstock(db, "init")[0] == 0
    assert leanstock(db, "costing-method", "moving_average")[0] == 0
    assert leanstock(db, "add-location", "WH", "Warehouse")[0] == 0
    assert leanstock(db, "add-item", "FLOUR", "Flour", "--unit", "kg")[0] == 0
    assert leanstock(db, "add-unit", "FLOUR", "sack", "25")[0] == 0
    code, out = leanstock(db, "receive", "FLOUR", "WH", "2", "--unit", "sack", "--unit-cost", "20")
    assert code == 0, out
    assert leanstock(db, "receive", "FLOUR", "WH", "50", "--unit-cost", "1")[0] == 0
    assert leanstock(db, "ship", "FLOUR", "WH", "10")[0] == 0
    code, out = leanstock(db, "value")
    assert code == 0, out
    # 50 kg at 0.80 and 50 at 1.00: 0.90 a kg; 90 kg left are worth 81.
    assert "FLOUR general WH moving_average 90 0.9 81" in out
    code, out = leanstock(db, "cost-flows")
    assert code == 0, out
    assert "cost of goods sold 9" in out
    code, out = leanstock(db, "costing-method", "fifo")
    assert code == 2
    assert "re-value the past" in out
    code, out = leanstock(db, "receive", "FLOUR", "WH", "1", "--unit", "bag")
    assert code == 2
    assert "no conversion from 'bag'" in out


def test_a_period_is_closed_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    assert leanstock(db, "init")[0] == 0
    assert leanstock(db, "period", "show")[1] == "No period is closed."
    assert leanstock(db, "add-location", "WH", "Warehouse")[0] == 0
    assert leanstock(db, "add-item", "CUP", "Cup")[0] == 0
    code, out = leanstock(db, "period", "close", "2026-01-31")
    assert code == 0, out
    assert leanstock(db, "period", "show")[1] == "Closed through 2026-01-31."
    code, out = leanstock(db, "period", "close", "2999-01-01")
    assert code == 2
    assert "only through a past day" in out
