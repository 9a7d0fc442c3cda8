"""Customer commands: the records sales orders refer to (`place-order -c CODE`). The same
services the API calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from leanstock.entrypoints.cli.app import app, console, handled, open_engine
from leanstock.entrypoints.cli.orders import _table

if TYPE_CHECKING:
    from leanstock.adapters.db.uow import UnitOfWork

Priority = Annotated[
    int | None, typer.Option(help="1 is served first when stock is short, 9 last (default 5).")
]
Billing = Annotated[str | None, typer.Option(help="Billing address; lines by \\n.")]
Shipping = Annotated[str | None, typer.Option(help="Where goods go; the billing address if unset.")]


def _uow() -> UnitOfWork:
    from leanstock.adapters.db.uow import UnitOfWork

    return UnitOfWork(open_engine())


def _address(value: str | None) -> str | None:
    return None if value is None else value.replace("\\n", "\n")


@app.command("customers")
def list_customers(
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Part of code, name or e-mail.")
    ] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="Only these.")] = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """List customers, by code."""
    from leanstock.services import customers

    with handled():
        page = customers.list_customers(_uow(), limit, offset, search=search, active=active)
    _table(
        "Customers",
        ["code", "name", "email", "priority", "active", "ship to"],
        (
            [c.code, c.name, c.email, c.priority, c.active, (c.ship_to or "").replace("\n", ", ")]
            for c in page.items
        ),
        f"{page.total} in all",
    )


@app.command("customer")
def show_customer(code: str) -> None:
    """One customer and its latest orders."""
    from leanstock.services import customers, orders

    uow = _uow()
    with handled():
        found = customers.get_customer(uow, code)
        latest = orders.list_orders(uow, customer_code=code, limit=10)
    _table("Customer", ["field", "value"], ([k, v] for k, v in vars(found).items()))
    _table(
        "Latest orders",
        ["number", "status", "ordered at", "quantity", "shipped"],
        (
            [r["number"], r["status"], f"{r['ordered_at']:%Y-%m-%d}", r["quantity"], r["shipped"]]
            for r in latest.items
        ),
        f"{latest.total} in all",
    )


@app.command("add-customer")
def add_customer(
    code: str,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    billing_address: Billing = None,
    shipping_address: Shipping = None,
    priority: Priority = None,
) -> None:
    """Add a customer."""
    from leanstock.domain.customers import WALK_IN_PRIORITY, Customer
    from leanstock.services import customers

    with handled():
        customers.add_customer(
            _uow(),
            Customer(
                code,
                name,
                email,
                phone,
                _address(billing_address),
                _address(shipping_address),
                WALK_IN_PRIORITY if priority is None else priority,
            ),
        )
    console.print(f"[green]Added customer {code}[/] ({name}).")


@app.command("update-customer")
def update_customer(
    code: str,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    billing_address: Billing = None,
    shipping_address: Shipping = None,
    priority: Priority = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
) -> None:
    """Change some fields of a customer (the code stays)."""
    from leanstock.services import customers

    given: dict[str, Any] = {
        "name": name,
        "email": email,
        "phone": phone,
        "billing_address": _address(billing_address),
        "shipping_address": _address(shipping_address),
        "priority": priority,
        "active": active,
    }
    with handled():
        customers.update_customer(_uow(), code, {k: v for k, v in given.items() if v is not None})
    console.print(f"[green]Updated customer {code}.[/]")


@app.command("delete-customer")
def delete_customer(code: str) -> None:
    """Remove a customer no order refers to (one with orders: `update-customer --inactive`)."""
    from leanstock.services import customers

    with handled():
        customers.delete_customer(_uow(), code)
    console.print(f"[green]Deleted customer {code}.[/]")
