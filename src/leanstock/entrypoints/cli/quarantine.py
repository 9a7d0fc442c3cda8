"""`leanstock quarantine release|return|scrap` and `leanstock expire`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import typer

from leanstock.domain.ledger import ScrapReason
from leanstock.entrypoints.cli.app import app, console, handled, iso_date
from leanstock.entrypoints.cli.stock import Lot, Serials, _moved, _uow

quarantine_app = typer.Typer(help="Quarantined goods: release, return to the supplier, scrap.")
app.add_typer(quarantine_app, name="quarantine")

Held = Annotated[str, typer.Option(help="The quarantine location the goods are held in.")]
Note = Annotated[str | None, typer.Option(help="Why, for the record.")]


@quarantine_app.command("release")
def release(
    sku: str,
    quantity: Decimal,
    location: str,
    lot: Lot = None,
    quarantine: Held = "QUARANTINE",
    note: Note = None,
    serials: Serials = None,
) -> None:
    """Release quarantined goods to a warehouse or store, where they become usable."""
    from leanstock.services.stock import quarantine as service

    with handled():
        _moved(
            service.release(
                _uow(),
                sku,
                quantity,
                location,
                quarantine=quarantine,
                lot=lot,
                note=note,
                serials=serials or (),
            )
        )


@quarantine_app.command("return")
def return_to_supplier(
    sku: str,
    quantity: Decimal,
    purchase_order: Annotated[
        str | None, typer.Option(help="The purchase order the goods came on.")
    ] = None,
    supplier: Annotated[str | None, typer.Option(help="The supplier (without an order).")] = None,
    lot: Lot = None,
    quarantine: Held = "QUARANTINE",
    note: Note = None,
    serials: Serials = None,
) -> None:
    """Send quarantined goods back to the supplier."""
    from leanstock.services.stock import quarantine as service

    with handled():
        _moved(
            service.return_to_supplier(
                _uow(),
                sku,
                quantity,
                purchase_order=purchase_order,
                supplier=supplier,
                quarantine=quarantine,
                lot=lot,
                note=note,
                serials=serials or (),
            )
        )


@quarantine_app.command("scrap")
def scrap(
    sku: str,
    quantity: Decimal,
    reason: ScrapReason,
    lot: Lot = None,
    quarantine: Held = "QUARANTINE",
    note: Note = None,
    serials: Serials = None,
) -> None:
    """Scrap quarantined goods with a reason."""
    from leanstock.services.stock import quarantine as service

    with handled():
        _moved(
            service.scrap(
                _uow(),
                sku,
                quantity,
                reason,
                quarantine=quarantine,
                lot=lot,
                note=note,
                serials=serials or (),
            )
        )


@app.command()
def expire(
    today: Annotated[
        date | None,
        typer.Option(parser=iso_date, help="Judge expiry on this day (YYYY-MM-DD; default today)."),
    ] = None,
) -> None:
    """Scrap every lot past its expiry date (reason `expiry`); run it daily."""
    from leanstock.services.stock import expiry

    with handled():
        sweep = expiry.expire(_uow(), today=today)
    if not sweep.lines:
        console.print(f"Nothing had expired before {sweep.day}.")
        return
    _moved(sweep.operation)
    console.print(f"Scrapped {sweep.quantity} expired before {sweep.day}.")
