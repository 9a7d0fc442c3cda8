"""The command line starts without the heavy libraries it does not need, and says its version.

Start-up time itself is a benchmark (`leanstock bench cli`), not a test; what is tested here is
the behaviour that makes it fast: which modules a command imports.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import leanstock
from leanstock.entrypoints.cli import app

# What `leanstock --help` must not import: the database, settings, numbers, forecasting and
# web stacks, and the layers that pull them in.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "pydantic",
    "pydantic_settings",
    "polars",
    "numpy",
    "pandas",
    "scipy",
    "statsforecast",
    "dask",
    "distributed",
    "fastapi",
    "starlette",
    "uvicorn",
    "leanstock.adapters",
    "leanstock.services",
    "leanstock.planning",
    "leanstock.demo",
    "leanstock.benchmarks",
)
# A read command needs the database and settings, but no numbers, forecasts or web server.
NOT_FOR_READS = (
    "polars",
    "numpy",
    "pandas",
    "scipy",
    "statsforecast",
    "dask",
    "fastapi",
    "uvicorn",
    "leanstock.planning",
    "leanstock.demo",
)

RUN_AND_LIST_MODULES = """
import json, sys
from leanstock.entrypoints.cli import app
try:
    app(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def imported_by(*args: str, cwd: Path | None = None) -> tuple[int, set[str]]:
    """Run the CLI with `args` in a fresh interpreter; its exit code and every module loaded."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(p for p in packages if any(m == p or m.startswith(f"{p}.") for m in modules))


def test_help_imports_none_of_the_heavy_libraries() -> None:
    code, modules = imported_by("--help")
    assert code == 0
    assert loaded(modules, HEAVY) == []


def test_a_read_command_imports_no_numbers_forecasting_or_web_server(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'shop.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--database", database, "init"]).exit_code == 0
    assert runner.invoke(app, ["--database", database, "add-item", "BEANS", "Beans"]).exit_code == 0

    code, modules = imported_by("--database", database, "stock", "--sku", "BEANS")
    assert code == 0
    assert "sqlalchemy" in modules  # it did read the database
    assert loaded(modules, NOT_FOR_READS) == []

    code, modules = imported_by("--database", database, "items")
    assert code == 0
    assert loaded(modules, NOT_FOR_READS) == []


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"leanstock {leanstock.__version__}"
    assert importlib.metadata.version("leanstock") == leanstock.__version__
