"""API tokens: create one (its secret is shown once), list them, revoke one.

A token acts as its user, never more: each request takes the user's current role and bindings
and narrows them by the token's scope (`read` or `write`). Every token expires (at most a year
on); creating and revoking are audited as `token:<prefix>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leanstock.adapters.auth.credentials import new_token
from leanstock.adapters.db.accounts import TokenRow
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Actor, Scope
from leanstock.domain.accounts import MAX_TOKEN_DAYS
from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.services.paging import page_bounds
from leanstock.services.ports import Page


@dataclass(frozen=True)
class TokenView:
    id: int
    prefix: str
    name: str
    user: str
    scope: Scope
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    status: str


@dataclass(frozen=True)
class CreatedToken:
    token: TokenView
    secret: str


def _view(row: TokenRow, now: datetime | None = None) -> TokenView:
    moment = now or datetime.now(UTC)
    status = (
        "revoked"
        if row.revoked_at is not None
        else "expired"
        if row.expires_at <= moment
        else "active"
    )
    return TokenView(
        row.id,
        row.prefix,
        row.name,
        row.email,
        row.scope,
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
        status,
    )


def subject(prefix: str) -> str:
    """How the audit trail names a token."""
    return f"token:{prefix}"


def create_token(
    uow: UnitOfWork,
    user_id: int,
    name: str,
    scope: Scope = Scope.WRITE,
    lifetime: timedelta = timedelta(days=90),
    now: datetime | None = None,
) -> CreatedToken:
    """A new token for the user; the secret is in the answer and nowhere else."""
    label = name.strip()
    if not 1 <= len(label) <= 100:
        raise InvalidInput("A token's name must be 1-100 characters.", "name")
    if lifetime > timedelta(days=MAX_TOKEN_DAYS):
        raise InvalidInput(f"A token lives at most {MAX_TOKEN_DAYS} days.", "expires")
    moment = now or datetime.now(UTC)
    made = new_token()
    with uow:
        user = uow.accounts.user(user_id)
        if not user.active:
            raise InvalidInput(f"{user.email} is disabled; enable them first.", "user")
        token_id = uow.accounts.add_token(
            user.id, label, made.prefix, made.digest, scope, moment, moment + lifetime
        )
        row = uow.accounts.token(token_id)
        assert row is not None
        uow.audit.record(
            "token_create",
            subject(made.prefix),
            {
                "user": user.email,
                "name": label,
                "scope": scope.value,
                "expires_at": row.expires_at,
            },
        )
        uow.commit()
    return CreatedToken(_view(row, moment), made.token)


def list_tokens(
    uow: UnitOfWork, user_id: int | None = None, limit: int = 50, offset: int = 0
) -> Page[TokenView]:
    """Tokens, newest first: one user's, or everyone's (`user_id` None)."""
    limit, offset = page_bounds(limit, offset)
    with uow:
        rows, total = uow.accounts.tokens(user_id, limit, offset)
    return Page([_view(r) for r in rows], total, limit, offset)


def _visible(row: TokenRow | None, actor: Actor, key: object) -> TokenRow:
    """A token the actor may manage: their own, or anyone's for an owner; else not found."""
    if row is None or (row.user_id != actor.user_id and not actor.can("user:write")):
        raise NotFound("token", key)
    return row


def get_token(uow: UnitOfWork, actor: Actor, token_id: int) -> TokenView:
    with uow:
        return _view(_visible(uow.accounts.token(token_id), actor, token_id))


def revoke_token(uow: UnitOfWork, actor: Actor, token_id: int) -> TokenView:
    """Revoke at once: the next request with it is refused. Revoking twice changes nothing."""
    with uow:
        row = _visible(uow.accounts.token(token_id), actor, token_id)
        if row.revoked_at is None:
            now = datetime.now(UTC)
            uow.accounts.revoke_token(row.id, now)
            uow.audit.record(
                "token_revoke", subject(row.prefix), {"user": row.email, "revoked_at": [None, now]}
            )
        uow.commit()
        found = uow.accounts.token(row.id)
    assert found is not None
    return _view(found)


def token_id_of(uow: UnitOfWork, prefix: str) -> int:
    """The id of the token whose prefix (`lst_ab12cd34`) is given."""
    with uow:
        row = uow.accounts.token_by_prefix(prefix.strip())
    if row is None:
        raise NotFound("token", prefix, "prefix")
    return row.id
