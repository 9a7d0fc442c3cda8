"""Supply commands: suppliers and their terms, bills of materials, production orders from
release to close, transfer orders shipped and received, purchase orders closed. The same
services the API calls."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from leanstock.domain.errors import InvalidInput
from leanstock.domain.quantities import exact
from leanstock.entrypoints.cli.app import app, console, handled, iso_date, open_engine
from leanstock.entrypoints.cli.orders import _table, show_purchase_order

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.services.production import ComponentLot, ProductionOrderView
    from leanstock.services.transfers import TransferOrderView


def _uow() -> UnitOfWork:
    from leanstock.adapters.db.uow import UnitOfWork

    return UnitOfWork(open_engine())


# Suppliers and their terms


@app.command("add-supplier")
def add_supplier(
    code: str,
    name: str,
    email: Annotated[str | None, typer.Option(help="Where purchase orders go.")] = None,
) -> None:
    """Add a supplier."""
    from leanstock.domain.catalog import Supplier
    from leanstock.services import catalog

    with handled():
        catalog.add_supplier(_uow(), Supplier(code, name, email))
    console.print(f"[green]Added supplier {code}[/] ({name}).")


@app.command("add-supplier-item")
def add_supplier_item(
    supplier: str,
    sku: str,
    price: Annotated[Decimal, typer.Option(help="Unit price.")],
    lead_time: Annotated[int, typer.Option(help="Days from order to delivery.")],
    moq: Annotated[Decimal, typer.Option(help="Minimum order quantity.")] = Decimal(1),
    pack_size: Annotated[Decimal, typer.Option(help="Orders come in multiples of it.")] = Decimal(
        1
    ),
    priority: Annotated[int, typer.Option(help="1 is bought first; 2 is the backup.")] = 1,
    unit: Annotated[
        str | None,
        typer.Option(help="The unit of price, MOQ and pack size (a purchase unit: sack)."),
    ] = None,
) -> None:
    """Add the terms on which a supplier sells an item (kept in the item's stock unit)."""
    from leanstock.domain.catalog import SupplierItem
    from leanstock.services import catalog

    with handled():
        terms = catalog.add_supplier_item(
            _uow(),
            SupplierItem(supplier, sku, price, lead_time, moq, pack_size, priority),
            unit=unit,
        )
    console.print(
        f"[green]{supplier} sells {sku}[/] at {terms.price}, {lead_time} days, MOQ {terms.moq}, "
        f"packs of {terms.pack_size}, priority {priority} (per stock unit)."
    )


@app.command("supplier-items")
def list_supplier_items(
    supplier: Annotated[str | None, typer.Option(help="Only this supplier's.")] = None,
    sku: Annotated[str | None, typer.Option(help="Only this item's.")] = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """List suppliers' terms: price, lead time, MOQ, pack size, priority."""
    from leanstock.services import catalog

    with handled():
        page = catalog.list_supplier_items(_uow(), limit, offset, supplier=supplier, sku=sku)
    _table(
        "Supplier terms",
        ["supplier", "sku", "price", "lead days", "moq", "pack", "priority"],
        (
            [t.supplier, t.sku, t.price, t.lead_time_days, t.moq, t.pack_size, t.priority]
            for t in page.items
        ),
        f"{page.total} in all",
    )


# Bills of materials


def _components(pairs: list[str]) -> list[tuple[str, Decimal, Decimal]]:
    """`SKU:QUANTITY[:SCRAP]` per component, as written on the command line."""
    found = []
    for pair in pairs:
        parts = pair.split(":")
        if len(parts) not in (2, 3) or not parts[0]:
            raise InvalidInput(
                f"Write each component as SKU:QUANTITY or SKU:QUANTITY:SCRAP, not {pair!r}.",
                "component",
            )
        scrap = exact(parts[2]) if len(parts) == 3 else Decimal(0)
        found.append((parts[0], exact(parts[1]), scrap))
    return found


@app.command("set-bom")
def set_bom(
    sku: str,
    components: Annotated[
        list[str],
        typer.Option(
            "--component",
            "-c",
            help="SKU:QUANTITY per unit made, or SKU:QUANTITY:SCRAP (a share lost, e.g. 0.05).",
        ),
    ],
    lead_time: Annotated[int, typer.Option(help="Days to make it.")] = 0,
) -> None:
    """Set (or replace) the bill of materials of a made item."""
    from leanstock.services import production

    with handled():
        production.put_bom(_uow(), sku, _components(components), lead_time)
    show_bom(sku)


@app.command("bom")
def show_bom(sku: str) -> None:
    """A made item's bill of materials."""
    from leanstock.services import production

    with handled():
        bom = production.get_bom(_uow(), sku)
    _table(
        f"Bill of materials of {sku} ({bom.lead_time_days} days to make)",
        ["component", "quantity", "scrap"],
        ([line.component, line.quantity, line.scrap] for line in bom.lines),
    )


# Production orders


def _production(view: ProductionOrderView) -> None:
    console.print(
        f"[bold]{view.number}[/] {view.quantity} of {view.sku} at {view.location}: "
        f"{view.status}, {view.produced} made, due {view.due_date}"
    )
    _table(
        "Components",
        ["sku", "quantity", "consumed", "reserved"],
        ([c.sku, c.quantity, c.consumed, c.reserved] for c in view.components),
    )


@app.command("production-order")
def show_production_order(number: Annotated[str, typer.Argument(help="MO-000001")]) -> None:
    """One production order with its components."""
    from leanstock.services import production

    with handled():
        _production(production.get_production_order(_uow(), number))


@app.command("make")
def make(
    sku: str,
    quantity: Decimal,
    location: Annotated[str, typer.Option(help="Where it is made.")],
    due: Annotated[
        date | None, typer.Option(parser=iso_date, help="Wanted by, YYYY-MM-DD.")
    ] = None,
) -> None:
    """Create a production order; its components are reserved or pulled at once."""
    from leanstock.services import production

    with handled():
        _production(
            production.create_production_order(_uow(), sku, quantity, location, due_date=due)
        )


@app.command("release-production")
def release_production(number: str) -> None:
    """Release a draft production order to the floor."""
    from leanstock.services import production

    with handled():
        _production(production.release_production(_uow(), number))


ComponentLots = Annotated[
    list[str] | None,
    typer.Option(
        "--component-lot",
        help="A component lot to use instead of first-expired-first-out: SKU=LOT, or "
        "SKU=LOT:QUANTITY when several lots give one component. Repeat it.",
    ),
]


def _component_lots(values: list[str] | None) -> list[ComponentLot]:
    from leanstock.services.production import ComponentLot

    found = []
    for index, value in enumerate(values or []):
        sku, equals, rest = value.partition("=")
        lot, colon, quantity = rest.partition(":")
        if not equals or not sku or not lot or (colon and not quantity):
            raise InvalidInput(
                f"--component-lot {value!r} must be SKU=LOT or SKU=LOT:QUANTITY.",
                f"lots[{index}]",
            )
        found.append(
            ComponentLot(sku, lot, exact(quantity, f"lots[{index}].quantity") if colon else None)
        )
    return found


@app.command("start-production")
def start_production(
    number: str,
    component_lot: ComponentLots = None,
    serials: Annotated[
        list[str] | None,
        typer.Option(
            "--serial",
            help="A serial-tracked component's serial issued, SKU=SERIAL; once per unit.",
        ),
    ] = None,
) -> None:
    """Issue the components to work in progress (refused while any is short), lots
    first-expired-first-out or the ones named."""
    from leanstock.domain.errors import InvalidInput
    from leanstock.services import production

    with handled():
        lots = _component_lots(component_lot)
        by_sku: dict[str, list[str]] = {}
        for value in serials or []:
            sku, sep, serial = value.partition("=")
            if not sep or not sku or not serial:
                raise InvalidInput(f"--serial {value!r}: write SKU=SERIAL.", "serial")
            by_sku.setdefault(sku, []).append(serial)
        _production(production.start_production_order(_uow(), number, lots=lots, serials=by_sku))


@app.command("produce")
def produce(
    number: str,
    quantity: Decimal,
    lot: Annotated[
        str | None,
        typer.Option(help="The lot made, for a lot-tracked item (default: ORDER-YYYYMMDD)."),
    ] = None,
    expires_on: Annotated[
        date | None,
        typer.Option(
            "--expires-on",
            parser=iso_date,
            help="The lot's expiry, YYYY-MM-DD (default: today + shelf life).",
        ),
    ] = None,
    conversion_cost: Annotated[
        Decimal | None,
        typer.Option(
            "--conversion-cost",
            parser=Decimal,
            help="Cost the output adds to its components' (labour, energy), in total.",
        ),
    ] = None,
    component_lot: ComponentLots = None,
    serials: Annotated[
        list[str] | None,
        typer.Option("--serial", help="A new serial made (serial-tracked items); once per unit."),
    ] = None,
) -> None:
    """Report finished goods of a started production order (partly, too); the components come
    out of work in progress first-expired-first-out, or from the lots named."""
    from leanstock.services import production

    with handled():
        _production(
            production.produce(
                _uow(),
                number,
                quantity,
                lot=lot,
                expires_on=expires_on,
                lots=_component_lots(component_lot),
                conversion_cost=conversion_cost,
                serials=serials or (),
            )
        )


@app.command("close-production")
def close_production(number: str) -> None:
    """Close a started order: unused components go back to stock."""
    from leanstock.services import production

    with handled():
        _production(production.close_production(_uow(), number))


# Transfer orders


def _transfer(view: TransferOrderView) -> None:
    console.print(
        f"[bold]{view.number}[/] {view.quantity} of {view.sku} from {view.source} to "
        f"{view.target}: {view.status}, {view.received} received, expected {view.expected_date}"
    )


@app.command("transfer-orders")
def list_transfer_orders(
    status: Annotated[
        str | None, typer.Option(help="draft, released, in_transit, received, cancelled.")
    ] = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """List transfer orders, newest first."""
    from leanstock.services import transfers

    with handled():
        page = transfers.list_transfer_orders(_uow(), status, limit, offset)
    _table(
        "Transfer orders",
        ["number", "sku", "from", "to", "quantity", "received", "status", "expected"],
        (
            [
                r["number"],
                r["sku"],
                r["source"],
                r["target"],
                r["quantity"],
                r["received"],
                r["status"],
                r["expected_date"],
            ]
            for r in page.items
        ),
        f"{page.total} in all",
    )


@app.command("ship-transfer")
def ship_transfer(
    number: str,
    serials: Annotated[
        list[str] | None,
        typer.Option("--serial", help="A serial sent (serial-tracked items); once per unit."),
    ] = None,
) -> None:
    """Send a transfer: its stock leaves the source for in transit."""
    from leanstock.services import transfers

    with handled():
        _transfer(transfers.ship_transfer(_uow(), number, serials=serials or ()))


@app.command("receive-transfer")
def receive_transfer(
    number: str,
    quantity: Annotated[
        Decimal | None, typer.Option(help="What arrived, if less than was shipped.")
    ] = None,
    serials: Annotated[
        list[str] | None,
        typer.Option(
            "--serial", help="A serial that arrived (serial-tracked items, if not all did)."
        ),
    ] = None,
) -> None:
    """Receive a transfer at its target (the rest, if less arrived, is written off)."""
    from leanstock.services import transfers

    with handled():
        _transfer(transfers.receive_transfer(_uow(), number, quantity, serials=serials or ()))


# Purchase orders


@app.command("close-po")
def close_purchase_order(number: str) -> None:
    """Close a purchase order: nothing more is expected from it."""
    from leanstock.services import purchasing

    with handled():
        purchasing.close(_uow(), number, actor="cli")
    show_purchase_order(number)
