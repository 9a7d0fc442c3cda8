"""Stocktakes: count documents per location, counted line by line, posted as one adjustment.

Who may: the stock count's rules (docs/security.md): `stock:write` to open, count, post and
cancel, at granted locations; `stock:read` to read, where an open blind count shows the books
only to those with `blind_count:read`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from leanstock.domain.access import Actor
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import PageOut
from leanstock.entrypoints.api.stocktake_schemas import CountLinesIn, StocktakeIn, StocktakeOut
from leanstock.services.stock import stocktakes

router = APIRouter()
StockWriter = Annotated[Actor, permit("stock:write")]
StockReader = Annotated[Actor, permit("stock:read")]
BLIND = "blind_count:read"


@router.post("/stocktakes", status_code=201, tags=["stock"])
def start_stocktake(body: StocktakeIn, uow: UowDep, actor: StockWriter) -> StocktakeOut:
    """Open a count at a location, of every item or one `category` (409 while an open count
    there covers the same items). `freeze` snapshots the books now; `blind` hides them from
    the counters."""
    actor.require_location(body.location)
    view = stocktakes.start_stocktake(
        uow,
        body.location,
        category=body.category,
        freeze=body.freeze,
        blind=body.blind,
        reference=body.reference,
        actor=actor.name,
        show_expected=actor.can(BLIND),
    )
    return StocktakeOut.model_validate(view)


@router.get("/stocktakes", tags=["stock"])
def list_stocktakes(
    uow: UowDep,
    actor: StockReader,
    status: Annotated[str | None, Query(description="open, posted or cancelled.")] = None,
    location: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[StocktakeOut]:
    """Stocktakes, newest first, without their lines."""
    if location is not None:
        actor.require_location(location)
    page = stocktakes.list_stocktakes(uow, status, location, limit, offset)
    return PageOut[StocktakeOut].model_validate(page)


@router.get("/stocktakes/{number}", tags=["stock"])
def get_stocktake(number: str, uow: UowDep, actor: StockReader) -> StocktakeOut:
    """One stocktake and its lines; an open blind count leaves the books out for counters."""
    view = stocktakes.get_stocktake(uow, number, show_expected=actor.can(BLIND))
    return StocktakeOut.model_validate(view)


@router.put("/stocktakes/{number}/lines", tags=["stock"])
def enter_counts(number: str, body: CountLinesIn, uow: UowDep, actor: StockWriter) -> StocktakeOut:
    """Record counted lines (per item, and lot for a lot-tracked item); a line counted again
    keeps the last count. Nothing is kept when any line is refused."""
    view = stocktakes.enter_counts(
        uow,
        number,
        [line.entry() for line in body.lines],
        counted_at=body.counted_at,
        actor=actor.name,
        show_expected=actor.can(BLIND),
    )
    return StocktakeOut.model_validate(view)


@router.post("/stocktakes/{number}/post", tags=["stock"])
def post_stocktake(number: str, uow: UowDep, actor: StockWriter) -> StocktakeOut:
    """Post every counted difference as one adjustment with reason `count`, and close the
    count (docs/architecture.md, "Stocktakes", says what a line books)."""
    return StocktakeOut.model_validate(stocktakes.post_stocktake(uow, number, actor=actor.name))


@router.post("/stocktakes/{number}/cancel", tags=["stock"])
def cancel_stocktake(number: str, uow: UowDep, actor: StockWriter) -> StocktakeOut:
    """Close an open count without posting anything."""
    return StocktakeOut.model_validate(stocktakes.cancel_stocktake(uow, number, actor=actor.name))
