"""Customers: the records sales orders and drop-ship deliveries refer to by code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from leanstock.entrypoints.api.customer_schemas import CustomerIn, CustomerOut, CustomerPatch
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.paging import Limit, Offset
from leanstock.entrypoints.api.schemas import PageOut
from leanstock.services import customers

router = APIRouter()


@router.post(
    "/customers", status_code=201, tags=["customers"], dependencies=[permit("customer:write")]
)
def create_customer(body: CustomerIn, uow: UowDep) -> CustomerOut:
    """Add a customer; sales orders refer to it by `customer_code`."""
    return CustomerOut.model_validate(customers.add_customer(uow, body.customer()))


@router.get("/customers", tags=["customers"], dependencies=[permit("customer:read")])
def list_customers(
    uow: UowDep,
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[str | None, Query(description="Part of the code, name or e-mail.")] = None,
    active: bool | None = None,
) -> PageOut[CustomerOut]:
    """Customers, by code, filtered and paginated."""
    page = customers.list_customers(uow, limit, offset, search=q, active=active)
    return PageOut[CustomerOut].model_validate(page)


@router.get("/customers/{code}", tags=["customers"], dependencies=[permit("customer:read")])
def get_customer(code: str, uow: UowDep) -> CustomerOut:
    return CustomerOut.model_validate(customers.get_customer(uow, code))


@router.patch("/customers/{code}", tags=["customers"], dependencies=[permit("customer:write")])
def update_customer(code: str, body: CustomerPatch, uow: UowDep) -> CustomerOut:
    """Change some fields of a customer; the code stays."""
    return CustomerOut.model_validate(customers.update_customer(uow, code, body.changes()))


@router.delete(
    "/customers/{code}",
    status_code=204,
    tags=["customers"],
    dependencies=[permit("customer:write")],
)
def delete_customer(code: str, uow: UowDep) -> Response:
    """Remove a customer no order refers to (409 otherwise: deactivate it instead)."""
    customers.delete_customer(uow, code)
    return Response(status_code=204)
