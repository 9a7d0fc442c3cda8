"""The hot path's statements built once at import (docs/performance.md, "Since 145b9bf"): the
same answers, whatever the request's values and however many there are."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from leanstock.adapters.auth.credentials import token_prefix
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Role
from leanstock.domain.catalog import Item, Location, LocationKind, Supplier
from leanstock.domain.errors import NotAuthenticated
from leanstock.services import accounts, catalog, signin, tokens

PASSWORD = "correct horse battery staple"


def _catalog(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    catalog.add_location(uow, Location("DOCK", "Dock"))
    for sku in ("A", "B", "C"):
        catalog.add_item(uow, Item(sku, f"Item {sku}"))
    catalog.add_supplier(uow, Supplier("ACME", "Acme"))


def _token(engine: Engine, email: str, role: Role, **bindings: object) -> str:
    uow = UnitOfWork(engine)
    user = accounts.create_user(uow, email, PASSWORD, role, **bindings)  # type: ignore[arg-type]
    return tokens.create_token(uow, user.id, "tests").secret


def test_each_token_answers_for_its_own_user_and_bindings(engine: Engine) -> None:
    _catalog(engine)
    owner = _token(engine, "owner@example.com", Role.OWNER)
    keeper = _token(engine, "wh@example.com", Role.WAREHOUSE, locations=["WH", "DOCK"])
    vendor = _token(engine, "acme@example.com", Role.SUPPLIER, supplier="ACME")
    for _ in range(2):  # the second round runs the statement from SQLAlchemy's cache
        seen = {}
        for secret in (owner, keeper, vendor):
            prefix = token_prefix(secret)
            assert prefix is not None
            with UnitOfWork(engine, autocommit=True) as uow:
                found = uow.accounts.token_and_user(prefix)
            assert found is not None
            seen[found[1].email] = found[1]
        assert seen["owner@example.com"].role == Role.OWNER
        assert seen["owner@example.com"].locations is None
        assert seen["wh@example.com"].locations == frozenset({"WH", "DOCK"})
        assert seen["acme@example.com"].supplier == "ACME"
        assert seen["acme@example.com"].locations is None
    assert signin.token(UnitOfWork(engine, autocommit=True), keeper).name == "wh@example.com"
    with UnitOfWork(engine, autocommit=True) as uow:
        assert uow.accounts.token_and_user("ls_nosuch1") is None
    with pytest.raises(NotAuthenticated):
        signin.token(UnitOfWork(engine, autocommit=True), owner[:-1] + "x")


def test_items_and_locations_answer_for_any_number_of_each(engine: Engine) -> None:
    _catalog(engine)
    asks = [
        (["A"], ["WH"]),
        (["C", "A", "B"], ["STORE", "WH"]),
        (["B", "B"], ["DOCK"]),
        (["A", "B"], ["WH", "STORE", "DOCK"]),
    ]
    for skus, codes in asks:
        with UnitOfWork(engine) as uow:
            found = uow.catalog.items_and_locations(skus, codes)
        assert found is not None
        items, locations = found
        assert sorted(items) == sorted(set(skus))
        assert all(items[s].value.sku == s for s in skus)
        assert sorted(locations) == sorted(set(codes))
        assert all(locations[c].value.code == c for c in codes)
    with UnitOfWork(engine) as uow:
        assert uow.catalog.items_and_locations(["A", "NOPE"], ["WH"]) is None
    with UnitOfWork(engine) as uow:
        assert uow.catalog.items_and_locations(["A"], ["WH", "NOPE"]) is None
