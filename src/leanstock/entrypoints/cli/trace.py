"""`leanstock trace SKU LOT`: where a lot came from and where it went (a recall list)."""

from __future__ import annotations

from typing import Annotated

import typer

from leanstock.entrypoints.cli.app import app, console, handled
from leanstock.entrypoints.cli.stock import _table, _uow


@app.command()
def trace(sku: str, lot: str) -> None:
    """Trace a lot both ways: supplier lots upstream, batches, and the customers who received
    it or anything made from it."""
    from leanstock.services import traceability

    with handled():
        found = traceability.trace(_uow(), sku, lot)
    expiry = f", expires {found.expires_on}" if found.expires_on else ""
    console.print(f"[bold]Lot {lot} of {sku}[/]{expiry}")
    held = ", ".join(f"{code}: {q}" for code, q in found.on_hand.items()) or "none"
    console.print(f"On hand now: {held}")
    _table(
        "Came from",
        ["sku", "lot", "supplier", "reference", "quantity", "received"],
        (
            [r.sku, r.lot, r.supplier or "", r.reference or "", r.quantity, r.occurred_at]
            for r in found.supplier_lots
        ),
    )
    for batch in found.made_in:
        used = ", ".join(f"{s} {lt or '-'} × {q}" for s, lt, q in batch.used)
        console.print(f"Made in {batch.reference} from {used or 'nothing recorded'}")
    for batch in found.used_in:
        made = ", ".join(f"{s} {lt or '-'} × {q}" for s, lt, q in batch.made)
        console.print(f"Used in {batch.reference}, which made {made or 'nothing yet'}")
    _table(
        "Went to customers (recall list)",
        ["sku", "lot", "customer", "reference", "from", "quantity", "shipped"],
        (
            [
                d.sku,
                d.lot,
                d.customer or "",
                d.reference or "",
                d.location,
                d.quantity,
                d.occurred_at,
            ]
            for d in found.customers
        ),
    )
    for d in found.customers:
        if d.serials:
            console.print(f"{d.customer or 'a customer'} ({d.reference}): {', '.join(d.serials)}")


@app.command("serial")
def serial(sku: str, serial: str) -> None:
    """Trace one serial: where it is, its lot, its supplier, the customer who has it (a recall
    by serial) and its moves."""
    from leanstock.services import serials

    with handled():
        found = serials.trace(_uow(), sku, serial)
    lot = f", lot {found.lot}" if found.lot else ""
    console.print(f"[bold]Serial {serial} of {sku}[/]{lot}: at {found.location}")
    if found.supplier:
        console.print(f"Supplied by {found.supplier}")
    if found.customer:
        console.print(f"With customer {found.customer}")
    _table(
        "Moves",
        ["when", "kind", "from", "to", "reference", "partner"],
        (
            [
                f"{m.occurred_at:%Y-%m-%d %H:%M}",
                m.kind,
                m.source,
                m.target,
                m.reference or "",
                m.partner or "",
            ]
            for m in found.moves
        ),
    )


@app.command("serials")
def list_serials(
    sku: str,
    location: Annotated[str | None, typer.Option(help="Only the serials here.")] = None,
    limit: int = 100,
    offset: int = 0,
) -> None:
    """The serials of a serial-tracked item and where each is."""
    from leanstock.services import serials

    with handled():
        page = serials.list_serials(_uow(), sku, location, limit, offset)
    _table(
        f"Serials of {sku}",
        ["serial", "lot", "location"],
        ([s.serial, s.lot or "", s.location] for s in page.items),
    )
    console.print(f"{len(page.items)} of {page.total} serials.")
