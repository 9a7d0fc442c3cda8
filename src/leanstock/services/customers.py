"""Customer use cases: the records sales orders and drop-ship deliveries refer to by code."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from leanstock.domain.customers import Customer
from leanstock.domain.errors import Conflict, InvalidInput
from leanstock.domain.events import Changed, created, diff, facts
from leanstock.services.paging import Page, page_bounds
from leanstock.services.ports import UnitOfWork
from leanstock.services.retry import retrying


@retrying
def add_customer(uow: UnitOfWork, customer: Customer) -> Customer:
    with uow:
        uow.customers.add(customer)
        uow.record(
            Changed(
                subject=f"customer:{customer.code}",
                verb="customer_create",
                values=created(facts(customer)),
            )
        )
        uow.commit()
    return customer


@retrying
def update_customer(uow: UnitOfWork, code: str, changes: dict[str, Any]) -> Customer:
    """Change some fields of a customer; the code never changes (orders refer to it)."""
    if "code" in changes:
        raise InvalidInput(
            "The code of a customer cannot change: orders refer to it. Add a new customer.",
            "code",
        )
    with uow:
        current = uow.customers.get(code, "code").value
        updated = replace(current, **changes)
        uow.customers.update(updated)
        changed = diff(facts(current), facts(updated))
        if changed:
            uow.record(Changed(subject=f"customer:{code}", verb="customer_update", values=changed))
        uow.commit()
    return updated


@retrying
def delete_customer(uow: UnitOfWork, code: str) -> None:
    """Remove a customer no order refers to; one with orders is deactivated instead."""
    with uow:
        stored = uow.customers.get(code, "code")
        orders = uow.customers.orders_of(stored.id)
        if orders:
            raise Conflict(
                f"Customer {code} has {orders} sales order(s) and cannot be deleted; set "
                'active to false instead (PATCH with {"active": false}).',
                "code",
            )
        uow.customers.delete(stored.id)
        uow.record(
            Changed(
                subject=f"customer:{code}",
                verb="customer_delete",
                values={k: [v, None] for k, v in facts(stored.value).items() if v is not None},
            )
        )
        uow.commit()


def get_customer(uow: UnitOfWork, code: str) -> Customer:
    with uow:
        return uow.customers.get(code, "code").value


def list_customers(
    uow: UnitOfWork,
    limit: int = 50,
    offset: int = 0,
    search: str | None = None,
    active: bool | None = None,
) -> Page[Customer]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        return uow.customers.page(limit, offset, search=search, active=active)
