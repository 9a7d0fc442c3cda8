"""Users: create, list, change role, bindings and state, change and reset passwords.

Every change is audited (`user:<email>`) with `[before, after]` of what changed; a password
never appears, only that it changed. At least one active owner always remains, so the
business can never lock itself out.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from leanstock.adapters.auth.credentials import digest
from leanstock.adapters.auth.passwords import is_common, passwords
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Actor, Role
from leanstock.domain.accounts import (
    User,
    check_bindings,
    check_password,
    display_name,
    normal_email,
    subject,
)
from leanstock.domain.errors import AlreadyExists, Conflict, InvalidInput
from leanstock.services import signin
from leanstock.services.paging import page_bounds
from leanstock.services.ports import Page
from leanstock.services.retry import retrying

EDITABLE = ("display_name", "role", "active", "locations", "supplier")
NO_OWNER = (
    "The database has no active owner, so nobody could sign in: run "
    "`leanstock init --owner EMAIL` (or `leanstock user create EMAIL --role owner`) first."
)


def _facts(user: User) -> dict[str, Any]:
    return {
        "display_name": user.display_name,
        "role": user.role.value,
        "active": user.active,
        "locations": sorted(user.locations) if user.locations is not None else None,
        "supplier": user.supplier,
    }


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _bind(
    uow: UnitOfWork, role: Role, locations: Collection[str] | None, supplier: str | None
) -> tuple[list[int], int | None]:
    """The ids behind a user's location and supplier bindings (`NotFound` for unknown codes)."""
    granted, bound = check_bindings(role, locations, supplier)
    location_ids = [uow.catalog.location(c, "locations").id for c in sorted(granted or ())]
    supplier_id = uow.catalog.supplier(bound, "supplier").id if bound else None
    return location_ids, supplier_id


def has_owner(uow: UnitOfWork) -> bool:
    """Whether an active owner exists: the server refuses to start without one."""
    with uow:
        return uow.accounts.active_owners() > 0


def create_user(
    uow: UnitOfWork,
    email: str,
    password: str,
    role: Role,
    *,
    name: str | None = None,
    locations: Collection[str] | None = None,
    supplier: str | None = None,
) -> User:
    address = normal_email(email)
    check_password(password, address, is_common)
    hashed = passwords().hash(password)
    with uow:
        if uow.accounts.credentials(address) is not None:
            raise AlreadyExists("user", address, "email")
        location_ids, supplier_id = _bind(uow, role, locations, supplier)
        user_id = uow.accounts.add_user(
            address, display_name(name, address), role, hashed, supplier_id, datetime.now(UTC)
        )
        uow.accounts.set_locations(user_id, location_ids)
        user = uow.accounts.user(user_id)
        uow.audit.record("user_create", subject(address), _diff({}, _facts(user)))
        uow.commit()
    return user


def list_users(
    uow: UnitOfWork,
    limit: int = 50,
    offset: int = 0,
    role: Role | None = None,
    active: bool | None = None,
) -> Page[User]:
    limit, offset = page_bounds(limit, offset)
    with uow:
        users, total = uow.accounts.users(limit, offset, role, active)
    return Page(users, total, limit, offset)


def get_user(uow: UnitOfWork, user_id: int) -> User:
    with uow:
        return uow.accounts.user(user_id)


def user_id_of(uow: UnitOfWork, email: str) -> int:
    with uow:
        return uow.accounts.user_by_email(normal_email(email)).id


@retrying
def update_user(uow: UnitOfWork, user_id: int, changes: dict[str, Any]) -> User:
    """Change a user's display name, role, active flag, locations or supplier.

    Disabling a user, or changing their role or bindings, ends their web sessions at once;
    their tokens stop working while they are disabled and follow their new role otherwise.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput(f"Unknown field {sorted(unknown)[0]!r}.", sorted(unknown)[0])
    with uow:
        # Owners' rows first, always in one order, then the user's: two owners demoting each
        # other wait for one another instead of deadlocking, and the second sees one owner.
        owners = uow.accounts.active_owners(lock=True)
        user = uow.accounts.user(user_id, lock=True)
        role = Role(changes.get("role", user.role))
        # A new role drops bindings that no longer fit it, unless new ones are given.
        same_role = role is user.role
        locations = changes.get("locations", user.locations if same_role else None)
        supplier = changes.get("supplier", user.supplier if same_role else None)
        location_ids, supplier_id = _bind(uow, role, locations, supplier)
        after = replace(
            user,
            role=role,
            display_name=display_name(changes.get("display_name", user.display_name), user.email),
            active=bool(changes.get("active", user.active)),
            locations=frozenset(locations) if locations else None,
            supplier=supplier or None,
        )
        was_owner = user.role is Role.OWNER and user.active
        stays_owner = after.role is Role.OWNER and after.active
        if was_owner and not stays_owner and owners <= 1:
            raise Conflict(
                f"{user.email} is the last active owner; make another user owner first.",
                "role",
            )
        diff = _diff(_facts(user), _facts(after))
        if diff:
            uow.accounts.update_user(
                user.id,
                datetime.now(UTC),
                role=after.role.value,
                display_name=after.display_name,
                active=after.active,
                supplier_id=supplier_id,
            )
            uow.accounts.set_locations(user.id, location_ids)
            if set(diff) & {"role", "active", "locations", "supplier"}:
                uow.accounts.end_sessions(user.id)
            uow.audit.record("user_update", subject(user.email), diff)
        uow.commit()
        return uow.accounts.user(user.id) if diff else user


def reset_password(uow: UnitOfWork, user_id: int, password: str) -> User:
    """An owner sets a new password for a user; the user's web sessions end."""
    user = get_user(uow, user_id)
    check_password(password, user.email, is_common)
    hashed = passwords().hash(password)
    with uow:
        now = datetime.now(UTC)
        uow.accounts.update_user(user.id, now, password_hash=hashed, password_changed_at=now)
        ended = uow.accounts.end_sessions(user.id)
        uow.audit.record(
            "password_reset", subject(user.email), {"password": "reset", "sessions_ended": ended}
        )
        uow.commit()
    return user


def change_password(
    uow: UnitOfWork,
    actor: Actor,
    current: str,
    new: str,
    address: str | None = None,
    keep_session: str | None = None,
) -> None:
    """A user changes their own password, proving the current one (throttled like a sign-in);
    their web sessions end, but for `keep_session` (the session id the change came with)."""
    if actor.user_id is None:
        raise InvalidInput("Only a user has a password to change.", "user")
    if signin.verify(uow, actor.email, current, address) is None:
        raise InvalidInput("The current password is wrong.", "current_password")
    if new == current:
        raise InvalidInput("The new password must differ from the current one.", "new_password")
    check_password(new, actor.email, is_common, "new_password")
    hashed = passwords().hash(new)
    with uow:
        now = datetime.now(UTC)
        uow.accounts.update_user(actor.user_id, now, password_hash=hashed, password_changed_at=now)
        kept = digest(keep_session) if keep_session else None
        ended = uow.accounts.end_sessions(actor.user_id, keep=kept)
        uow.audit.record(
            "password_change",
            subject(actor.email),
            {"password": "changed", "sessions_ended": ended},
        )
        uow.commit()
