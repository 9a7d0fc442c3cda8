"""The `leanstock` command line as a person uses it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from conftest import Templates
from leanstock.adapters.db.engine import make_engine
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.entrypoints.cli import app
from leanstock.services.kpi_snapshot import refresh_snapshot

runner = CliRunner()


def leanstock(db: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", f"sqlite:///{db}", *args])
    return result.exit_code, result.output


@pytest.fixture
def migrated(templates: Templates) -> Iterator[Path]:
    """A SQLite file at this version's schema, as `leanstock init` leaves it: a copy of the
    session's migrated template (a file copy, where `init` migrates again, about half a
    CPU-second). `init` itself is run by the tests that are about it."""
    with templates.copy("sqlite") as url:
        yield Path(url.removeprefix("sqlite:///"))


def table_rows(output: str) -> list[list[str]]:
    """The cells of each body row of the Rich tables in `output`."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.strip().startswith("│")
    ]


def test_stock_can_be_kept_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    assert leanstock(db, "init")[0] == 0
    assert leanstock(db, "add-location", "WH", "Warehouse")[0] == 0
    assert leanstock(db, "add-item", "BEANS", "Coffee beans", "--unit", "kg")[0] == 0
    code, out = leanstock(db, "receive", "BEANS", "WH", "12.5")
    assert code == 0
    assert "supplier" in out
    assert leanstock(db, "ship", "BEANS", "WH", "2.5")[0] == 0
    code, out = leanstock(db, "stock", "--sku", "BEANS")
    assert code == 0
    # sku, location, on hand, reserved, expired, available, unit
    assert table_rows(out) == [["BEANS", "WH", "10", "0", "0", "10", "kg"]]
    code, out = leanstock(db, "moves", "BEANS")
    assert "receipt" in out
    assert "shipment" in out
    code, out = leanstock(db, "items")
    assert "Coffee" in out


def test_a_refused_operation_prints_why_and_exits_2(migrated: Path) -> None:
    db = migrated
    leanstock(db, "add-location", "WH", "Warehouse")
    leanstock(db, "add-item", "BEANS", "Coffee beans")
    code, out = leanstock(db, "ship", "BEANS", "WH", "1")
    assert code == 2
    assert "Only 0 of BEANS available at WH" in out
    code, out = leanstock(db, "item", "NOPE")
    assert code == 2
    assert "No item NOPE" in out


def one_line(output: str) -> str:
    """Output with Rich's panel borders and line wrapping taken out."""
    return " ".join(output.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


@pytest.mark.parametrize(
    "command",
    [
        ["items"],
        ["stock", "--sku", "BAK-001"],
        ["orders"],
        ["add-location", "WH", "Warehouse"],
        ["receive", "BAK-001", "WH", "1"],
        ["plan"],
        ["forecast", "--horizon", "3"],
        ["serve", "--port", "1"],
    ],
)
def test_a_command_on_a_database_file_that_does_not_exist_stops_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    db = tmp_path / "typo.db"
    code, out = leanstock(db, *command)
    assert code == 2
    assert f"no database at {db}; run `leanstock init` or pass `--database`" in one_line(out)
    assert list(tmp_path.iterdir()) == []


def test_the_default_database_is_not_created_by_a_read_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEANSTOCK_DATABASE_URL", raising=False)
    from leanstock.config import get_settings

    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["items"])
        assert result.exit_code == 2
        assert f"no database at {tmp_path / 'leanstock.db'}" in one_line(result.output)
        assert not (tmp_path / "leanstock.db").exists()
        assert runner.invoke(app, ["init"]).exit_code == 0
        assert (tmp_path / "leanstock.db").exists()
        assert runner.invoke(app, ["items"]).exit_code == 0
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("command", "bad"),
    [
        (["stock", "--as-of", "31/01/2025"], "31/01/2025"),
        (["moves", "BEANS", "--since", "2025-13-01"], "2025-13-01"),
        (["receive", "BEANS", "WH", "1", "--lot", "L1", "--expires-on", "1.2.2026"], "1.2.2026"),
    ],
)
def test_a_date_that_is_not_iso_is_refused_naming_the_format(
    migrated: Path, command: list[str], bad: str
) -> None:
    db = migrated
    code, out = leanstock(db, *command)
    assert code == 2
    assert f"'{bad}' is not a date" in one_line(out)
    assert "YYYY-MM-DD" in out


