"""Smoke tests of `leanstock bench policy` and `leanstock bench plan` in their quick forms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from leanstock.benchmarks import BenchOptions
from leanstock.benchmarks import plan as plan_bench
from leanstock.benchmarks import policy as policy_bench
from leanstock.entrypoints.cli import app


def test_generated_policy_bench_reports_speed_and_service() -> None:
    figures: dict[str, Any] = policy_bench.run(BenchOptions(quick=True))
    assert figures["items"] == 1000
    assert figures["item_periods_per_second"] > 0
    assert 0.9 < figures["fill_rate"] <= 1.0
    assert "forecast_seconds" in figures


def test_generated_demand_is_reproducible_and_mixed() -> None:
    first, items = policy_bench.generate_demand(500, 52, seed=3)
    second, _ = policy_bench.generate_demand(500, 52, seed=3)
    np.testing.assert_array_equal(first, second)
    zeros = (first == 0).mean(axis=1)
    assert (zeros > 0.5).sum() > 100
    assert (zeros == 0).sum() > 50
    assert items.lead_time.min() >= 1


def test_carparts_bench_says_where_to_find_the_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEANSTOCK_CARPARTS", str(tmp_path / "absent.csv.gz"))
    with pytest.raises(SystemExit) as stopped:
        policy_bench.run(BenchOptions(data="carparts"))
    assert stopped.value.code == 2
    assert "LEANSTOCK_CARPARTS" in capsys.readouterr().err


def test_plan_bench_through_the_cli_ends_with_json() -> None:
    result = CliRunner().invoke(app, ["bench", "plan", "--quick"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["item_locations"] == 5000
    assert 0 < figures["orders_suggested"] <= figures["item_locations"]
    assert 0 <= figures["late_orders"] <= figures["orders_suggested"]
    # The verdict is the figures' own, against the bar it states (not a timing assertion).
    assert figures["bar_seconds"] == plan_bench.BAR_SECONDS
    assert figures["within_bar"] is (figures["seconds"] <= figures["bar_seconds"])
    assert figures["seconds"] == pytest.approx(
        figures["plan_seconds"] + figures["suggest_seconds"], abs=1e-3
    )


@pytest.mark.slow
def test_catalog_target_bench_ends_with_fill_value_and_saving() -> None:
    result = CliRunner().invoke(app, ["bench", "policy", "--quick", "--catalog-target"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["mode"] == "catalog_target"
    assert figures["saving"] == pytest.approx(
        1 - figures["stock_value"] / figures["per_item_stock_value"], abs=1e-5
    )
    assert 0.9 < figures["fill_rate"] <= 1.0


def test_carparts_costs_are_drawn_the_same_every_run() -> None:
    np.testing.assert_array_equal(policy_bench.part_costs(50), policy_bench.part_costs(50))
    assert np.median(policy_bench.part_costs(20_000)) == pytest.approx(50.0, rel=0.05)
