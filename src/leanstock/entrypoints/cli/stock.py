"""Catalog and stock commands: the same services the API calls, printed as Rich tables."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from leanstock.domain.catalog import Item, ItemKind, Location, LocationKind, Policy
from leanstock.domain.ledger import ScrapReason, ShipmentReason
from leanstock.entrypoints.cli.app import (
    app,
    console,
    err_console,
    handled,
    iso_date,
    iso_datetime,
    open_engine,
)

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.services import stock


def _uow() -> UnitOfWork:
    from leanstock.adapters.db.uow import UnitOfWork

    return UnitOfWork(open_engine())


def _table(
    title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], total: int | None = None
) -> None:
    caption = f"{total} in all" if total is not None else None
    table = Table(title=title, caption=caption)
    for column in columns:
        numeric = column in {"on hand", "reserved", "available", "expired", "quantity", "cost"}
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


@app.command()
def init(
    owner: Annotated[
        str | None, typer.Option(help="Email of the first owner, on a database without one.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="The owner's display name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the owner's password from stdin.")
    ] = False,
) -> None:
    """Create the database, or bring its schema up to date; on a database without an owner,
    create the first one (asked for when run at a terminal)."""
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.entrypoints.cli.accounts import create_owner, read_password
    from leanstock.services import accounts

    with handled():
        engine = open_engine(create=True)
        uow = UnitOfWork(engine)
        if not accounts.has_owner(uow):
            if owner is None and sys.stdin.isatty():
                owner = typer.prompt("Email of the first owner")
            if owner is not None:
                create_owner(uow, owner, name, read_password(password_stdin))
            else:
                err_console.print(
                    "[yellow]No owner yet: the server will not start until one exists. Run "
                    "`leanstock init --owner EMAIL`.[/]"
                )
        engine.dispose()
    console.print("[green]Database ready.[/]")


@app.command("items")
def list_items(
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Part of SKU or name.")
    ] = None,
    category: str | None = None,
    kind: ItemKind | None = None,
    policy: Policy | None = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """List items."""
    from leanstock.services import catalog

    with handled():
        page = catalog.list_items(
            _uow(), limit, offset, search=search, category=category, kind=kind, policy=policy
        )
    _table(
        "Items",
        ["sku", "name", "unit", "kind", "category", "policy", "lots", "shelf life"],
        (
            [
                i.sku,
                i.name,
                i.unit,
                i.kind,
                i.category,
                i.policy,
                "yes" if i.lot_tracked else "",
                i.shelf_life_days,
            ]
            for i in page.items
        ),
        page.total,
    )


@app.command("item")
def show_item(sku: str) -> None:
    """Show one item, its suppliers and its stock."""
    from leanstock.services import catalog, queries

    uow = _uow()
    with handled():
        item = catalog.get_item(uow, sku)  # by SKU or barcode
        offers = catalog.list_supplier_items(uow, sku=item.sku).items
        levels = queries.stock(uow, sku=item.sku).items
        barcodes = catalog.barcodes_of(uow, [item.sku])[item.sku]
    fields = [*vars(item).items(), ("barcodes", ", ".join(barcodes))]
    _table("Item", ["field", "value"], ([k, v] for k, v in fields))
    _table(
        "Suppliers",
        ["supplier", "price", "lead time (days)", "moq", "pack", "priority"],
        ([o.supplier, o.price, o.lead_time_days, o.moq, o.pack_size, o.priority] for o in offers),
    )
    _stock_table(levels)


@app.command("locations")
def list_locations(limit: int = 50, offset: int = 0) -> None:
    """List locations, physical and virtual."""
    from leanstock.services import catalog

    with handled():
        page = catalog.list_locations(_uow(), limit, offset)
    _table(
        "Locations",
        ["code", "name", "kind", "physical", "may go negative"],
        ([x.code, x.name, x.kind, x.is_physical, x.may_go_negative] for x in page.items),
        page.total,
    )


@app.command("add-location")
def add_location(
    code: str, name: str, kind: LocationKind = LocationKind.WAREHOUSE, allow_negative: bool = False
) -> None:
    """Add a warehouse, store, quarantine or work-in-progress location."""
    from leanstock.services import catalog

    with handled():
        catalog.add_location(_uow(), Location(code, name, kind, allow_negative))
    console.print(f"[green]Added location {code}.[/]")


@app.command("add-item")
def add_item(
    sku: str,
    name: str,
    unit: str = "each",
    kind: ItemKind = ItemKind.BOUGHT,
    category: str = "general",
    unit_cost: Decimal = Decimal(0),
    lot_tracked: bool = False,
    shelf_life_days: int | None = None,
    policy: Policy = Policy.REORDER_POINT,
    serial_tracked: Annotated[
        bool, typer.Option(help="Every unit carries a serial, named whenever it moves.")
    ] = False,
    barcode: Annotated[
        list[str] | None, typer.Option("--barcode", help="A GTIN it is scanned by; repeatable.")
    ] = None,
) -> None:
    """Add an item to the catalog."""
    from leanstock.services import catalog

    with handled():
        catalog.add_item(
            _uow(),
            Item(
                sku,
                name,
                unit,
                kind,
                category,
                unit_cost,
                lot_tracked,
                shelf_life_days,
                policy,
                serial_tracked=serial_tracked,
            ),
            barcode or [],
        )
    console.print(f"[green]Added item {sku}.[/]")


@app.command("add-barcode")
def add_barcode(sku: str, barcode: str) -> None:
    """Give an item a barcode (a GTIN: EAN-8, UPC-A, EAN-13 or GTIN-14, check digit checked);
    wherever a command names an item, the barcode then stands for its SKU."""
    from leanstock.services import catalog

    with handled():
        codes = catalog.add_barcode(_uow(), sku, barcode)
    console.print(f"[green]{sku}[/] is scanned by {', '.join(codes)}.")


@app.command("remove-barcode")
def remove_barcode(sku: str, barcode: str) -> None:
    """Take a barcode off an item."""
    from leanstock.services import catalog

    with handled():
        codes = catalog.remove_barcode(_uow(), sku, barcode)
    console.print(f"[green]Removed {barcode}[/] from {sku}; it keeps {', '.join(codes) or 'none'}.")


@app.command("suppliers")
def list_suppliers(limit: int = 50, offset: int = 0) -> None:
    """List suppliers."""
    from leanstock.services import catalog

    with handled():
        page = catalog.list_suppliers(_uow(), limit, offset)
    _table(
        "Suppliers",
        ["code", "name", "email", "active"],
        ([s.code, s.name, s.email, s.active] for s in page.items),
        page.total,
    )


def _stock_table(rows: list[dict[str, Any]], total: int | None = None) -> None:
    _table(
        "Stock",
        ["sku", "location", "on hand", "reserved", "expired", "available", "unit"],
        (
            [
                r["sku"],
                r["location"],
                r["on_hand"],
                r["reserved"],
                r["expired"],
                r["available"],
                r["unit"],
            ]
            for r in rows
        ),
        total,
    )


@app.command("stock")
def show_stock(
    sku: Annotated[str | None, typer.Option(help="Only this item.")] = None,
    location: Annotated[str | None, typer.Option(help="Only this location.")] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            parser=iso_datetime,
            help="A past moment (YYYY-MM-DD or YYYY-MM-DDTHH:MM): on hand per lot then.",
        ),
    ] = None,
    lots: Annotated[bool, typer.Option(help="Per lot, with expiry (needs --sku).")] = False,
    limit: int = 100,
    offset: int = 0,
) -> None:
    """Stock on hand, reserved and available; per lot; or as of a past moment."""
    from leanstock.services import queries

    uow = _uow()
    with handled():
        if as_of is not None:
            rows = queries.stock_as_of(uow, as_of, sku, location)
            _table(
                f"On hand as of {as_of:%Y-%m-%d %H:%M}",
                ["sku", "location", "lot", "on hand"],
                ([r["sku"], r["location"], r["lot"], r["on_hand"]] for r in rows),
            )
        elif lots:
            if sku is None:
                raise typer.BadParameter("--lots needs --sku")
            found = queries.lots(uow, sku, location)
            _table(
                f"Lots of {sku}",
                ["location", "lot", "quantity", "expires on", "expired"],
                (
                    [r["location"], r["lot"], r["quantity"], r["expires_on"], r["expired"]]
                    for r in found
                ),
            )
        else:
            page = queries.stock(uow, sku, location, limit, offset)
            _stock_table(page.items, page.total)


@app.command("moves")
def show_moves(
    sku: str,
    location: Annotated[str | None, typer.Option(help="Only moves in or out of here.")] = None,
    since: Annotated[
        datetime | None, typer.Option(parser=iso_datetime, help="YYYY-MM-DD[THH:MM].")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(parser=iso_datetime, help="YYYY-MM-DD[THH:MM].")
    ] = None,
    limit: int = 100,
    offset: int = 0,
    newest: Annotated[bool, typer.Option("--newest", help="The latest moves first.")] = False,
) -> None:
    """An item's move history, oldest first (--newest: the latest first)."""
    from leanstock.services import queries

    with handled():
        page = queries.moves(_uow(), sku, location, since, until, limit, offset, newest)
    _table(
        f"Moves of {sku}",
        ["when", "kind", "from", "to", "quantity", "lot", "reference", "reason"],
        (
            [
                f"{m['occurred_at']:%Y-%m-%d %H:%M}",
                m["kind"],
                m["source"],
                m["target"],
                m["quantity"],
                m["lot"],
                m["reference"],
                m["reason"],
            ]
            for m in page.items
        ),
    )
    order = "newest first" if newest else "oldest first; --newest for the latest"
    shown = f"{offset + 1}-{offset + len(page.items)}" if page.items else "none"
    console.print(f"{shown} of {page.total} moves ({order}; --offset N to page).")


