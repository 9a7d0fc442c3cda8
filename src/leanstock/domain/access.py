"""Who may do what: roles, their permissions, and the principal a piece of work runs as.

The role → permission table below is the one place a role's reach is written down. Entry points
check a permission at the door (`actor.require("purchase:acknowledge")`); objects bound to a
location or a supplier are narrowed by `sees_location` / `sees_supplier`, so a foreign object
answers exactly as a missing one does (docs/security.md, "Roles").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum

from leanstock.domain.errors import Forbidden, NotFound


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    BUYER = "buyer"
    WAREHOUSE = "warehouse"
    VIEWER = "viewer"
    SUPPLIER = "supplier"


class Scope(StrEnum):
    """What an API token may do of what its user may: everything, or only reading."""

    READ = "read"
    WRITE = "write"


# Every user, whatever the role: see and change their own account and tokens.
_SELF = frozenset({"account:read", "account:self", "token:read", "token:write"})
_READ_BUSINESS = frozenset(
    {
        "catalog:read",
        "customer:read",
        "stock:read",
        "sales:read",
        "purchase:read",
        "production:read",
        "transfer:read",
        "supplier:read",
        "forecast:read",
        "plan:read",
        "scorecard:read",
    }
)
_BUYER = frozenset(
    {
        "purchase:write",
        "purchase:acknowledge",
        "purchase:ship_notice",
        "supplier:write",
        "production:write",
        "transfer:write",
        "forecast:run",
        "forecast:write",
        "plan:run",
        "plan:edit",
    }
)
_WAREHOUSE = frozenset(
    {
        "stock:write",
        "sales:ship",
        "purchase:receive",
        "production:execute",
        "transfer:execute",
    }
)
_MANAGER = frozenset(
    {
        "catalog:write",
        "customer:write",
        "reservation:write",
        "sales:write",
        "purchase:release",
        "purchase:deliver",
        "production:release",
        "plan:approve",
        "plan:release",
        "audit:read",
        "period:close",
        # The books' quantities of a blind stocktake while it is open (the counters' are not).
        "blind_count:read",
    }
)
# Webhooks carry every event to another system and hold signing secrets: the owner's call.
_OWNER = frozenset({"user:read", "user:write", "settings:write", "webhook:read", "webhook:write"})

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.OWNER: _SELF | _READ_BUSINESS | _BUYER | _WAREHOUSE | _MANAGER | _OWNER,
    Role.MANAGER: _SELF | _READ_BUSINESS | _BUYER | _WAREHOUSE | _MANAGER,
    Role.BUYER: _SELF | _READ_BUSINESS | _BUYER,
    Role.WAREHOUSE: _SELF | _READ_BUSINESS | _WAREHOUSE,
    Role.VIEWER: _SELF | _READ_BUSINESS,
    # Only its own purchase orders: read them, acknowledge, announce and deliver drop-ships;
    # and its own scorecard.
    Role.SUPPLIER: _SELF
    | frozenset(
        {
            "purchase:read",
            "purchase:acknowledge",
            "purchase:ship_notice",
            "purchase:deliver",
            "scorecard:read",
        }
    ),
}

ALL_PERMISSIONS = frozenset().union(*PERMISSIONS.values())


def reads_only(permission: str) -> bool:
    """Whether a read-only token may use `permission`: it only reads."""
    return permission.endswith(":read")


@dataclass(frozen=True)
class Visibility:
    """Which rows a principal may read, derived from its bindings and handed to the unit of
    work, whose repositories narrow every list and page by it: `locations` (None: all) for a
    warehouse user limited to some, `supplier` (None: all) for a supplier user. A row outside
    it is answered as a missing one."""

    locations: frozenset[str] | None = None
    supplier: str | None = None

    @property
    def narrowed(self) -> bool:
        return self.locations is not None or self.supplier is not None

    def sees_location(self, code: str) -> bool:
        return self.locations is None or code in self.locations

    def sees_any(self, codes: Iterable[str]) -> bool:
        """An object at several locations (an order's lines, a transfer's two ends) is seen
        when one of them is."""
        return self.locations is None or not self.locations.isdisjoint(codes)

    def sees_supplier(self, code: str) -> bool:
        return self.supplier is None or self.supplier == code

    def require_location(self, code: str | None, field: str = "location") -> None:
        """A location named in a read that is not granted answers as one that does not
        exist."""
        if code is not None and not self.sees_location(code):
            raise NotFound("location", code, field)


EVERYTHING = Visibility()


@dataclass(frozen=True)
class Actor:
    """The authenticated principal: a user, through a session, a token or the command line.

    `locations` limits a warehouse user to some location codes (None: every location);
    `supplier` binds a supplier user to one supplier code. A token's `scope` can only narrow
    what its user's role allows, never widen it.
    """

    user_id: int | None
    email: str
    role: Role
    display_name: str = ""
    scope: Scope = Scope.WRITE
    locations: frozenset[str] | None = None
    supplier: str | None = None
    credential: str = ""

    @classmethod
    def system(cls, name: str) -> Actor:
        """Someone at the machine (the command line): the database is theirs already."""
        return cls(None, name, Role.OWNER, name, credential="cli")

    @property
    def name(self) -> str:
        """How the audit trail names the actor."""
        return self.email

    def can(self, permission: str) -> bool:
        if permission not in PERMISSIONS[self.role]:
            return False
        return self.scope is Scope.WRITE or reads_only(permission)

    def require(self, permission: str) -> None:
        """Refuse (403) what the role, or a read-only token, may not do."""
        if permission not in ALL_PERMISSIONS:
            raise ValueError(f"Unknown permission {permission!r}")
        if permission not in PERMISSIONS[self.role]:
            raise Forbidden(
                f"A {self.role.value} may not do this (it needs {permission!r}); "
                "ask an owner for a role that may."
            )
        if not self.can(permission):
            raise Forbidden(
                f"This token is read-only; {permission!r} needs a token with the write scope."
            )

    @property
    def visibility(self) -> Visibility:
        """The rows this principal may read (its bindings)."""
        supplier = self.supplier if self.role is Role.SUPPLIER else None
        if self.locations is None and supplier is None:
            return EVERYTHING
        return Visibility(self.locations, supplier)

    def sees_location(self, code: str) -> bool:
        return self.locations is None or code in self.locations

    def require_location(self, code: str, field: str = "location") -> None:
        """A location not granted is answered as one that does not exist."""
        if not self.sees_location(code):
            raise NotFound("location", code, field)

    def sees_supplier(self, code: str) -> bool:
        return self.role is not Role.SUPPLIER or self.supplier == code


@dataclass
class RequestContext:
    """Who is acting and in which request, for whatever writes the audit trail.

    Entry points set it once per request (or command) with `acting`; it is mutable so that
    authentication, which runs after the request id is known, can fill in the actor, and
    code running in worker threads (which get a copy of the context) sees the same object.
    """

    request_id: str | None = None
    actor: Actor | None = None
    address: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def actor_name(self) -> str:
        return self.actor.name if self.actor is not None else "system"

    @property
    def credential(self) -> str | None:
        return self.actor.credential if self.actor is not None else None


_context: ContextVar[RequestContext | None] = ContextVar("leanstock_request", default=None)


def current() -> RequestContext:
    """The context of the work in progress (an empty one outside any request or command)."""
    return _context.get() or RequestContext()


@contextmanager
def acting(context: RequestContext) -> Iterator[RequestContext]:
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)
