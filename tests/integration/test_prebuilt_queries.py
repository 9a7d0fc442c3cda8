"""The hot path's statements built once at import (docs/performance.md, "Since 145b9bf"): the
same answers, whatever the request's values and however many there are."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, Integer, bindparam, select
from sqlalchemy.exc import DBAPIError

from leanstock.adapters.auth.credentials import token_prefix
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.accounts import token_and_user_alone
from leanstock.adapters.db.driver import read_once
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Role
from leanstock.domain.catalog import Item, Location, LocationKind, Policy, Supplier, SupplierItem
from leanstock.domain.errors import NotAuthenticated
from leanstock.domain.ledger import StockLevel
from leanstock.services import accounts, catalog, orders, signin, stock, tokens

D = Decimal
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


def test_the_token_check_sent_alone_answers_as_the_repository(engine: Engine) -> None:
    """On PostgreSQL the token check goes straight to psycopg (`adapters/db/driver.py`): the
    same token and user, for each kind of user and for an unknown prefix, as the query through
    SQLAlchemy; and the pooled connection is handed back as it was found (no transaction open,
    not in autocommit), so the next unit of work is not changed by it."""
    _catalog(engine)
    owner = _token(engine, "owner@example.com", Role.OWNER)
    keeper = _token(engine, "wh@example.com", Role.WAREHOUSE, locations=["WH", "DOCK"])
    vendor = _token(engine, "acme@example.com", Role.SUPPLIER, supplier="ACME")
    for _ in range(6):  # psycopg prepares a statement on its fifth run
        for prefix in [*(token_prefix(s) for s in (owner, keeper, vendor)), "ls_nosuch1"]:
            assert prefix is not None
            with UnitOfWork(engine, autocommit=True) as uow:
                expected = uow.accounts.token_and_user(prefix)
            assert token_and_user_alone(engine, prefix) == expected
            assert UnitOfWork(engine, autocommit=True).token_and_user(prefix) == expected
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            assert connection.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
        assert connection.execute(select(1)).scalar_one() == 1
        connection.rollback()
    # The last use is stamped at most once a minute: the first check of a token writes it.
    fresh = _token(engine, "fresh@example.com", Role.OWNER)
    assert signin.token(UnitOfWork(engine, autocommit=True), fresh).name == "fresh@example.com"
    found = token_and_user_alone(engine, token_prefix(fresh) or "")
    assert found is not None
    assert found[0].last_used_at is not None


def test_a_database_error_of_the_token_check_is_sqlalchemys(engine: Engine) -> None:
    """Sent straight to psycopg or not, a failing token check raises SQLAlchemy's DBAPIError
    (as any other statement), and the pool's connections still work afterwards."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's token check keeps SQLAlchemy's path: nothing to test here")
    broken = select(t.items.c.id).where(t.items.c.sku == bindparam("prefix").cast(Integer))
    with pytest.raises(DBAPIError):
        read_once(engine, broken, {"prefix": "not a number"})
    _catalog(engine)
    assert token_and_user_alone(engine, "ls_nosuch1") is None


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


def test_the_order_paths_locks_and_draft_lines_answer_for_any_number_of_keys(
    engine: Engine,
) -> None:
    """`lock_stocks`, `lock_drafts` and `draft_lines`, built once with expanding parameters,
    find what they found when built per call: one key or several, missing ones included."""
    uow = UnitOfWork(engine)
    _catalog(engine)
    catalog.add_supplier(uow, Supplier("MILL", "Mill"))
    for n, sku in enumerate(("P0", "P1")):
        catalog.add_item(uow, Item(sku, sku, policy=Policy.BUY_TO_ORDER))
        supplier = ("MILL", "ACME")[n]
        catalog.add_supplier_item(uow, SupplierItem(supplier, sku, D(2), 3, pack_size=D(6)))
    stock.receive(uow, "A", "WH", D(5))
    stock.receive(uow, "B", "STORE", D(7))
    orders.place_order(
        uow,
        "Ann",
        [orders.NewLine("P0", D(2), "WH"), orders.NewLine("P1", D(1), "WH")],
        confirm=True,
    )
    with UnitOfWork(engine) as u:
        items, found = u.sales.items_and_place(["A", "B", "C", "P0", "P1"], "WH")
        _, in_store = u.sales.items_and_place(["B"], "STORE")
        assert found is not None
        assert in_store is not None
        wh, store = found[0], in_store[0]
        a, b, c, p0, p1 = (items[s].id for s in ("A", "B", "C", "P0", "P1"))
        suppliers = dict(u.connection.execute(select(t.suppliers.c.code, t.suppliers.c.id)).all())
        mill, acme = suppliers["MILL"], suppliers["ACME"]
        for _ in range(2):  # the second round runs the statements from SQLAlchemy's cache
            assert u.ledger.lock_stocks([(a, wh)]) == {(a, wh.id): StockLevel(D(5), D(0))}
            assert u.ledger.lock_stocks([(b, store), (c, wh), (a, wh)]) == {
                (a, wh.id): StockLevel(D(5), D(0)),
                (b, store.id): StockLevel(D(7), D(0)),
                (c, wh.id): StockLevel(D(0), D(0)),  # created, then locked
            }
            drafts = u.purchasing.lock_drafts([acme, mill])
            assert sorted(drafts) == [acme, mill]
            assert u.purchasing.lock_drafts([mill]) == {mill: drafts[mill]}
            one = u.purchasing.draft_lines([(drafts[mill], p0, wh.id)])
            assert [(q, pegged) for _, _, q, pegged in one.values()] == [(D(6), D(2))]
            several = u.purchasing.draft_lines(
                [(drafts[acme], p1, wh.id), (drafts[mill], p0, wh.id), (drafts[mill], p1, wh.id)]
            )
            assert sorted(several) == sorted([(drafts[acme], p1, wh.id), (drafts[mill], p0, wh.id)])
            assert several[(drafts[acme], p1, wh.id)][2:] == (D(6), D(1))
