"""Stock forms: receive, ship, transfer and scrap (with its reason), one item at a time, through
the same services and location checks as `POST /api/v1/stock/receipts|shipments|transfers|
scraps`. The count sheet is in `pages.py`.

A refusal is shown beside the field it names, and the form keeps what was typed; a done move
shows what was booked. Each drawing of the form carries a new idempotency key, so a
double-clicked submit books once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import DomainError, InvalidInput, NotFound
from leanstock.domain.ledger import ScrapReason
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.forms import Form, read_form
from leanstock.entrypoints.web.render import render
from leanstock.services import catalog, stock

router = APIRouter(include_in_schema=False)
KINDS = {
    "receive": "Receive",
    "ship": "Ship",
    "transfer": "Transfer",
    "scrap": "Scrap",
}
DONE = {
    "receive": "Received.",
    "ship": "Shipped.",
    "transfer": "Transferred.",
    "scrap": "Scrapped.",
}


def _context(
    uow: UowDep, actor: Actor, kind: str, values: dict[str, str], error: Any
) -> dict[str, Any]:
    locations = [
        loc.code
        for loc in catalog.list_locations(uow, 200, 0, physical=True).items
        if actor.sees_location(loc.code)
    ]
    return {
        "kind": kind,
        "kinds": KINDS,
        "values": values,
        "error": error,
        "locations": locations,
        "reasons": [r.value for r in ScrapReason],
    }


@router.get("/stock/move")
def move_form(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("stock:write")],
    kind: str = "receive",
    done: str = "",
) -> Response:
    chosen = kind if kind in KINDS else "receive"
    context = _context(uow, actor, chosen, {}, None)
    context["done"] = DONE.get(done, "")
    return render(request, "stock/move.html", context)


def _book(uow: UowDep, actor: Actor, kind: str, form: Form) -> None:
    sku = form.text("sku", "item's SKU")
    location = form.text("location", "location")
    actor.require_location(location)
    quantity = form.decimal("quantity", "quantity")
    lot = form.optional("lot")
    reference = form.optional("reference")
    serials = serial_lines(form.values.get("serials", ""))
    if kind == "receive":
        stock.receive(
            uow,
            sku,
            location,
            quantity,
            lot=lot,
            expires_on=form.day("expires_on", "expiry date"),
            reference=reference,
            serials=serials,
        )
    elif kind == "ship":
        stock.ship(uow, sku, location, quantity, lot=lot, reference=reference, serials=serials)
    elif kind == "transfer":
        target = form.text("target", "location to move it to")
        actor.require_location(target, "target")
        stock.transfer(
            uow, sku, location, target, quantity, lot=lot, reference=reference, serials=serials
        )
    else:
        reason = form.values.get("reason", "")
        if reason not in {r.value for r in ScrapReason}:
            raise InvalidInput(
                "Choose why it is scrapped: spoilage, damage, expiry, quality or other.",
                "reason",
            )
        stock.scrap(
            uow,
            sku,
            location,
            quantity,
            ScrapReason(reason),
            lot=lot,
            note=form.optional("note"),
            reference=reference,
            serials=serials,
        )


def serial_lines(text: str) -> list[str]:
    """The serials typed in the form's box, one per line (blank lines and spaces around each
    left out)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.post("/stock/move")
async def book_move(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("stock:write")]
) -> Response:
    """Book the move; the form again, empty, with what was done (or the problem beside its
    field and what was typed)."""
    form = await read_form(request)
    kind = form.values.get("kind", "")
    try:
        if kind not in KINDS:
            raise InvalidInput("Choose receive, ship, transfer or scrap.", "kind")
        _book(uow, actor, kind, form)
    except DomainError as error:
        status = 404 if isinstance(error, NotFound) else 422
        context = _context(uow, actor, kind if kind in KINDS else "receive", form.values, error)
        context["done"] = ""
        return render(request, "stock/move.html", context, status)
    return RedirectResponse(f"/stock/move?kind={kind}&done={kind}", status_code=303)
