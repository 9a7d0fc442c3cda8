"""`leanstock simulate` end to end through the Typer app."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner, Result

from leanstock.entrypoints.cli import app

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    rows = [
        (f"sku{i}", f"2024-{t + 1:03d}", float(q))
        for i in range(12)
        for t in range(48)
        if (q := rng.poisson(4.0 if i % 2 else 0.5))
    ]
    demand = tmp_path / "demand.csv"
    items = tmp_path / "items.csv"
    pl.DataFrame(rows, schema=["item", "ds", "qty"], orient="row").write_csv(demand)
    pl.DataFrame(
        {
            "item": [f"sku{i}" for i in range(12)],
            "lead_time": [2] * 12,
            "unit_cost": [3.0] * 12,
            "pack_size": [1] * 6 + [4] * 6,
        }
    ).write_csv(items)
    return demand, items


def _run(*args: str) -> Result:
    return runner.invoke(app, ["simulate", *args])


def test_simulate_prints_a_table_and_ends_with_the_overall_json(files: tuple[Path, Path]) -> None:
    demand, items = files
    result = _run(
        "--demand",
        str(demand),
        "--items",
        str(items),
        "--policy",
        "auto",
        "--service-level",
        "0.95",
        "--fill-rate",
    )
    assert result.exit_code == 0, result.output
    assert "Simulated auto policy" in result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["items"] == 12
    assert figures["periods"] == 24
    assert figures["measure"] == "fill_rate"
    assert 0.8 < figures["fill_rate"] <= 1.0
    for key in (
        "cycle_service_level",
        "average_on_hand",
        "average_on_hand_value",
        "orders",
        "stockout_periods",
        "forecast_seconds",
        "item_periods_per_second",
    ):
        assert key in figures


def test_simulate_runs_the_baseline_and_cycle_service(files: tuple[Path, Path]) -> None:
    demand, items = files
    result = _run("--demand", str(demand), "--items", str(items), "--policy", "baseline")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["policy"] == "baseline"
    assert figures["measure"] == "cycle_service"


def test_one_catalogue_target_reports_the_money_saved(files: tuple[Path, Path]) -> None:
    demand, items = files
    _rewrite(
        items, lambda f: f.with_columns(unit_cost=pl.Series([str(3.0 * 4**i) for i in range(12)]))
    )
    args = ["--demand", str(demand), "--items", str(items), "--service-level", "0.95"]
    result = _run(*args, "--fill-rate", "--catalog-target")
    assert result.exit_code == 0, result.output
    assert "One 95.0% target per item" in result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["catalog_target"] is True
    assert figures["saving"] == pytest.approx(
        1 - figures["catalog_average_on_hand_value"] / figures["per_item_average_on_hand_value"],
        abs=1e-5,
    )
    assert figures["saving_value"] > 0
    refused = _run(*args, "--catalog-target")
    assert refused.exit_code == 2
    assert "--fill-rate" in refused.output


def _rewrite(path: Path, change: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
    change(pl.read_csv(path, infer_schema_length=0)).write_csv(path)


@pytest.mark.parametrize(
    ("target", "change", "expected"),
    [
        ("demand", lambda f: f.drop("qty"), "row 1 (header), column 'qty': missing column"),
        (
            "demand",
            lambda f: f.with_columns(
                qty=pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("-1")).otherwise("qty")
            ),
            "row 5, column 'qty': -1 is negative",
        ),
        (
            "demand",
            lambda f: f.with_columns(
                item=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("ghost")).otherwise("item")
            ),
            "row 2, column 'item': unknown item 'ghost'",
        ),
        (
            "items",
            lambda f: f.with_columns(
                lead_time=pl.when(pl.int_range(pl.len()) == 2)
                .then(pl.lit("-2"))
                .otherwise("lead_time")
            ),
            "row 4, column 'lead_time': -2 is negative",
        ),
    ],
)
def test_bad_input_is_one_red_line_with_file_row_and_column(
    files: tuple[Path, Path],
    target: str,
    change: Callable[[pl.DataFrame], pl.DataFrame],
    expected: str,
) -> None:
    demand, items = files
    path = demand if target == "demand" else items
    _rewrite(path, change)
    result = _run("--demand", str(demand), "--items", str(items))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(path) in lines[0]
    assert expected in lines[0]


def test_a_missing_file_is_reported_plainly(files: tuple[Path, Path], tmp_path: Path) -> None:
    _, items = files
    result = _run("--demand", str(tmp_path / "nope.csv"), "--items", str(items))
    assert result.exit_code == 2
    assert "file not found" in result.output
