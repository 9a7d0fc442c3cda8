"""Insight commands: item classes and the JIT readiness report."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leanstock.entrypoints.cli.app import app, console, handled, open_engine

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork

VERDICT_STYLE = {"ready": "green", "watch": "yellow", "not ready": "red"}


class Abc(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class Xyz(StrEnum):
    X = "X"
    Y = "Y"
    Z = "Z"


class Status(StrEnum):
    dead = "dead"
    slow = "slow"
    ok = "ok"


def _uow() -> UnitOfWork:
    from leanstock.adapters.db.uow import UnitOfWork

    return UnitOfWork(open_engine())


def _number(value: Any, places: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "∞" if isinstance(value, float) and math.isinf(value) else ""
    return f"{value:,.{places}f}"


@app.command()
def classify(
    abc: Annotated[Abc | None, typer.Option(help="Only this ABC class.")] = None,
    xyz: Annotated[Xyz | None, typer.Option(help="Only this XYZ class.")] = None,
    status: Annotated[Status | None, typer.Option(help="Only dead, slow or ok stock.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many items.")] = 50,
) -> None:
    """Items by ABC (last year's usage value), XYZ (demand variability) and demand class,
    with dead and slow stock, the money in it and what to do; largest usage value first."""
    import polars as pl

    from leanstock.services import insight

    with handled():
        frame = insight.classify_items(_uow(), datetime.now(UTC).date())
    for column, wanted in (("abc_class", abc), ("xyz_class", xyz), ("stock_status", status)):
        if wanted is not None:
            frame = frame.filter(pl.col(column) == wanted.value)
    if category is not None:
        frame = frame.filter(pl.col("category") == category)
    table = Table(title="Item classes", caption=f"{frame.height} items")
    columns = ("sku", "ABC", "XYZ", "demand", "usage value", "stock value", "days", "status")
    for column in (*columns, "action"):
        numeric = column in {"usage value", "stock value", "days"}
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for r in frame.head(limit).iter_rows(named=True):
        table.add_row(
            r["sku"],
            r["abc_class"],
            r["xyz_class"] or "–",
            r["demand_class"],
            _number(r["usage_value"]),
            _number(r["stock_value"]),
            _number(r["days_of_supply"], 0),
            r["stock_status"] or "",
            r["action"] or "",
        )
    console.print(table)


@app.command()
def readiness(
    details: Annotated[int, typer.Option(min=0, help="Detail rows to show per question.")] = 5,
) -> None:
    """The JIT readiness test: each question answered from your own records, with the
    figure, a verdict and what to do."""
    from leanstock.services import insight

    with handled():
        report = insight.readiness(_uow(), datetime.now(UTC).date())
    style = VERDICT_STYLE[report.verdict]
    console.print(f"[bold]JIT readiness on {report.as_of}:[/] [{style}]{report.verdict}[/]\n")
    for finding in report.findings:
        colour = VERDICT_STYLE[finding.verdict]
        console.print(f"[bold]{escape(finding.question)}[/]  [{colour}]{finding.verdict}[/]")
        console.print(f"  {escape(finding.figure)}")
        console.print(f"  [italic]What to do:[/] {escape(finding.action)}")
        for row in finding.details[:details]:
            shown = ", ".join(f"{k} {v}" for k, v in row.items() if v is not None)
            console.print(f"    · {escape(shown)}", highlight=False)
        console.print()
