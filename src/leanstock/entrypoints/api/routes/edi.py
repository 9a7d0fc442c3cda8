"""EDI: interchanges in (`POST /edi/inbound`, answered with the 997), the interchange log,
trading partners, and the three-way match's variances.

A supplier user sends only its own supplier's interchanges (another partner's answer as one
that does not exist) and reads only its own log and variances.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Query, Request, Response

from leanstock.domain.access import Actor, Role
from leanstock.entrypoints.api.bounds import Day
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import In, Out, PageOut
from leanstock.services import edi, matching

router = APIRouter(tags=["edi"])
X12 = "application/edi-x12"
Reader = Annotated[Actor, permit("edi:read")]


class PartnerIn(In):
    qualifier: str = "ZZ"
    interchange_id: str
    group_id: str


class PartnerOut(Out):
    supplier: str
    qualifier: str
    interchange_id: str
    group_id: str


class InterchangeRowOut(Out):
    id: int
    direction: str
    supplier: str | None
    control_number: str
    status: str
    reasons: list[str]
    documents: list[str]
    created_by: str
    created_at: datetime


class InterchangeOut(InterchangeRowOut):
    document: str
    acknowledgement: str | None


class VarianceOut(Out):
    kind: str
    order: str
    supplier: str
    line_no: int
    sku: str
    invoice: str
    invoiced_on: date
    ordered_price: Decimal
    invoiced_price: Decimal
    ordered: Decimal
    received: Decimal
    invoiced: Decimal
    difference: Decimal
    amount: Decimal


@router.post(
    "/edi/inbound",
    response_class=Response,
    responses={200: {"content": {X12: {}}, "description": "The 997 (with a TA1)."}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {X12: {"schema": {"type": "string"}}},
            "description": "One X12 004010 interchange (855, 856 or 810 sets).",
        }
    },
)
async def receive_interchange(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("edi:send")]
) -> Response:
    """Receive one interchange; answer with its functional acknowledgement (997).

    200 whenever the interchange could be acknowledged, accepted or not: the header
    `Leanstock-EDI-Status` says accepted, partially_accepted, rejected or duplicate (applied
    before: acknowledged again, not applied again), `Leanstock-EDI-Interchange` the log entry
    whose `reasons` say in words why a document was rejected. 422 when the body is no X12
    interchange at all (nothing to acknowledge)."""
    text = (await request.body()).decode("latin-1")
    bound = actor.supplier if actor.role is Role.SUPPLIER else None
    result = await to_thread.run_sync(
        lambda: edi.receive(uow, text, actor=actor.name, bound_supplier=bound)
    )
    return Response(
        result.acknowledgement,
        media_type=X12,
        headers={
            "Leanstock-EDI-Status": result.status.value,
            "Leanstock-EDI-Interchange": str(result.interchange_id),
        },
    )


@router.get("/edi/interchanges")
def list_interchanges(
    uow: UowDep,
    actor: Reader,
    supplier: str | None = None,
    direction: str | None = None,
    status: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[InterchangeRowOut]:
    """The interchange log, newest first: every interchange received or sent, its verdict and,
    for a rejection, the reasons in words."""
    page = edi.interchanges(
        uow, supplier=supplier, direction=direction, status=status, limit=limit, offset=offset
    )
    return PageOut[InterchangeRowOut](
        items=[InterchangeRowOut.model_validate(r) for r in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/edi/interchanges/{interchange_id}")
def get_interchange(interchange_id: int, uow: UowDep, actor: Reader) -> InterchangeOut:
    """One interchange: its text as received or sent, and the 997 it got."""
    return InterchangeOut.model_validate(edi.interchange(uow, interchange_id))


@router.put("/suppliers/{code}/edi")
def put_partner(
    code: str, body: PartnerIn, uow: UowDep, actor: Annotated[Actor, permit("supplier:write")]
) -> PartnerOut:
    """Make a supplier an EDI trading partner (or change its ids): the ISA qualifier and id
    (ISA05/ISA06) and group id (GS02) its interchanges come from, and ours go to."""
    partner = edi.set_partner(
        uow, code, body.qualifier, body.interchange_id, body.group_id, actor=actor.name
    )
    return PartnerOut.model_validate(partner)


@router.get("/suppliers/{code}/edi", dependencies=[permit("supplier:read")])
def get_partner(code: str, uow: UowDep) -> PartnerOut:
    return PartnerOut.model_validate(edi.partner_of(uow, code))


@router.delete("/suppliers/{code}/edi", status_code=204)
def delete_partner(
    code: str, uow: UowDep, actor: Annotated[Actor, permit("supplier:write")]
) -> Response:
    """The supplier no longer trades by EDI; its interchange log stays."""
    edi.remove_partner(uow, code, actor=actor.name)
    return Response(status_code=204)


@router.get("/invoice-variances")
def list_variances(
    uow: UowDep,
    actor: Annotated[Actor, permit("invoice:read")],
    supplier: str | None = None,
    order: str | None = None,
    since: Annotated[Day | None, Query(description="First invoice date (YYYY-MM-DD).")] = None,
    price_tolerance: Annotated[
        Decimal, Query(ge=0, le=1, description="Price difference let through, as a fraction.")
    ] = Decimal(0),
    quantity_tolerance: Annotated[Decimal, Query(ge=0, le=1_000_000)] = Decimal(0),
    limit: Limit = 50,
    offset: Offset = 0,
) -> PageOut[VarianceOut]:
    """The three-way match (purchase order, receipts, supplier invoices): price and quantity
    variances for review, oldest invoice first."""
    page = matching.variances(
        uow,
        supplier=supplier,
        order=order,
        since=since,
        price_tolerance=price_tolerance,
        quantity_tolerance=quantity_tolerance,
        limit=limit,
        offset=offset,
    )
    return PageOut[VarianceOut](
        items=[VarianceOut.model_validate(v) for v in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )
