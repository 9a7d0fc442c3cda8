"""`leanstock kpis` and `leanstock holding-rate`: the inventory KPIs (`services/kpis.py`)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from leanstock.entrypoints.cli.app import app, console, handled, open_engine


class Group(StrEnum):
    company = "company"
    category = "category"
    location = "location"
    item = "item"


def _show(value: Any, suffix: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:,}{suffix}" if not isinstance(value, str) else value


def _share(value: Any) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


@app.command()
def kpis(
    group_by: Annotated[Group, typer.Option("--by", help="One row per group.")] = Group.company,
    months: Annotated[
        int, typer.Option(min=1, max=36, help="Months back, the current one included.")
    ] = 12,
    sku: Annotated[str | None, typer.Option(help="Only this item.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    location: Annotated[str | None, typer.Option(help="Only this location.")] = None,
    history: Annotated[bool, typer.Option(help="Also show each month.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many groups.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Stock value, money tied up, carrying cost, turnover, days of supply, fill rate, cycle
    service, stock-out days, scrap by reason, late deliveries and forecast accuracy, over the
    last MONTHS months and month by month (definitions: docs/insight.md)."""
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.services import kpis as service

    with handled():
        report = service.kpis(
            UnitOfWork(open_engine()),
            group_by=group_by.value,
            months=months,
            sku=sku,
            category=category,
            location=location,
            limit=limit,
        )
    if as_json:
        data = {
            **report.__dict__,
            "window": [f.__dict__ for f in report.window],
            "history": [f.__dict__ for f in report.history],
        }
        console.print_json(json.dumps(data, default=str))
        return
    rows = report.window + (report.history if history else [])
    console.print(
        f"[bold]KPIs {report.since} – {report.until} by {report.group_by}[/]: "
        f"{report.total} groups; holding rate {report.holding_rate} a year; values as of "
        f"{report.snapshot_at}"
    )
    money = Table(title="Money")
    for column in ("group", "period", "stock value", "tied up", "carrying", "turns/yr", "days"):
        money.add_column(column, justify="left" if column in {"group", "period"} else "right")
    service_table = Table(title="Service, loss, suppliers, forecasts")
    for column in ("group", "period", "fill", "cycle", "out days", "scrap", "late", "WAPE", "bias"):
        service_table.add_column(
            column, justify="left" if column in {"group", "period"} else "right"
        )
    for f in rows:
        money.add_row(
            f.group,
            f.period,
            _show(f.stock_value),
            _show(f.money_tied_up),
            _show(f.carrying_cost),
            _show(f.turnover),
            _show(f.days_of_supply),
        )
        service_table.add_row(
            f.group,
            f.period,
            _share(f.fill_rate),
            _share(f.cycle_service),
            str(f.stockout_days),
            _show(f.scrap_cost),
            f"{f.late_deliveries}/{f.deliveries}",
            _share(f.wape),
            _share(f.bias),
        )
    console.print(money)
    console.print(service_table)


@app.command("holding-rate")
def holding_rate(
    rate: Annotated[
        str, typer.Argument(help="A yearly share: 0.25 or 25%; `company` for an item.")
    ],
    sku: Annotated[str | None, typer.Option(help="This item's own rate.")] = None,
) -> None:
    """Set the company's yearly holding rate (default 25%) the carrying cost is at, or one
    item's own rate (`--sku`; `company` drops it)."""
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.services import kpis as service

    with handled():
        value = service.set_holding_rate(UnitOfWork(open_engine()), rate, sku)
    who = f"{sku}'s" if sku else "The company's"
    shown = "the company's" if value is None else f"{value} a year"
    console.print(f"{who} holding rate: {shown}.")
