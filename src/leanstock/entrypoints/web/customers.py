"""Customers: the list (searched), adding one, changing or deleting one, through the same
services as `/api/v1/customers`; and the options of the sales order form's customer field.

Reading needs `customer:read`, changing `customer:write` (managers and owners), as the API's.
A customer with orders cannot be deleted (the service refuses, naming the fix): it is
deactivated instead, with the same form's Active box.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leanstock.domain.access import Actor
from leanstock.domain.customers import WALK_IN_PRIORITY, Customer
from leanstock.domain.errors import DomainError, InvalidInput
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.forms import Form, read_form
from leanstock.entrypoints.web.orders import _done
from leanstock.entrypoints.web.render import done_banner, htmx, refused, render
from leanstock.services import customers

router = APIRouter(include_in_schema=False)
PAGE = 50
FIELDS = (
    "code",
    "name",
    "email",
    "phone",
    "billing_address",
    "shipping_address",
    "priority",
    "active",
)


def _priority(form: Form) -> int:
    raw = form.values.get("priority", "").strip()
    if not raw:
        return WALK_IN_PRIORITY
    # ASCII digits only: `str.isdigit` also says yes to "²", which `int` refuses.
    if not (raw.isascii() and raw.isdigit()):
        raise InvalidInput("Enter the priority as a whole number from 1 to 9.", "priority")
    return int(raw)


def _fields(form: Form) -> dict[str, Any]:
    """What the form says of a customer but its code."""
    return {
        "name": form.text("name", "customer's name"),
        "email": form.optional("email"),
        "phone": form.optional("phone"),
        "billing_address": form.optional("billing_address"),
        "shipping_address": form.optional("shipping_address"),
        "priority": _priority(form),
        "active": form.values.get("active") == "1",
    }


def _list_context(
    uow: UowDep, q: str, offset: int, values: dict[str, str], error: DomainError | None
) -> dict[str, Any]:
    found = customers.list_customers(uow, PAGE, max(offset, 0), search=q.strip() or None)
    return {
        "page": found,
        "q": q,
        "query": urlencode({"q": q}),
        "values": values,
        "error": error,
        "fields": FIELDS,
    }


@router.get("/customers")
def customer_list(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("customer:read")],
    q: str = "",
    offset: int = 0,
) -> Response:
    context = _list_context(
        uow, q, offset, {"priority": str(WALK_IN_PRIORITY), "active": "1"}, None
    )
    context["done"] = done_banner(request)
    template = "customers/_results.html" if htmx(request) else "customers/index.html"
    return render(request, template, context)


@router.post("/customers")
async def add_customer(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("customer:write")]
) -> Response:
    form = await read_form(request)
    try:
        made = customers.add_customer(
            uow, Customer(form.text("code", "customer's code"), **_fields(form))
        )
    except DomainError as error:
        context = _list_context(uow, "", 0, form.values, error)
        return render(request, "customers/index.html", context, refused(error))
    return _done(request, f"/customers/{made.code}?done=added")


@router.get("/customers/options")
def customer_options(
    request: Request,
    uow: UowDep,
    actor: Annotated[Actor, permit("customer:read")],
    customer_code: str = "",
) -> Response:
    """Up to 20 active customers matching what was typed, as `<option>`s: the sales order
    form's customer field (HTMX sends the field under its own name)."""
    typed = customer_code.strip() or None
    found = customers.list_customers(uow, 20, 0, search=typed, active=True).items
    return render(request, "customers/_options.html", {"customers": found})


def _customer_page(
    request: Request,
    uow: UowDep,
    code: str,
    values: dict[str, str] | None,
    error: DomainError | None,
    status: int = 200,
) -> Response:
    customer = customers.get_customer(uow, code)
    shown = values or {
        "name": customer.name,
        "email": customer.email or "",
        "phone": customer.phone or "",
        "billing_address": customer.billing_address or "",
        "shipping_address": customer.shipping_address or "",
        "priority": str(customer.priority),
        "active": "1" if customer.active else "",
    }
    context = {
        "customer": customer,
        "values": shown,
        "error": error,
        "done": done_banner(request) if error is None else "",
        # The code is not a field here: a problem naming it (a refused deletion) is the page's.
        "fields": FIELDS[1:],
    }
    return render(request, "customers/show.html", context, status)


@router.get("/customers/{code}")
def customer_page(
    code: str, request: Request, uow: UowDep, actor: Annotated[Actor, permit("customer:read")]
) -> Response:
    return _customer_page(request, uow, code, None, None)


@router.post("/customers/{code}")
async def change_customer(
    code: str, request: Request, uow: UowDep, actor: Annotated[Actor, permit("customer:write")]
) -> Response:
    form = await read_form(request)
    try:
        customers.update_customer(uow, code, _fields(form))
    except DomainError as error:
        return _customer_page(request, uow, code, form.values, error, refused(error))
    return _done(request, f"/customers/{code}?done=changed")


@router.post("/customers/{code}/delete")
async def delete_customer(
    code: str, request: Request, uow: UowDep, actor: Annotated[Actor, permit("customer:write")]
) -> Response:
    """Delete a customer no order refers to; for one with orders, the page says to
    deactivate it instead."""
    await read_form(request)
    try:
        customers.delete_customer(uow, code)
    except DomainError as error:
        return _customer_page(request, uow, code, None, error, refused(error))
    return _done(request, f"/customers?done={code} deleted")
