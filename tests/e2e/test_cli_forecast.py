"""`leanstock forecast --history FILE`: a CSV in, a forecast CSV out, no database."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from leanstock.entrypoints.cli import app

runner = CliRunner()


def write_history(path: Path, with_location: bool = True) -> None:
    rng = np.random.default_rng(0)
    ds = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 4, 30), "1d", eager=True)
    frames = []
    for item in ("croissant", "baguette"):
        frame = pl.DataFrame({"item": item, "ds": ds, "qty": rng.poisson(20, len(ds))})
        if with_location:
            frame = frame.with_columns(location=pl.lit("rue-cler"))
        frames.append(frame)
    pl.concat(frames).write_csv(path)


def test_file_mode_writes_a_forecast_with_one_column_per_quantile(tmp_path: Path) -> None:
    history, out = tmp_path / "history.csv", tmp_path / "forecast.csv"
    write_history(history)

    result = runner.invoke(
        app, ["forecast", "--history", str(history), "--horizon", "7", "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    assert "Forecast by demand class" in result.output
    fc = pl.read_csv(out, try_parse_dates=True)
    assert fc.columns == ["item", "location", "ds", "forecast", "q50", "q80", "q90", "q95", "q99"]
    assert fc.height == 14
    assert fc["ds"].min() == dt.date(2024, 5, 1)
    assert 15 <= fc["forecast"].mean() <= 25  # type: ignore[operator]


def test_file_mode_without_locations_forecasts_per_item(tmp_path: Path) -> None:
    history, out = tmp_path / "history.csv", tmp_path / "forecast.csv"
    write_history(history, with_location=False)

    result = runner.invoke(
        app,
        ["forecast", "--history", str(history), "--horizon", "2", "--freq", "D", "--out", str(out)],
    )

    assert result.exit_code == 0, result.output
    assert pl.read_csv(out).columns[:3] == ["item", "ds", "forecast"]


def test_bad_input_is_one_red_line_and_exit_code_2(tmp_path: Path) -> None:
    history, out = tmp_path / "history.csv", tmp_path / "forecast.csv"
    pl.DataFrame(
        {"item": ["a", "a"], "ds": ["2024-01-01", "2024-01-02"], "qty": [3, -1]}
    ).write_csv(history)

    result = runner.invoke(
        app, ["forecast", "--history", str(history), "--horizon", "3", "--out", str(out)]
    )

    assert result.exit_code == 2
    assert "Negative quantities" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_an_unknown_frequency_and_a_missing_file_are_reported(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    write_history(history)
    out = str(tmp_path / "f.csv")

    freq = runner.invoke(
        app, ["forecast", "--history", str(history), "--horizon", "3", "--freq", "Q", "--out", out]
    )
    missing = runner.invoke(
        app, ["forecast", "--history", str(tmp_path / "nope.csv"), "--horizon", "3", "--out", out]
    )

    assert freq.exit_code == 2
    assert "Unknown frequency 'Q'" in freq.output
    assert missing.exit_code == 2
    assert "No history file" in missing.output


def test_an_event_calendar_file_lifts_the_covered_days(tmp_path: Path) -> None:
    history, out, events = (tmp_path / n for n in ("history.csv", "forecast.csv", "events.csv"))
    write_history(history)
    events.write_text(
        "name,start,end,items,uplift\nFête,2024-05-02,2024-05-02,croissant;brioche,2.0\n"
    )

    result = runner.invoke(
        app,
        [
            "forecast",
            "--history",
            str(history),
            "--horizon",
            "3",
            "--out",
            str(out),
            "--events",
            str(events),
        ],
    )

    assert result.exit_code == 0, result.output
    fc = pl.read_csv(out, try_parse_dates=True)
    croissant = dict(fc.filter(pl.col("item") == "croissant").select("ds", "forecast").iter_rows())
    baguette = dict(fc.filter(pl.col("item") == "baguette").select("ds", "forecast").iter_rows())
    assert croissant[dt.date(2024, 5, 2)] / croissant[dt.date(2024, 5, 3)] > 1.7
    assert 0.8 < baguette[dt.date(2024, 5, 2)] / baguette[dt.date(2024, 5, 3)] < 1.25


WITHOUT_DASK = """
import sys
for name in ("dask", "dask.dataframe", "distributed", "fugue_dask"):
    sys.modules[name] = None  # as if the `dask` extra were not installed
from leanstock.entrypoints.cli import app
app(sys.argv[1:])
"""


@pytest.mark.slow
def test_the_dask_engine_without_the_dask_extra_says_what_to_install(tmp_path: Path) -> None:
    history, out = tmp_path / "history.csv", tmp_path / "forecast.csv"
    write_history(history)
    args = ["forecast", "--history", str(history), "--horizon", "3", "--out", str(out)]

    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_DASK, *args, "--engine", "dask"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )

    assert done.returncode == 2
    assert "pip install 'leanstock[dask]'" in done.stderr
    assert not out.exists()
    local = subprocess.run(
        [sys.executable, "-c", WITHOUT_DASK, *args], capture_output=True, text=True
    )
    assert local.returncode == 0, local.stderr
    assert out.exists()