def test_iso_dates_are_taken(migrated: Path) -> None:
    db = migrated
    leanstock(db, "add-location", "WH", "Warehouse")
    leanstock(db, "add-item", "MILK", "Milk", "--lot-tracked", "--shelf-life-days", "7")
    code, out = leanstock(
        db, "receive", "MILK", "WH", "4", "--lot", "L1", "--expires-on", "2099-01-31"
    )
    assert code == 0, out
    code, out = leanstock(db, "stock", "--sku", "MILK", "--lots")
    assert "2099-01-31" in out
    code, out = leanstock(db, "moves", "MILK", "--since", "2000-01-01", "--until", "2099-12-31")
    assert code == 0
    assert "receipt" in out
    code, out = leanstock(db, "stock", "--as-of", "2000-01-01T12:00")
    assert code == 0
    assert "MILK" not in out


@pytest.mark.slow
def test_the_demo_prints_the_database_option_that_the_other_commands_need(
    tmp_path: Path,
) -> None:
    demo = subprocess.run(
        [sys.executable, "-m", "leanstock.entrypoints.cli", "demo", "--no-serve"],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        check=True,
    )
    printed = next(line for line in demo.stdout.splitlines() if "leanstock --database" in line)
    option = printed.split("leanstock --database ", 1)[1].split()[0]
    assert option == f"sqlite:///{tmp_path / 'leanstock-demo.db'}"
    assert f"export LEANSTOCK_DATABASE_URL={option}" in demo.stdout
    result = runner.invoke(app, ["--database", option, "stock", "--sku", "BAK-001"])
    assert result.exit_code == 0, result.output
    assert "BAK-001" in result.output
    # Valley Dairy trades by EDI: its sample 855, 856 and 810 were received and applied, and
    # the invoice (0.10 over the price, goods not yet received) is flagged two ways.
    for sample in ("855", "856", "810"):
        assert f"EDI {sample}.x12: accepted" in demo.stdout, demo.stdout
    variances = runner.invoke(app, ["--database", option, "edi", "variances"])
    assert variances.exit_code == 0, variances.output
    assert "2 variance(s) for review" in variances.output
    # The KPI snapshot was built by the demo, so the first KPI page opens at once.
    engine = make_engine(option)
    try:
        assert refresh_snapshot(UnitOfWork(engine)) == "fresh"
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_the_demo_builds_a_sample_business_and_serves_it(tmp_path: Path) -> None:
    port = _free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leanstock.entrypoints.cli",
            "demo",
            "--path",
            str(tmp_path / "demo.db"),
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        token: str | None = None
        printed: list[str] = []
        while token is None:
            line = demo.stdout.readline()
            assert line, "".join(printed)
            printed.append(line)
            if line.startswith("DEMO API TOKEN (owner): "):
                token = line.split(": ", 1)[1].strip()
        shown = "".join(printed)
        assert "DEMO ONLY" in shown
        for role in ("owner", "manager", "buyer", "warehouse", "viewer", "supplier"):
            assert f"{role}@leanstock.example" in shown
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 900  # building the demo takes minutes on a busy machine
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert demo.poll() is None, demo.stdout.read() if demo.stdout else ""
                time.sleep(0.5)
        assert httpx.get(f"{base}/items").status_code == 401
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        items = api.get("/items", params={"limit": 1}).json()
        assert 180 <= items["total"] <= 220
        locations = api.get("/locations", params={"physical": True}).json()
        assert locations["total"] == 3
        assert api.get("/suppliers").json()["total"] == 8
        stock = api.get("/stock", params={"limit": 1}).json()
        assert stock["total"] > 100
        sku = items["items"][0]["sku"]
        assert api.get(f"/items/{sku}/moves").json()["total"] > 10
        viewer = shown.split("viewer@leanstock.example")[1].split()[1]
        login = {"email": "viewer@leanstock.example", "password": viewer}
        assert api.post("/auth/login", json=login).status_code == 200
    finally:
        demo.terminate()
        demo.wait(timeout=30)
