"""The README is the contract: its tour's commands, as written, on a fresh demo database.

The demo here has a shorter history than `leanstock demo` builds (so the test takes a minute,
not five): it is written to `leanstock-demo.db` first, and the tour's own `leanstock demo`
line then finds it, as it finds a demo built before. Every other word is the README's.
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from leanstock.adapters.db.engine import make_engine, upgrade
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.demo import generate
from leanstock.entrypoints.cli import app
from leanstock.entrypoints.cli.app import console
from leanstock.services.demo import load_demo

README = Path(__file__).parents[2] / "README.md"


def tour() -> list[list[str]]:
    """The commands of the README's tour, each as its words (comments left out)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## A tour") :]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README's tour has no sh block"
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line]


def test_the_tour_is_commands_of_leanstock() -> None:
    commands = tour()
    assert len(commands) >= 8
    assert all(words[0] == "leanstock" for words in commands)


@pytest.mark.slow
def test_the_readme_tour_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEANSTOCK_DATABASE_URL", raising=False)
    monkeypatch.setattr(console, "width", 250)
    engine = make_engine(f"sqlite:///{tmp_path / 'leanstock-demo.db'}")
    upgrade(engine)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    load_demo(UnitOfWork(engine), generate(seed=42, days=430, end=yesterday))
    engine.dispose()
    runner = CliRunner()
    outputs: dict[str, str] = {}
    for words in tour():
        result = runner.invoke(app, words[1:])
        command = " ".join(words)
        assert result.exit_code == 0, f"{command}\n{result.output}"
        verb = next(w for w in words[1:] if not w.startswith("-") and "://" not in w)
        outputs[verb] = outputs.get(verb, "") + result.output
    # What each step is for, as the README's comments say.
    assert "BAK-001" in outputs["stock"]
    assert "moves (newest first" in outputs["moves"]
    assert "SO-" in outputs["orders"]
    assert "Plan 1" in outputs["plan"]
    assert "capped by the 1 days' shelf life" in outputs["plan"]  # weekly forecast, daily bread
    assert "(approved)" in outputs["plan-approve"]
    assert "failed" not in outputs["plan-release"]
    assert "(released)" in outputs["plan-release"]
    forecast = pl.read_csv(tmp_path / "forecast.csv")
    assert {"item", "location", "ds", "forecast", "q90"} <= set(forecast.columns)
    assert forecast.height > 0
    assert '"fill_rate"' in outputs["simulate"]
