"""Customers in the database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select

from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.domain.customers import Customer
from leanstock.domain.errors import AlreadyExists, NotFound
from leanstock.services.ports import Page, Stored


def customer_from_row(row: Mapping[str, Any]) -> Customer:
    return Customer(
        code=row["code"],
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        billing_address=row["billing_address"],
        shipping_address=row["shipping_address"],
        priority=row["priority"],
        active=row["active"],
    )


def _values(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "billing_address": customer.billing_address,
        "shipping_address": customer.shipping_address,
        "priority": customer.priority,
        "active": customer.active,
    }


class CustomerRepository(Repository):
    def get(self, code: str, field: str = "customer_code") -> Stored[Customer]:
        row = (
            self.db.execute(select(t.customers).where(t.customers.c.code == code))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound("customer", code, field)
        return Stored(row["id"], customer_from_row(dict(row)))

    def add(self, customer: Customer) -> Stored[Customer]:
        if self.db.execute(
            select(t.customers.c.id).where(t.customers.c.code == customer.code)
        ).first():
            raise AlreadyExists("customer", customer.code, "code")
        now = utc_now()
        new_id = self._add(
            t.customers, code=customer.code, **_values(customer), created_at=now, updated_at=now
        )
        return Stored(new_id, customer)

    def update(self, customer: Customer) -> None:
        self.db.execute(
            t.customers.update()
            .where(t.customers.c.code == customer.code)
            .values(**_values(customer), updated_at=utc_now())
        )

    def orders_of(self, customer_id: int) -> int:
        """How many sales orders refer to the customer."""
        return int(
            self.db.execute(
                select(func.count()).where(o.sales_order_customers.c.customer_id == customer_id)
            ).scalar_one()
        )

    def delete(self, customer_id: int) -> None:
        self.db.execute(t.customers.delete().where(t.customers.c.id == customer_id))

    def page(
        self,
        limit: int = 50,
        offset: int = 0,
        search: str | None = None,
        active: bool | None = None,
    ) -> Page[Customer]:
        query = select(t.customers)
        if search:
            needle = search.lower()
            query = query.where(
                or_(
                    func.lower(t.customers.c.code).contains(needle, autoescape=True),
                    func.lower(t.customers.c.name).contains(needle, autoescape=True),
                    func.lower(t.customers.c.email).contains(needle, autoescape=True),
                )
            )
        if active is not None:
            query = query.where(t.customers.c.active == active)
        rows, total = self._page(query, t.customers.c.code, limit, offset)
        return Page([customer_from_row(r) for r in rows], total, limit, offset)

    def codes(self, ids: list[int]) -> dict[int, str]:
        """The codes of some customer ids, in one query."""
        if not ids:
            return {}
        rows = self.db.execute(
            select(t.customers.c.id, t.customers.c.code).where(t.customers.c.id.in_(ids))
        )
        return {int(r.id): r.code for r in rows}
