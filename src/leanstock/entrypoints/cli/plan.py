"""`leanstock plan` and its review commands: the same services the API calls."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leanstock.entrypoints.cli.app import app, console, err_console, handled, open_engine

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.services import planning


def _uow() -> UnitOfWork:
    from leanstock.adapters.db.uow import UnitOfWork

    return UnitOfWork(open_engine())


def _show(plan: planning.PlanRun, explain: bool) -> None:
    summary = plan.summary
    head = Table(title=f"Plan {plan.id} ({plan.status}) from forecast run {plan.forecast_run_id}")
    for column in (
        "orders",
        "purchase",
        "production",
        "transfer",
        "value",
        "late",
        "below reorder point",
    ):
        head.add_column(column, justify="right")
    head.add_row(
        *(
            str(summary.get(key.replace(" ", "_"), ""))
            for key in (
                "orders",
                "purchase",
                "production",
                "transfer",
                "value",
                "late",
                "below reorder point",
            )
        )
    )
    console.print(head)
    lines = Table(title="Suggested orders")
    for column in ("line", "order by", "kind", "sku", "to", "from", "quantity", "value", "status"):
        lines.add_column(
            column,
            justify="right" if column in ("line", "quantity", "value") else "left",
            overflow="fold",
        )
    for line in plan.lines:
        late = " [red](late)[/]" if line.figures.get("late") else ""
        row = [
            str(line.id),
            f"{line.order_by}{late}",
            line.kind,
            line.sku,
            line.location,
            line.supplier or line.source or "",
            str(line.quantity),
            str(line.value),
            line.status
            + (f" {line.released_order}" if line.released_order else "")
            + (f": {escape(line.release_error)}" if line.release_error else ""),
        ]
        lines.add_row(*row)
    console.print(lines)
    if explain:
        for line in plan.lines:
            console.print(f"[bold]{line.id}[/] {line.sku} at {line.location}: {line.explanation}")


@app.command()
def plan(
    service_level: Annotated[
        float | None, typer.Option(help="One target for all items (default: by ABC class).")
    ] = None,
    cycle: Annotated[bool, typer.Option(help="Target cycle service instead of fill rate.")] = False,
    catalog_fill_rate: Annotated[
        float | None,
        typer.Option(
            min=0.5,
            max=0.999,
            help="One fill rate for the whole catalogue (e.g. 0.95), allocated per item at the "
            "least stock value.",
        ),
    ] = None,
    forecast_run: Annotated[int | None, typer.Option(help="Default: the newest run.")] = None,
    explain: Annotated[bool, typer.Option(help="Show the reason for every number.")] = False,
) -> None:
    """Plan replenishment from the newest forecast: buffers, JIT order dates, suppliers."""
    from leanstock.services import planning

    uow = _uow()
    with handled(), console.status("Planning..."):
        result = planning.run_plan(
            uow,
            forecast_run_id=forecast_run,
            service_level=service_level,
            fill_rate=not cycle,
            catalog_fill_rate=catalog_fill_rate,
        )
    _show(result, explain)
    p = result.parameters
    if p.get("catalog_stock_value") is not None:
        console.print(
            f"One catalogue fill rate of {p['catalog_fill_rate']:.1%} (modelled "
            f"{p['catalog_modelled_fill']:.1%}): average stock value "
            f"{p['catalog_stock_value']:,.2f} against {p['one_target_stock_value']:,.2f} with "
            f"that target for every item: {p['money_saved']:,.2f} saved "
            f"({p['saving_share']:.1%})."
        )
    console.print(
        f"Review with [bold]leanstock plan-edit {result.id} LINE QTY[/], then [bold]leanstock "
        f"plan-approve {result.id}[/] and [bold]leanstock plan-release {result.id}[/]."
    )


@app.command("plan-show")
def plan_show(run: int, explain: bool = True) -> None:
    """Show a plan run and its lines."""
    from leanstock.services import planning

    with handled():
        _show(planning.get_plan(_uow(), run), explain)


@app.command("plan-edit")
def plan_edit(run: int, line: int, quantity: Decimal) -> None:
    """Change a suggested quantity (0 drops the line)."""
    from leanstock.services import planning

    with handled():
        _show(planning.edit_plan_line(_uow(), run, line, quantity), False)


@app.command("plan-approve")
def plan_approve(run: int) -> None:
    """Approve a draft plan."""
    from leanstock.services import planning

    with handled():
        _show(planning.approve_plan(_uow(), run), False)


@app.command("plan-release")
def plan_release(
    run: int,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed", help="Release a partially released plan's failed lines again."
        ),
    ] = False,
) -> None:
    """Create and send the orders of an approved plan, each exactly once.

    A line whose order is refused is shown with the reason and the command exits 1; fix what
    it names (or edit or drop the line) and run it again with --retry-failed.
    """
    from leanstock.services import planning

    with handled():
        result = planning.release_plan(_uow(), run, retry_failed=retry_failed)
    _show(result, False)
    failed = [line for line in result.lines if line.status == "failed"]
    if not failed:
        return
    for line in failed:
        err_console.print(
            f"[red]line {line.id} {line.kind} of {line.sku} at {line.location} failed:[/] "
            f"{escape(line.release_error or 'no reason recorded')}",
            highlight=False,
        )
    err_console.print(
        f"{len(failed)} of {len(result.lines)} lines failed. Fix what they name (or "
        f"[bold]leanstock plan-edit {run} LINE QTY[/]), then "
        f"[bold]leanstock plan-release {run} --retry-failed[/]."
    )
    raise typer.Exit(1)
