"""Users, API tokens, web sessions and sign-in throttling in the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from leanstock.adapters.db import account_tables as a
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.driver import read_once
from leanstock.domain.access import Role, Scope
from leanstock.domain.accounts import User
from leanstock.domain.errors import NotFound


def aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Credentials:
    """A user as sign-in needs them: with the password hash."""

    user: User
    password_hash: str


@dataclass(frozen=True)
class TokenRow:
    id: int
    user_id: int
    email: str
    name: str
    prefix: str
    token_hash: str
    scope: Scope
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class SessionRow:
    user_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ThrottleRow:
    key: str
    failures: int
    last_failure_at: datetime
    locked_until: datetime | None


_USER_COLUMNS = (
    a.users.c.id,
    a.users.c.email,
    a.users.c.display_name,
    a.users.c.role,
    a.users.c.active,
    a.users.c.created_at,
    a.users.c.password_changed_at,
    a.users.c.password_hash,
    t.suppliers.c.code.label("supplier"),
)
_USERS: Select[Any] = select(*_USER_COLUMNS).outerjoin(
    t.suppliers, t.suppliers.c.id == a.users.c.supplier_id
)
_TOKENS: Select[Any] = select(a.api_tokens, a.users.c.email).join(
    a.users, a.users.c.id == a.api_tokens.c.user_id
)


# The token check every API request makes, built once: building a select of four joins and
# working out its cache key cost about a tenth of a millisecond of CPU on each request
# (docs/performance.md, "Since 145b9bf").
_TOKEN_AND_USER = (
    select(
        a.api_tokens,
        a.users.c.email,
        a.users.c.display_name,
        a.users.c.role,
        a.users.c.active,
        a.users.c.created_at.label("user_created_at"),
        a.users.c.password_changed_at,
        t.suppliers.c.code.label("supplier"),
        t.locations.c.code.label("granted"),
    )
    .select_from(a.api_tokens)
    .join(a.users, a.users.c.id == a.api_tokens.c.user_id)
    .outerjoin(t.suppliers, t.suppliers.c.id == a.users.c.supplier_id)
    .outerjoin(a.user_locations, a.user_locations.c.user_id == a.users.c.id)
    .outerjoin(t.locations, t.locations.c.id == a.user_locations.c.location_id)
    .where(a.api_tokens.c.prefix == bindparam("prefix"))
)


class AccountsRepository:
    def __init__(self, connection: Connection) -> None:
        self.db = connection
        self.dialect = connection.dialect.name

    # Users

    def _locations(self, user_ids: Sequence[int]) -> dict[int, frozenset[str]]:
        if not user_ids:
            return {}
        rows = self.db.execute(
            select(a.user_locations.c.user_id, t.locations.c.code)
            .join(t.locations, t.locations.c.id == a.user_locations.c.location_id)
            .where(a.user_locations.c.user_id.in_(user_ids))
        )
        found: dict[int, set[str]] = {}
        for r in rows:
            found.setdefault(int(r.user_id), set()).add(r.code)
        return {k: frozenset(v) for k, v in found.items()}

    def _users(self, rows: Sequence[Any]) -> list[Credentials]:
        warehouse = [int(r.id) for r in rows if r.role == Role.WAREHOUSE.value]
        granted = self._locations(warehouse)
        return [
            Credentials(
                User(
                    int(r.id),
                    r.email,
                    r.display_name,
                    Role(r.role),
                    bool(r.active),
                    granted.get(int(r.id)),
                    r.supplier,
                    aware(r.created_at),
                    aware(r.password_changed_at),
                ),
                r.password_hash,
            )
            for r in rows
        ]

    def credentials(self, email: str) -> Credentials | None:
        rows = self.db.execute(_USERS.where(a.users.c.email == email)).all()
        found = self._users(rows)
        return found[0] if found else None

    def user(self, user_id: int, lock: bool = False) -> User:
        query = _USERS.where(a.users.c.id == user_id)
        if lock and self.dialect == "postgresql":
            query = query.with_for_update(of=a.users)
        found = self._users(self.db.execute(query).all())
        if not found:
            raise NotFound("user", user_id)
        return found[0].user

    def user_by_email(self, email: str, field: str = "email") -> User:
        found = self.credentials(email)
        if found is None:
            raise NotFound("user", email, field)
        return found.user

    def users(
        self, limit: int, offset: int, role: Role | None = None, active: bool | None = None
    ) -> tuple[list[User], int]:
        query = _USERS
        if role is not None:
            query = query.where(a.users.c.role == role.value)
        if active is not None:
            query = query.where(a.users.c.active == active)
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(query.order_by(a.users.c.email).limit(limit).offset(offset)).all()
        return [c.user for c in self._users(rows)], int(total)

    def add_user(
        self,
        email: str,
        display_name: str,
        role: Role,
        password_hash: str,
        supplier_id: int | None,
        now: datetime,
    ) -> int:
        return int(
            self.db.execute(
                insert(a.users)
                .values(
                    email=email,
                    display_name=display_name,
                    role=role.value,
                    password_hash=password_hash,
                    active=True,
                    supplier_id=supplier_id,
                    created_at=now,
                    updated_at=now,
                    password_changed_at=now,
                )
                .returning(a.users.c.id)
            ).scalar_one()
        )

    def update_user(self, user_id: int, now: datetime, **values: Any) -> None:
        self.db.execute(
            update(a.users).where(a.users.c.id == user_id).values(updated_at=now, **values)
        )

    def set_locations(self, user_id: int, location_ids: Sequence[int]) -> None:
        self.db.execute(delete(a.user_locations).where(a.user_locations.c.user_id == user_id))
        if location_ids:
            self.db.execute(
                insert(a.user_locations),
                [{"user_id": user_id, "location_id": i} for i in sorted(set(location_ids))],
            )

    def active_owners(self, lock: bool = False) -> int:
        """How many active owners there are; with `lock`, their rows stay locked until commit,
        so two owners cannot demote each other at the same moment and leave none."""
        query = (
            select(a.users.c.id)
            .where(a.users.c.role == Role.OWNER.value, a.users.c.active.is_(True))
            .order_by(a.users.c.id)
        )
        if lock and self.dialect == "postgresql":
            query = query.with_for_update()
        return len(self.db.execute(query).all())

    # API tokens

    def add_token(
        self,
        user_id: int,
        name: str,
        prefix: str,
        token_hash: str,
        scope: Scope,
        now: datetime,
        expires_at: datetime,
    ) -> int:
        return int(
            self.db.execute(
                insert(a.api_tokens)
                .values(
                    user_id=user_id,
                    name=name,
                    prefix=prefix,
                    token_hash=token_hash,
                    scope=scope.value,
                    created_at=now,
                    expires_at=expires_at,
                )
                .returning(a.api_tokens.c.id)
            ).scalar_one()
        )

    @staticmethod
    def _token(r: Any) -> TokenRow:
        return TokenRow(
            int(r.id),
            int(r.user_id),
            r.email,
            r.name,
            r.prefix,
            r.token_hash,
            Scope(r.scope),
            aware(r.created_at),
            aware(r.expires_at),
            aware(r.revoked_at) if r.revoked_at is not None else None,
            aware(r.last_used_at) if r.last_used_at is not None else None,
        )

    def token_by_prefix(self, prefix: str) -> TokenRow | None:
        row = self.db.execute(_TOKENS.where(a.api_tokens.c.prefix == prefix)).first()
        return self._token(row) if row is not None else None

    def token_and_user(self, prefix: str) -> tuple[TokenRow, User] | None:
        """The token with `prefix` and its user (with the locations a warehouse user is granted)
        in one query: every API request asks it, so it is one round trip, not three."""
        return _token_and_user(self.db.execute(_TOKEN_AND_USER, {"prefix": prefix}).all())

    def token(self, token_id: int) -> TokenRow | None:
        row = self.db.execute(_TOKENS.where(a.api_tokens.c.id == token_id)).first()
        return self._token(row) if row is not None else None

    def tokens(self, user_id: int | None, limit: int, offset: int) -> tuple[list[TokenRow], int]:
        query = _TOKENS
        if user_id is not None:
            query = query.where(a.api_tokens.c.user_id == user_id)
        total = self.db.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = self.db.execute(
            query.order_by(a.api_tokens.c.id.desc()).limit(limit).offset(offset)
        ).all()
        return [self._token(r) for r in rows], int(total)

    def revoke_token(self, token_id: int, now: datetime) -> None:
        self.db.execute(
            update(a.api_tokens)
            .where(a.api_tokens.c.id == token_id, a.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def revoke_tokens_of(self, user_id: int, now: datetime) -> int:
        result = self.db.execute(
            update(a.api_tokens)
            .where(a.api_tokens.c.user_id == user_id, a.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)

    def touch_token(self, token_id: int, now: datetime) -> None:
        self.db.execute(
            update(a.api_tokens).where(a.api_tokens.c.id == token_id).values(last_used_at=now)
        )

    # Web sessions

    def add_session(
        self,
        session_hash: str,
        user_id: int,
        csrf_token: str,
        now: datetime,
        expires_at: datetime,
        address: str | None,
    ) -> None:
        self.db.execute(
            insert(a.sessions).values(
                id=session_hash,
                user_id=user_id,
                csrf_token=csrf_token,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                address=address,
            )
        )

    def session(self, session_hash: str) -> SessionRow | None:
        row = self.db.execute(select(a.sessions).where(a.sessions.c.id == session_hash)).first()
        if row is None:
            return None
        return SessionRow(
            int(row.user_id),
            row.csrf_token,
            aware(row.created_at),
            aware(row.last_seen_at),
            aware(row.expires_at),
        )

    def touch_session(self, session_hash: str, now: datetime) -> None:
        self.db.execute(
            update(a.sessions).where(a.sessions.c.id == session_hash).values(last_seen_at=now)
        )

    def end_session(self, session_hash: str) -> None:
        self.db.execute(delete(a.sessions).where(a.sessions.c.id == session_hash))

    def end_sessions(self, user_id: int, keep: str | None = None) -> int:
        query = delete(a.sessions).where(a.sessions.c.user_id == user_id)
        if keep is not None:
            query = query.where(a.sessions.c.id != keep)
        return int(self.db.execute(query).rowcount)

    def purge_sessions(self, now: datetime, idle_since: datetime) -> None:
        """Forget sessions past their absolute end, or without a request since `idle_since`."""
        self.db.execute(
            delete(a.sessions).where(
                (a.sessions.c.expires_at < now) | (a.sessions.c.last_seen_at < idle_since)
            )
        )

    # Sign-in throttling

    def throttle(self, keys: Sequence[str], now: datetime) -> dict[str, ThrottleRow]:
        """The throttle rows of `keys`, created empty where missing and locked until commit, so
        concurrent sign-ins on one account or address count one after another."""
        table = a.login_throttle
        existing = set(self.db.execute(select(table.c.key).where(table.c.key.in_(keys))).scalars())
        missing = [k for k in keys if k not in existing]
        if missing:
            rows = [{"key": k, "failures": 0, "last_failure_at": now} for k in missing]
            upsert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
            self.db.execute(upsert(table).on_conflict_do_nothing(), rows)
        query = select(table).where(table.c.key.in_(keys)).order_by(table.c.key)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        return {
            r.key: ThrottleRow(
                r.key,
                int(r.failures),
                aware(r.last_failure_at),
                aware(r.locked_until) if r.locked_until is not None else None,
            )
            for r in self.db.execute(query)
        }

    def forget_throttle(self, before: datetime) -> None:
        """Drop rows whose last failure is older than `before` and that lock nothing."""
        table = a.login_throttle
        self.db.execute(
            delete(table).where(
                table.c.last_failure_at < before,
                (table.c.locked_until.is_(None)) | (table.c.locked_until < before),
            )
        )

    def put_throttle(self, row: ThrottleRow) -> None:
        table = a.login_throttle
        self.db.execute(
            update(table)
            .where(table.c.key == row.key)
            .values(
                failures=row.failures,
                last_failure_at=row.last_failure_at,
                locked_until=row.locked_until,
            )
        )


def _token_and_user(rows: Sequence[Any]) -> tuple[TokenRow, User] | None:
    if not rows:
        return None
    r = rows[0]
    granted = frozenset(x.granted for x in rows if x.granted is not None)
    user = User(
        int(r.user_id),
        r.email,
        r.display_name,
        Role(r.role),
        bool(r.active),
        granted or None if r.role == Role.WAREHOUSE.value else None,
        r.supplier,
        aware(r.user_created_at),
        aware(r.password_changed_at),
    )
    return AccountsRepository._token(r), user


def token_and_user_alone(engine: Engine, prefix: str) -> tuple[TokenRow, User] | None:
    """`AccountsRepository.token_and_user` as one statement on its own, outside any unit of
    work: on PostgreSQL the prebuilt query goes straight to psycopg (`driver.read_once`),
    without SQLAlchemy's per-execution work or a unit of work's set-up, as the token check
    of every API request."""
    if engine.dialect.name == "postgresql":
        return _token_and_user(read_once(engine, _TOKEN_AND_USER, {"prefix": prefix}))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return AccountsRepository(connection).token_and_user(prefix)
