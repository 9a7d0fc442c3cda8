"""Order commands: the same services the API calls, printed as Rich tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import typer
from rich.table import Table

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.entrypoints.cli.app import app, console, handled, open_engine
from leanstock.services import orders, production, purchasing

NUMERIC = {"quantity", "shipped", "reserved", "open", "short", "received", "lines", "produced"}


def _uow() -> UnitOfWork:
    return UnitOfWork(open_engine())


def _table(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], caption: str | None = None
) -> None:
    table = Table(title=title, caption=caption)
    for column in columns:
        table.add_column(column, justify="right" if column in NUMERIC else "left")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


@app.command("orders")
def list_sales_orders(
    status: Annotated[str | None, typer.Option(help="draft, confirmed, shipped, ...")] = None,
    customer: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """List sales orders, newest first."""
    with handled():
        page = orders.list_orders(_uow(), status, customer, limit, offset)
    _table(
        "Sales orders",
        ["number", "customer", "status", "ordered at", "lines", "quantity", "shipped"],
        (
            [
                r["number"],
                r["customer"],
                r["status"],
                f"{r['ordered_at']:%Y-%m-%d %H:%M}",
                r["lines"],
                r["quantity"],
                r["shipped"],
            ]
            for r in page.rows
        ),
        f"{page.total} in all",
    )


@app.command("order")
def show_sales_order(number: Annotated[str, typer.Argument(help="SO-000001")]) -> None:
    """One sales order: its lines, what is reserved, pegged supply and promise dates."""
    with handled():
        view = orders.get_order(_uow(), number)
    console.print(
        f"[bold]{view.number}[/] for {view.customer}: {view.status}, "
        f"ordered {view.ordered_at:%Y-%m-%d %H:%M}"
    )
    _table(
        "Lines",
        [
            "line",
            "sku",
            "location",
            "quantity",
            "shipped",
            "open",
            "reserved",
            "short",
            "fulfilment",
            "promise",
            "pegged supply",
        ],
        (
            [
                ln.line_no,
                ln.sku,
                ln.location,
                ln.quantity,
                ln.shipped,
                ln.open_quantity,
                ln.reserved,
                ln.short_at_order,
                "cancelled" if ln.cancelled else ln.fulfilment,
                ln.promise_date,
                ", ".join(
                    f"{p.supply} {p.received}/{p.quantity} ({p.status}, {p.expected})"
                    for p in ln.pegs
                ),
            ]
            for ln in view.lines
        ),
    )


@app.command("purchase-orders")
def list_purchase_orders(
    status: Annotated[str | None, typer.Option(help="draft, released, received, ...")] = None,
    supplier: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """List purchase orders, newest first."""
    with handled():
        page = purchasing.list_purchase_orders(_uow(), status, supplier, limit, offset)
    _table(
        "Purchase orders",
        ["number", "supplier", "status", "lines", "quantity", "received", "promised", "note"],
        (
            [
                r["number"],
                r["supplier"],
                r["status"],
                r["lines"],
                r["quantity"],
                r["received"],
                r["promised_date"],
                " ".join(
                    filter(
                        None,
                        [
                            f"drop-ship to {r['drop_ship_customer']}"
                            if r["drop_ship_customer"]
                            else "",
                            "change requested" if r["change_requested"] else "",
                        ],
                    )
                ),
            ]
            for r in page.rows
        ),
        f"{page.total} in all",
    )


@app.command("purchase-order")
def show_purchase_order(number: Annotated[str, typer.Argument(help="PO-000001")]) -> None:
    """One purchase order with its lines and the sales lines they are pegged to."""
    with handled():
        view = purchasing.get_purchase_order(_uow(), number)
    console.print(f"[bold]{view.number}[/] to {view.supplier}: {view.status}")
    _table(
        "Lines",
        ["line", "sku", "location", "quantity", "received", "promised", "pegged to"],
        (
            [
                ln.line_no,
                ln.sku,
                ln.location,
                ln.quantity,
                ln.received,
                ln.confirmed_date or ln.expected_date,
                ", ".join(ln.pegged_to),
            ]
            for ln in view.lines
        ),
    )


@app.command("production-orders")
def list_production_orders(status: str | None = None, limit: int = 50, offset: int = 0) -> None:
    """List production orders, newest first."""
    with handled():
        page = production.list_production_orders(_uow(), status, limit, offset)
    _table(
        "Production orders",
        ["number", "sku", "location", "quantity", "produced", "status", "due"],
        (
            [
                r["number"],
                r["sku"],
                r["location"],
                r["quantity"],
                r["produced"],
                r["status"],
                r["due_date"],
            ]
            for r in page.rows
        ),
        f"{page.total} in all",
    )
