"""Stock operations, reservations and stock reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from leanstock.domain.access import Actor
from leanstock.domain.errors import DomainError
from leanstock.entrypoints.api.batch_schemas import (
    BatchIn,
    BatchOut,
    DocumentResultOut,
    ProblemOut,
    stock_document,
)
from leanstock.entrypoints.api.bounds import Id, Moment
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.problems import body_problem
from leanstock.entrypoints.api.responses import answer
from leanstock.entrypoints.api.schemas import (
    CountIn,
    LotLevelOut,
    MoveOut,
    OperationOut,
    PageOut,
    ReceiptIn,
    ReleaseIn,
    ReservationConsumeIn,
    ReservationIn,
    ReservationOut,
    ScrapIn,
    ShipmentIn,
    StockAsOfOut,
    StockLevelOut,
    TransferIn,
)
from leanstock.services import queries, stock
from leanstock.services.stock import batch

router = APIRouter()
# Warehouse users limited to some locations act only there; elsewhere is "no such location".
# What they read is narrowed to their locations by the unit of work (`deps.unit_of_work`).
StockWriter = Annotated[Actor, permit("stock:write")]
StockReader = Annotated[Actor, permit("stock:read")]


def _visible_reservation(uow: UowDep, actor: Actor, reservation_id: Id) -> None:
    """A reservation elsewhere answers as a missing one (the unit of work reads only the
    principal's locations)."""
    if actor.locations is not None:
        stock.get_reservation(uow, reservation_id)


@router.post("/stock/receipts", status_code=201, tags=["stock"], response_model=OperationOut)
def receive(body: ReceiptIn, uow: UowDep, actor: StockWriter) -> Response:
    """Receive goods from a supplier into a location (supplier → location): one item, or a
    whole delivery as `lines`."""
    actor.require_location(body.location)
    operation = stock.receive_lines(
        uow,
        body.location,
        body.receipt_lines(),
        supplier=body.supplier,
        reference=body.reference,
        occurred_at=body.occurred_at,
    )
    return answer(OperationOut.model_validate(operation), 201)


@router.post("/stock/shipments", status_code=201, tags=["stock"], response_model=OperationOut)
def ship(body: ShipmentIn, uow: UowDep, actor: StockWriter) -> Response:
    """Ship unreserved stock to a customer, first-expired-first-out unless a lot is named;
    one item, or several as `lines`."""
    actor.require_location(body.location)
    operation = stock.ship_lines(
        uow,
        body.location,
        body.stock_lines(),
        customer=body.customer,
        reference=body.reference,
        occurred_at=body.occurred_at,
        reason=body.reason,
    )
    return answer(OperationOut.model_validate(operation), 201)


@router.post("/stock/transfers", status_code=201, tags=["stock"], response_model=OperationOut)
def transfer(body: TransferIn, uow: UowDep, actor: StockWriter) -> Response:
    """Move stock between two physical locations: one item, or several as `lines` (a
    warehouse user limited to some locations needs both ends granted)."""
    actor.require_location(body.source, "source")
    actor.require_location(body.target, "target")
    operation = stock.transfer_lines(
        uow,
        body.source,
        body.target,
        body.stock_lines(),
        reference=body.reference,
        occurred_at=body.occurred_at,
    )
    return answer(OperationOut.model_validate(operation), 201)


@router.post("/stock/counts", status_code=201, tags=["stock"])
def count(body: CountIn, uow: UowDep, actor: StockWriter) -> OperationOut:
    """Record a stocktake; the difference from the books becomes an adjustment move."""
    actor.require_location(body.location)
    operation = stock.count(
        uow,
        body.sku,
        body.location,
        body.counted,
        unit_cost=body.unit_cost,
        unit=body.unit,
        lot=body.lot,
        expires_on=body.expires_on,
        reference=body.reference,
        occurred_at=body.occurred_at,
        serials=tuple(body.serials or ()),
    )
    return OperationOut.model_validate(operation)


@router.post("/stock/scraps", status_code=201, tags=["stock"])
def scrap(body: ScrapIn, uow: UowDep, actor: StockWriter) -> OperationOut:
    """Write stock off to scrap with a reason (spoilage, damage, expiry, quality, other)."""
    actor.require_location(body.location)
    operation = stock.scrap(
        uow,
        body.sku,
        body.location,
        body.quantity,
        body.reason,
        unit=body.unit,
        lot=body.lot,
        note=body.note,
        reference=body.reference,
        occurred_at=body.occurred_at,
        serials=body.serials or (),
    )
    return OperationOut.model_validate(operation)


@router.post(
    "/stock/operations:batch",
    tags=["stock"],
    response_model=None,
    responses={200: {"model": BatchOut, "description": "One result per document, in order."}},
)
def post_batch(body: BatchIn, uow: UowDep, actor: StockWriter) -> Response:
    """Post up to 1,000 stock documents (receipts, shipments, transfers, counts, scraps; 10,000
    lines in all) in one call, each all-or-nothing on its own, in the order sent: a till's day
    of sales, a warehouse's end-of-day file.

    Each document is the body of its single route with `kind` (receipt, shipment, transfer,
    count, scrap). The answer is 200 with one result per document, in order: `status` 201 and
    the `operation` posted, or the `problem` (RFC 9457) the single route would have answered;
    a refused document changes nothing and the others are kept. With an `Idempotency-Key` a
    retry of the same batch gets the same answer, and nothing is posted twice.
    """
    documents: list[batch.Document | DomainError] = []
    for raw in body.documents:
        try:
            document = stock_document(raw)
            for code, field in batch.places(document):
                actor.require_location(code, field)
            documents.append(document)
        except DomainError as error:
            documents.append(error)
    result = batch.post_batch(uow, documents)
    answer = BatchOut(
        posted=result.posted,
        refused=result.refused,
        results=[
            DocumentResultOut(index=i, status=201, operation=OperationOut.model_validate(o))
            if isinstance(o, stock.Operation)
            else DocumentResultOut(
                index=i, status=(p := body_problem(o))["status"], problem=ProblemOut(**p)
            )
            for i, o in enumerate(result.outcomes)
        ],
    )
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post(
    "/reservations",
    status_code=201,
    tags=["reservations"],
    dependencies=[permit("reservation:write")],
    response_model=ReservationOut,
)
def reserve(body: ReservationIn, uow: UowDep) -> Response:
    """Promise available stock to a reference; 409 when not enough is available."""
    reservation = stock.reserve(
        uow, body.sku, body.location, body.quantity, body.reference, unit=body.unit
    )
    return answer(ReservationOut.model_validate(reservation), 201)


@router.get("/reservations", tags=["reservations"])
def list_reservations(
    uow: UowDep,
    actor: StockReader,
    reference: str | None = None,
    sku: str | None = None,
    location: str | None = None,
    status: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[ReservationOut]:
    page = stock.list_reservations(uow, reference, sku, location, status, limit, offset)
    return PageOut[ReservationOut].model_validate(page)


@router.get("/reservations/{reservation_id}", tags=["reservations"])
def get_reservation(reservation_id: Id, uow: UowDep, actor: StockReader) -> ReservationOut:
    return ReservationOut.model_validate(stock.get_reservation(uow, reservation_id))


@router.post(
    "/reservations/{reservation_id}/release",
    tags=["reservations"],
    dependencies=[permit("reservation:write")],
    response_model=ReservationOut,
)
def release(reservation_id: Id, body: ReleaseIn, uow: UowDep) -> Response:
    """Give reserved stock back to available, all of it or `quantity`."""
    return answer(ReservationOut.model_validate(stock.release(uow, reservation_id, body.quantity)))


@router.post("/reservations/{reservation_id}/consume", status_code=201, tags=["reservations"])
def consume(
    reservation_id: Id, body: ReservationConsumeIn, uow: UowDep, actor: StockWriter
) -> OperationOut:
    """Ship reserved stock to the customer, all of it or `quantity` (a serial-tracked item:
    the `serials` shipped, one per unit)."""
    _visible_reservation(uow, actor, reservation_id)
    operation = stock.consume(
        uow,
        reservation_id,
        body.quantity,
        lot=body.lot,
        occurred_at=body.occurred_at,
        serials=tuple(body.serials or ()),
    )
    return OperationOut.model_validate(operation)


@router.get("/stock", tags=["stock"], response_model=None)
def stock_levels(
    uow: UowDep,
    actor: StockReader,
    sku: str | None = None,
    location: str | None = None,
    as_of: Annotated[
        Moment | None, Query(description="A past moment: on hand per lot from the moves.")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PageOut[StockLevelOut] | PageOut[StockAsOfOut]:
    """On hand, reserved and available per item and location; or on hand per lot at `as_of`.
    Either way a page (`items`, `total`, `limit`, `offset`), as every list is."""
    if as_of is not None:
        page = queries.stock_as_of_page(uow, as_of, sku, location, limit, offset)
        return PageOut[StockAsOfOut].model_validate(page)
    return PageOut[StockLevelOut].model_validate(queries.stock(uow, sku, location, limit, offset))


@router.get("/items/{sku}/lots", tags=["stock"])
def item_lots(
    sku: str, uow: UowDep, actor: StockReader, location: str | None = None
) -> list[LotLevelOut]:
    """What each lot of the item holds per location, with expiry."""
    return [LotLevelOut.model_validate(r) for r in queries.lots(uow, sku, location)]


@router.get("/items/{sku}/moves", tags=["stock"])
def item_moves(
    sku: str,
    uow: UowDep,
    actor: StockReader,
    location: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    newest: Annotated[bool, Query(description="Newest first (default: oldest first).")] = False,
) -> PageOut[MoveOut]:
    """The item's move history, oldest first (or `newest` first)."""
    page = queries.moves(uow, sku, location, since, until, limit, offset, newest)
    return PageOut[MoveOut].model_validate(page)
