"""Tables of accounts: users, the locations they are limited to, API tokens, web sessions and
sign-in throttling. Defined on the one `metadata`, so one Alembic history builds everything."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Integer, String, Table

from leanstock.adapters.db.metadata import Id, Timestamp, metadata

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("supplier_id", Id, ForeignKey("suppliers.id"), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("password_changed_at", Timestamp, nullable=False),
    CheckConstraint(
        "role IN ('owner', 'manager', 'buyer', 'warehouse', 'viewer', 'supplier')", name="role"
    ),
    CheckConstraint("(role = 'supplier') = (supplier_id IS NOT NULL)", name="supplier_bound"),
)

user_locations = Table(
    "user_locations",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("location_id", Id, ForeignKey("locations.id"), primary_key=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False),
    Column("scope", String(8), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp, nullable=True),
    Column("last_used_at", Timestamp, nullable=True),
    CheckConstraint("scope IN ('read', 'write')", name="scope"),
)

sessions = Table(
    "sessions",
    metadata,
    # SHA-256 of the session id the cookie carries.
    Column("id", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("address", String(64), nullable=True),
)

# One row per account (`account:<email>`) or client address (`address:<ip>`) with failures.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", Timestamp, nullable=False),
    Column("locked_until", Timestamp, nullable=True),
)