def _moved(operation: stock.Operation) -> None:
    if not operation.moves:
        console.print("Nothing to move: the books already agree.")
        return
    _table(
        f"{operation.kind.capitalize()} #{operation.id}",
        ["sku", "from", "to", "quantity", "lot"],
        ([m.sku, m.source, m.target, m.quantity, m.lot] for m in operation.moves),
    )


Lot = Annotated[str | None, typer.Option(help="Lot code (lot-tracked items).")]
Serials = Annotated[
    list[str] | None,
    typer.Option("--serial", help="A serial (serial-tracked items): once per unit."),
]


@app.command()
def receive(
    sku: str,
    location: str,
    quantity: Decimal,
    lot: Lot = None,
    expires_on: Annotated[
        date | None, typer.Option(parser=iso_date, help="YYYY-MM-DD (lot-tracked items).")
    ] = None,
    supplier: str | None = None,
    reference: str | None = None,
    unit_cost: Annotated[
        Decimal | None, typer.Option(help="Cost per unit (default: the item's unit cost).")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="The unit of QUANTITY (a sack).")] = None,
    serials: Serials = None,
) -> None:
    """Receive goods from a supplier into a location."""
    from leanstock.services import stock

    with handled():
        _moved(
            stock.receive(
                _uow(),
                sku,
                location,
                quantity,
                lot=lot,
                expires_on=expires_on,
                supplier=supplier,
                reference=reference,
                unit_cost=unit_cost,
                unit=unit,
                serials=serials or (),
            )
        )


