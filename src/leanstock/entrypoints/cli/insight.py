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


class Engine(StrEnum):
    local = "local"
    dask = "dask"


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


def _pair(value: str, option: str, example: str) -> tuple[str, str]:
    name, sep, rest = value.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise typer.BadParameter(f"{value!r}: write {option} as {example}.")
    return name.strip(), rest.strip()


def _share(text: str, option: str, example: str) -> float:
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a number: write {option} as {example}."
        ) from None


def _scenarios(
    slip: list[str],
    known: bool,
    otif: list[str],
    stop: list[str],
    demand: list[str],
    event: list[str],
    service: float | None,
) -> list[Any]:
    from leanstock.services import drills

    out: list[drills.WhatIf] = []
    for value in slip:
        supplier, days = _pair(value, "--slip", "SUPPLIER=DAYS, e.g. --slip MILLBROOK=7")
        if not days.isdigit():
            raise typer.BadParameter(f"{days!r} is not a number of days: e.g. --slip MILLBROOK=7.")
        out.append(drills.Slip(supplier, int(days), known))
    for value in otif:
        supplier, share = _pair(value, "--otif", "SUPPLIER=SHARE, e.g. --otif MILLBROOK=70%")
        out.append(drills.Otif(supplier, _share(share, "--otif", "MILLBROOK=70%")))
    out.extend(drills.Stop(supplier) for supplier in stop)
    for value in demand:
        category, _, change = value.rpartition("=")
        amount = _share(change, "--demand", "[CATEGORY=]CHANGE, e.g. --demand bread=+20%")
        out.append(drills.Demand(amount, category or None))
    for value in event:
        parts = value.split(":")
        example = "AFTER_WEEKS:WEEKS:LIFT[:CATEGORY], e.g. --event 4:2:1.5:cakes"
        if len(parts) not in (3, 4) or not parts[0].isdigit() or not parts[1].isdigit():
            raise typer.BadParameter(f"{value!r}: write --event as {example}.")
        lift = _share(parts[2], "--event", example)
        group = parts[3] if len(parts) == 4 else None
        out.append(drills.Event(int(parts[0]), int(parts[1]), lift, group))
    if service is not None:
        out.append(drills.Service(service))
    return out


@app.command("what-if")
def what_if(
    slip: Annotated[
        list[str], typer.Option(help="A supplier's deliveries slip: SUPPLIER=DAYS.")
    ] = [],  # noqa: B006 (Typer reads the default)
    known: Annotated[bool, typer.Option(help="The planner knows of the slips.")] = False,
    otif: Annotated[
        list[str], typer.Option(help="A supplier's on-time share falls: SUPPLIER=70%.")
    ] = [],  # noqa: B006
    stop: Annotated[
        list[str], typer.Option(help="A supplier stops; backups take over: SUPPLIER.")
    ] = [],  # noqa: B006
    demand: Annotated[
        list[str], typer.Option(help="Demand changes: [CATEGORY=]CHANGE, e.g. bread=+20%.")
    ] = [],  # noqa: B006
    event: Annotated[
        list[str], typer.Option(help="An event: AFTER_WEEKS:WEEKS:LIFT[:CATEGORY].")
    ] = [],  # noqa: B006
    service: Annotated[float | None, typer.Option(help="A new fill-rate target.")] = None,
    top: Annotated[int, typer.Option(min=1, help="Items to list, worst hit first.")] = 10,
    engine: Annotated[
        Engine, typer.Option(help="local, or dask: items in chunks over a Dask cluster.")
    ] = Engine.local,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: a local cluster).")
    ] = None,
) -> None:
    """Drill a what-if or a disruption: the sales history replayed under the planner's
    policy as it was and with the scenarios combined; fill rate, stock value, orders and
    stock-outs compared, overall and for the items hit hardest. Nothing is changed."""
    from leanstock.services import drills

    scenarios = _scenarios(slip, known, otif, stop, demand, event, service)
    with handled(), console.status("Replaying the history twice..."):
        report = drills.what_if(
            _uow(),
            scenarios,
            datetime.now(UTC).date(),
            top=top,
            engine=engine.value,
            scheduler=scheduler,
        )
    overall = report.overall
    base, scen = overall["baseline"], overall["scenario"]
    console.print(
        f"[bold]What if[/] {escape('; '.join(report.scenarios))}\n"
        f"{overall['items']} items, {report.weeks} weeks from {report.first_week}, measured "
        f"from {report.measured_from} ({overall['periods_measured']} weeks)."
    )
    table = Table()
    for column in ("", "baseline", "scenario", "change"):
        table.add_column(column, justify="left" if not column else "right")
    rows = (
        ("fill rate", "fill_rate", "{:.1%}", "{:+.1%}"),
        ("average stock value", "average_stock_value", "{:,.2f}", "{:+,.2f}"),
        ("orders", "orders", "{:,.0f}", "{:+,.0f}"),
        ("stock-out item-weeks", "stockout_periods", "{:,.0f}", "{:+,.0f}"),
    )
    for label, key, shape, signed in rows:
        change = signed.format(scen[key] - base[key])
        table.add_row(label, shape.format(base[key]), shape.format(scen[key]), change)
    console.print(table)
    console.print(
        f"{overall['items_losing_fill']} items lose fill rate; {overall['items_without_supply']} "
        f"are left without supply; backups cost {overall['backup_extra_spend']:,.2f} more."
    )
    worst = Table(title="Hardest hit")
    for column in ("sku", "supplier", "fill before", "fill after", "stock-out weeks"):
        worst.add_column(column)
    for r in report.by_item:
        worst.add_row(
            r["item"],
            r["supplier"] or "(made)",
            _number(r["baseline_fill_rate"], 3),
            _number(r["scenario_fill_rate"], 3),
            f"{r['baseline_stockout_periods']} → {r['scenario_stockout_periods']}",
        )
    console.print(worst)
