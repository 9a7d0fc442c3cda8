"""`leanstock trace SKU LOT`: where a lot came from and where it went (a recall list)."""

from __future__ import annotations

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
