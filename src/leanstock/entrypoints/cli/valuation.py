"""What stock is worth: `leanstock value`, `leanstock cost-flows`, the costing method and units."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leanstock.domain.catalog import CostingMethod
from leanstock.entrypoints.cli.app import (
    app,
    console,
    handled,
    iso_date,
    iso_datetime,
    open_engine,
)

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork

Moment = Annotated[
    datetime | None, typer.Option(parser=iso_datetime, help="YYYY-MM-DD[THH:MM] (UTC).")
]


def _uow() -> UnitOfWork:
    from leanstock.adapters.db.uow import UnitOfWork

    return UnitOfWork(open_engine())


@app.command("value")
def show_value(
    as_of: Moment = None,
    sku: Annotated[str | None, typer.Option(help="Only this item.")] = None,
    location: Annotated[str | None, typer.Option(help="Only this location.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
) -> None:
    """What stock is worth per item and location (money tied up), now or as of a moment."""
    from leanstock.services import valuation

    with handled():
        found = valuation.stock_value(
            _uow(), as_of=as_of, sku=sku, location=location, category=category
        )
    when = "now" if found.as_of is None else f"as of {found.as_of:%Y-%m-%d %H:%M}"
    table = Table(title=f"Stock value {when}", caption=f"total {found.total_value}")
    for column in ("sku", "category", "location", "method", "quantity", "unit cost", "value"):
        numeric = column in {"quantity", "unit cost", "value"}
        table.add_column(column, justify="right" if numeric else "left")
    for x in found.lines:
        table.add_row(
            x.sku,
            x.category,
            x.location,
            x.method.value,
            str(x.quantity),
            str(x.unit_cost),
            str(x.value),
        )
    console.print(table)


@app.command("cost-flows")
def show_cost_flows(
    since: Moment = None,
    until: Moment = None,
    sku: Annotated[str | None, typer.Option(help="Only this item.")] = None,
    location: Annotated[str | None, typer.Option(help="Only this location.")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
) -> None:
    """Value over a period: opening + in − out = closing; cost of goods sold is what was sold."""
    from leanstock.services import valuation

    with handled():
        found = valuation.cost_flows(
            _uow(), since=since, until=until, sku=sku, location=location, category=category
        )
    table = Table(title="Cost flows", caption=f"cost of goods sold {found.cost_of_goods_sold}")
    columns = ["sku", "location", "opening", "in", "out", "sold (COGS)", "closing"]
    for column in columns:
        table.add_column(column, justify="left" if column in {"sku", "location"} else "right")
    zero = Decimal(0)
    for x in found.lines:
        inflow = sum((v for v in x.flows.values() if v > 0), zero)
        outflow = -sum((v for v in x.flows.values() if v < 0), zero)
        table.add_row(
            x.sku,
            x.location,
            str(x.opening_value),
            str(inflow),
            str(outflow),
            str(x.cost_of_goods_sold),
            str(x.closing_value),
        )
    console.print(table)
    console.print(
        f"opening {found.opening_value} + in {found.inflow} − out {found.outflow} = closing "
        f"{found.closing_value}"
    )


@app.command("costing-method")
def costing_method(
    method: Annotated[
        CostingMethod | None, typer.Argument(help="Set it: fifo or moving_average.")
    ] = None,
) -> None:
    """Show, or set, the company's default costing method."""
    from leanstock.services import valuation

    with handled():
        if method is None:
            current = valuation.get_costing_method(_uow())
        else:
            current = valuation.set_costing_method(_uow(), method, actor="cli")
    console.print(f"Costing method: {current.value}")


period = typer.Typer(help="The closed period: no move may be dated on or before its last day.")
app.add_typer(period, name="period")


@period.command("show")
def period_show() -> None:
    """Print the last day of the closed period."""
    from leanstock.services import valuation

    with handled():
        through = valuation.closed_through(_uow())
    console.print("No period is closed." if through is None else f"Closed through {through}.")


@period.command("close")
def period_close(
    through: Annotated[date, typer.Argument(parser=iso_date, help="YYYY-MM-DD, a past day.")],
) -> None:
    """Close the books through a day; moving the date back reopens days (owners only; the
    command line acts as the owner of the machine)."""
    from leanstock.services import valuation

    with handled():
        found = valuation.close_period(_uow(), through, may_reopen=True, actor="cli")
    console.print(f"[green]Closed through {found}.[/]")


revaluations = typer.Typer(
    help="Large revaluations of backdated moves, run by `leanstock worker` as jobs."
)
app.add_typer(revaluations, name="revaluations")


@revaluations.command("jobs")
def revaluation_jobs(
    job: Annotated[int | None, typer.Argument(help="One job's id; all when left out.")] = None,
    status: Annotated[str | None, typer.Option(help="queued, running, done or failed.")] = None,
    limit: int = 50,
) -> None:
    """Show revaluation jobs, newest first: their status and, once done, what they
    re-valued."""
    from leanstock.services import revaluation

    with handled():
        if job is not None:
            rows = [revaluation.get_job(_uow(), job)]
        else:
            rows = revaluation.list_jobs(_uow(), status, limit).items
    table = Table("job", "operation", "sku", "occurred", "later moves", "status", "before", "after")
    for r in rows:
        table.add_row(
            str(r.id),
            str(r.operation_id),
            r.sku,
            f"{r.occurred_at:%Y-%m-%d %H:%M}",
            str(r.later_moves),
            r.status + (f" ({r.error})" if r.error else ""),
            "" if r.later_cost_before is None else str(r.later_cost_before),
            "" if r.later_cost_after is None else str(r.later_cost_after),
        )
    console.print(table)


@revaluations.command("inline-moves")
def revaluation_inline_moves(
    moves: Annotated[
        int | None, typer.Argument(help="Set it to this; show it when left out.")
    ] = None,
) -> None:
    """Above how many later moves of an item a backdated move's revaluation becomes a job."""
    from leanstock.services import revaluation

    with handled():
        found = (
            revaluation.inline_limit(_uow())
            if moves is None
            else revaluation.set_inline_limit(_uow(), moves, actor="cli")
        )
    console.print(f"Revaluations of more than {found} later moves run as jobs.")


@app.command("add-unit")
def add_unit(sku: str, unit: str, factor: Decimal) -> None:
    """Define a unit an item is bought or counted in: 1 UNIT = FACTOR stock units."""
    from leanstock.services import valuation

    with handled():
        found = valuation.put_unit(_uow(), sku, unit, factor, actor="cli")
    console.print(f"1 {found.unit} of {found.sku} = {found.factor} stock units.")
