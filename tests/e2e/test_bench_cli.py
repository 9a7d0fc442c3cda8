"""`leanstock bench cli --quick` runs the commands it times and reports them as JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_bench_cli_reports_median_wall_and_cpu_seconds_per_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "leanstock.entrypoints.cli", "bench", "cli", "--quick"],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["runs"] == 3
    for name, bar in (("help", 0.3), ("stock", 1.0), ("items", 1.0)):
        assert figures[f"{name}_min_s"] <= figures[f"{name}_median_s"] <= figures[f"{name}_max_s"]
        assert figures[f"{name}_cpu_median_s"] > 0
        assert figures[f"{name}_bar_s"] == bar
    assert "leanstock stock --sku BEANS: median" in done.stderr
