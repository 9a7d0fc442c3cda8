"""Roles, permissions, token scopes, bindings, password rules and sign-in throttling."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from leanstock.adapters.auth.passwords import is_common
from leanstock.domain.access import (
    PERMISSIONS,
    Actor,
    RequestContext,
    Role,
    Scope,
    acting,
    current,
)
from leanstock.domain.accounts import (
    ACCOUNT_THROTTLE,
    ADDRESS_THROTTLE,
    check_bindings,
    check_password,
    normal_email,
    token_lifetime,
)
from leanstock.domain.errors import Forbidden, InvalidInput, NotFound


def actor(role: Role, **kw: object) -> Actor:
    return Actor(1, f"{role.value}@example.com", role, **kw)  # type: ignore[arg-type]


def test_an_owner_may_do_everything_and_every_other_role_less() -> None:
    owner = PERMISSIONS[Role.OWNER]
    for role in Role:
        assert PERMISSIONS[role] <= owner
    assert PERMISSIONS[Role.VIEWER] < PERMISSIONS[Role.BUYER] < PERMISSIONS[Role.MANAGER]
    assert all(
        p.endswith(":read") or p == "account:self" or p.startswith("token:")
        for p in PERMISSIONS[Role.VIEWER]
    )


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        (Role.MANAGER, "plan:approve", True),
        (Role.BUYER, "plan:approve", False),
        (Role.BUYER, "purchase:write", True),
        (Role.BUYER, "purchase:release", False),
        (Role.WAREHOUSE, "stock:write", True),
        (Role.WAREHOUSE, "catalog:write", False),
        (Role.VIEWER, "stock:read", True),
        (Role.VIEWER, "stock:write", False),
        (Role.SUPPLIER, "purchase:acknowledge", True),
        (Role.SUPPLIER, "catalog:read", False),
        (Role.SUPPLIER, "stock:read", False),
        (Role.MANAGER, "user:write", False),
        (Role.MANAGER, "audit:read", True),
        (Role.BUYER, "audit:read", False),
        (Role.MANAGER, "blind_count:read", True),
        (Role.WAREHOUSE, "blind_count:read", False),
    ],
)
def test_each_role_may_do_what_its_row_says(role: Role, permission: str, allowed: bool) -> None:
    assert actor(role).can(permission) is allowed
    if allowed:
        actor(role).require(permission)
    else:
        with pytest.raises(Forbidden, match=role.value):
            actor(role).require(permission)


def test_a_read_only_token_reads_and_nothing_more() -> None:
    reader = actor(Role.OWNER, scope=Scope.READ)
    reader.require("purchase:read")
    assert not reader.can("purchase:write")
    with pytest.raises(Forbidden, match="read-only"):
        reader.require("user:write")


def test_an_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="Unknown permission"):
        actor(Role.OWNER).require("purchase:teleport")


def test_a_location_not_granted_is_answered_as_one_that_does_not_exist() -> None:
    picker = actor(Role.WAREHOUSE, locations=frozenset({"WH"}))
    picker.require_location("WH")
    with pytest.raises(NotFound, match="No location STORE exists"):
        picker.require_location("STORE")
    actor(Role.WAREHOUSE).require_location("STORE")  # not limited


def test_a_supplier_sees_only_its_own_supplier() -> None:
    acme = actor(Role.SUPPLIER, supplier="ACME")
    assert acme.sees_supplier("ACME")
    assert not acme.sees_supplier("RIVAL")
    assert actor(Role.BUYER).sees_supplier("RIVAL")


def test_the_request_context_is_seen_by_whoever_runs_inside_it() -> None:
    outside = current()
    with acting(RequestContext(request_id="r1")) as context:
        context.actor = actor(Role.BUYER)
        assert current().actor_name == "buyer@example.com"
        assert current().request_id == "r1"
    assert current() == outside


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short one", "at least 12"),
        ("x" * 257, "at most 256"),
        ("password1234", "too common"),
        ("Sunshine2024!!", "too common"),
        ("QWERTYUIOP12", "too common"),
        ("abababababababab", "too few"),
        ("kim@example.com", "too common"),
    ],
)
def test_a_weak_password_is_refused_with_the_reason(password: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        check_password(password, "kim@example.com", is_common)


def test_a_long_uncommon_password_is_accepted() -> None:
    assert check_password("correct horse battery staple", "kim@example.com", is_common)


def test_emails_are_compared_trimmed_and_lower_cased() -> None:
    assert normal_email("  Kim@Example.COM ") == "kim@example.com"
    for bad in ("kim", "kim@", "kim@example", "a b@example.com", "x" * 250 + "@example.com"):
        with pytest.raises(InvalidInput):
            normal_email(bad)


def test_bindings_fit_the_role() -> None:
    assert check_bindings(Role.WAREHOUSE, ["WH"], None) == (frozenset({"WH"}), None)
    assert check_bindings(Role.WAREHOUSE, [], None) == (None, None)
    for role, locations, supplier in (
        (Role.SUPPLIER, None, None),
        (Role.BUYER, None, "ACME"),
        (Role.VIEWER, ["WH"], None),
    ):
        with pytest.raises(InvalidInput):
            check_bindings(role, locations, supplier)


def test_token_lifetimes_are_bounded() -> None:
    assert token_lifetime("90d") == timedelta(days=90)
    assert token_lifetime("12h") == timedelta(hours=12)
    assert token_lifetime("8w") == timedelta(weeks=8)
    for bad in ("0d", "367d", "forever", "90", "-1d"):
        with pytest.raises(InvalidInput):
            token_lifetime(bad)


def test_sign_in_locks_grow_from_the_free_failures_to_a_cap() -> None:
    locks = [ACCOUNT_THROTTLE.lock(n) for n in range(1, 17)]
    assert locks[:4] == [timedelta(0)] * 4
    assert locks[4:7] == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=4)]
    assert locks[-1] == timedelta(minutes=15)
    assert all(a <= b for a, b in itertools.pairwise(locks))
    assert ADDRESS_THROTTLE.lock(19) == timedelta(0) < ADDRESS_THROTTLE.lock(20)
