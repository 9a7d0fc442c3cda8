"""`leanstock stocktake start|count|show|post|cancel|list`: count documents per location, the
same services the API calls (`services.stock.stocktakes`)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from leanstock.entrypoints.cli.app import app, console, handled
from leanstock.entrypoints.cli.orders import _table
from leanstock.entrypoints.cli.stock import Lot, _uow

if TYPE_CHECKING:
    from leanstock.services.stock.stocktakes import StocktakeView

stocktake_app = typer.Typer(
    help="Stocktakes: open a count at a location, enter counts, post the differences."
)
app.add_typer(stocktake_app, name="stocktake")
ACTOR = "cli"


def _show(view: StocktakeView) -> None:
    scope = f"category {view.category}" if view.category else "every item"
    options = [o for o, on in (("frozen", view.freeze), ("blind", view.blind)) if on]
    console.print(
        f"[bold]{view.number}[/] at {view.location}, {scope}"
        f"{' (' + ', '.join(options) + ')' if options else ''}: {view.status}"
        f"{f', operation {view.operation_id}' if view.operation_id else ''}"
    )
    if view.lines:
        _table(
            f"Stocktake {view.number}",
            ["sku", "lot", "expected", "counted", "book", "moved", "difference"],
            (
                [x.sku, x.lot, x.expected, x.counted, x.book, x.moved, x.difference]
                for x in view.lines
            ),
        )


@stocktake_app.command("start")
def start(
    location: str,
    category: Annotated[str | None, typer.Option(help="Count only this category.")] = None,
    freeze: Annotated[
        bool, typer.Option("--freeze", help="Snapshot the books now (the count sheet).")
    ] = False,
    blind: Annotated[
        bool, typer.Option("--blind", help="Counters do not see the books' quantities.")
    ] = False,
    reference: Annotated[str | None, typer.Option(help="Your reference.")] = None,
) -> None:
    """Open a count at a location (refused while an open count there covers the same items)."""
    from leanstock.services.stock import stocktakes

    with handled():
        _show(
            stocktakes.start_stocktake(
                _uow(),
                location,
                category=category,
                freeze=freeze,
                blind=blind,
                reference=reference,
                actor=ACTOR,
            )
        )


@stocktake_app.command("count")
def count(
    number: str,
    sku: str,
    counted: Decimal,
    lot: Lot = None,
    unit: Annotated[str | None, typer.Option(help="The unit counted in.")] = None,
) -> None:
    """Enter one counted line (a line counted again keeps the last count)."""
    from leanstock.services.stock import stocktakes

    with handled():
        entry = stocktakes.CountEntry(sku, counted, unit, lot)
        _show(stocktakes.enter_counts(_uow(), number, [entry], actor=ACTOR))


@stocktake_app.command("show")
def show(number: str) -> None:
    """One stocktake and its lines."""
    from leanstock.services.stock import stocktakes

    with handled():
        _show(stocktakes.get_stocktake(_uow(), number))


@stocktake_app.command("post")
def post(number: str) -> None:
    """Post every counted difference as one adjustment with reason `count`."""
    from leanstock.services.stock import stocktakes

    with handled():
        _show(stocktakes.post_stocktake(_uow(), number, actor=ACTOR))


@stocktake_app.command("cancel")
def cancel(number: str) -> None:
    """Close an open count without posting anything."""
    from leanstock.services.stock import stocktakes

    with handled():
        _show(stocktakes.cancel_stocktake(_uow(), number, actor=ACTOR))


@stocktake_app.command("list")
def list_stocktakes(
    status: Annotated[str | None, typer.Option(help="open, posted or cancelled.")] = None,
    location: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """Stocktakes, newest first."""
    from leanstock.services.stock import stocktakes

    with handled():
        page = stocktakes.list_stocktakes(_uow(), status, location, limit, offset)
    _table(
        "Stocktakes",
        ["number", "location", "category", "frozen", "blind", "status", "started"],
        (
            [
                s.number,
                s.location,
                s.category,
                "yes" if s.freeze else "",
                "yes" if s.blind else "",
                s.status,
                s.started_at.isoformat(timespec="seconds"),
            ]
            for s in page.items
        ),
        f"{page.total} in all",
    )
