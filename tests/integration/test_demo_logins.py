"""The demo's sign-ins: a user per role and a supplier-portal user per supplier, each bound to
its supplier, with new passwords on every start (both databases)."""

from __future__ import annotations

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.demo.catalog import SUPPLIERS
from leanstock.demo.places import WAREHOUSE
from leanstock.domain.access import Role
from leanstock.domain.catalog import Location, Supplier
from leanstock.services import accounts, catalog
from leanstock.services.demo import demo_logins, supplier_email


def test_every_demo_supplier_gets_its_own_portal_user(uow: UnitOfWork) -> None:
    catalog.add_location(uow, Location(WAREHOUSE, "Warehouse"))
    for profile in SUPPLIERS:
        catalog.add_supplier(uow, Supplier(profile.code, profile.name))
    first = demo_logins(uow)
    suppliers = [login for login in first if login.role is Role.SUPPLIER]
    assert [login.binding for login in suppliers] == [f"supplier: {s.code}" for s in SUPPLIERS]
    assert suppliers[0].email == "supplier@leanstock.example"
    assert supplier_email("SWEETCO") == "supplier-sweetco@leanstock.example"
    for profile in SUPPLIERS:
        user = accounts.get_user(uow, accounts.user_id_of(uow, supplier_email(profile.code)))
        assert (user.role, user.supplier) == (Role.SUPPLIER, profile.code)
    assert {login.role for login in first} == set(Role)
    again = demo_logins(uow)  # a new start: the same users, new passwords
    assert [login.email for login in again] == [login.email for login in first]
    assert all(a.password != b.password for a, b in zip(first, again, strict=True))
