"""`leanstock bench kpis --quick` runs on a small demo business and reports its figures."""

from __future__ import annotations

import pytest

from leanstock.benchmarks import BenchOptions
from leanstock.benchmarks.kpis import run
from leanstock.services.kpis import GROUPS


@pytest.mark.slow
def test_the_kpi_bench_reports_each_grouping() -> None:
    figures = run(BenchOptions(quick=True))
    assert figures["database"] == "sqlite"
    assert int(str(figures["moves"])) > 0
    for group in GROUPS:
        for case in ("fresh", "after_move"):
            assert isinstance(figures[f"{group}_{case}_median_s"], float)
            assert isinstance(figures[f"{group}_{case}_cpu_median_s"], float)
        assert int(str(figures[f"{group}_groups"])) >= 1
    assert figures["location_groups"] == 3  # the warehouse and two stores
    assert "meets_bar" in figures