@app.command()
def ship(
    sku: str,
    location: str,
    quantity: Decimal,
    lot: Lot = None,
    reference: str | None = None,
    reason: Annotated[
        ShipmentReason | None,
        typer.Option(help="sale: a counter sale, counted as demand for the forecasts."),
    ] = None,
    serials: Serials = None,
) -> None:
    """Ship to a customer, first-expired-first-out unless a lot is named (a serial-tracked
    item: the serials named)."""
    from leanstock.services import stock

    with handled():
        _moved(
            stock.ship(
                _uow(),
                sku,
                location,
                quantity,
                lot=lot,
                reference=reference,
                reason=reason,
                serials=serials or (),
            )
        )


@app.command()
def transfer(
    sku: str,
    source: str,
    target: str,
    quantity: Decimal,
    lot: Lot = None,
    reference: str | None = None,
    serials: Serials = None,
) -> None:
    """Move stock between two locations."""
    from leanstock.services import stock

    with handled():
        _moved(
            stock.transfer(
                _uow(),
                sku,
                source,
                target,
                quantity,
                lot=lot,
                reference=reference,
                serials=serials or (),
            )
        )


@app.command()
def count(
    sku: str,
    location: str,
    counted: Decimal,
    lot: Lot = None,
    unit_cost: Annotated[
        Decimal | None,
        typer.Option(help="Cost per unit of stock found beyond the books (an opening balance)."),
    ] = None,
    serials: Serials = None,
) -> None:
    """Record a stocktake; the difference becomes an adjustment (a serial-tracked item: name
    the serials found, --serial once per unit)."""
    from leanstock.services import stock

    with handled():
        _moved(
            stock.count(
                _uow(), sku, location, counted, lot=lot, unit_cost=unit_cost, serials=serials or ()
            )
        )


@app.command()
def scrap(
    sku: str,
    location: str,
    quantity: Decimal,
    reason: ScrapReason,
    lot: Lot = None,
    note: str | None = None,
    serials: Serials = None,
) -> None:
    """Write stock off to scrap with a reason."""
    from leanstock.services import stock

    with handled():
        _moved(
            stock.scrap(
                _uow(), sku, location, quantity, reason, lot=lot, note=note, serials=serials or ()
            )
        )


@app.command()
def reserve(sku: str, location: str, quantity: Decimal, reference: str) -> None:
    """Reserve available stock for a reference."""
    from leanstock.services import stock

    with handled():
        r = stock.reserve(_uow(), sku, location, quantity, reference)
    console.print(
        f"[green]Reservation {r.id}:[/] {r.quantity} {sku} at {location} for {reference}."
    )
