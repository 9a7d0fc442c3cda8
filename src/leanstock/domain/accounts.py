"""Users, their passwords and sign-in throttling: the rules, without storage or hashing."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from leanstock.domain.access import Role
from leanstock.domain.errors import InvalidInput

MIN_PASSWORD = 12
# Argon2 hashes any length, but a megabyte password is a denial of service, not a secret.
MAX_PASSWORD = 256
MAX_EMAIL = 254  # RFC 5321's limit on a path
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# What people append to a common word to get past a length rule: "sunshine2024!".
_TRAILER = re.compile(r"[\d\W_]+$")

MAX_TOKEN_DAYS = 366
_DURATION = re.compile(r"^(\d{1,4})([dhw])$")


@dataclass(frozen=True)
class User:
    id: int
    email: str
    display_name: str
    role: Role
    active: bool
    locations: frozenset[str] | None = None
    supplier: str | None = None
    created_at: datetime | None = None
    password_changed_at: datetime | None = None


def subject(email: str) -> str:
    """How the audit trail names a user."""
    return f"user:{email}"


def normal_email(value: str, field: str = "email") -> str:
    """An email address as users are looked up by: trimmed and lower-cased."""
    email = value.strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidInput(f"{value[:80]!r} is not an email address.", field)
    return email


def check_password(
    password: str, email: str, is_common: Callable[[str], bool], field: str = "password"
) -> str:
    """Refuse a password that is short, common or guessable (NIST SP 800-63B §5.1.1.2:
    a minimum length and a list of known-bad passwords, no composition rules)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"The password must be at least {MIN_PASSWORD} characters.", field)
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"The password must be at most {MAX_PASSWORD} characters.", field)
    lowered = password.lower()
    base = _TRAILER.sub("", lowered)
    if len(set(lowered)) < 5:
        raise InvalidInput("The password repeats too few characters; choose another.", field)
    if (
        lowered in (email, email.split("@")[0])
        or is_common(lowered)
        or (len(base) >= 6 and is_common(base))
    ):
        raise InvalidInput(
            "The password is too common or too easy to guess; a few unrelated words make a "
            "strong one.",
            field,
        )
    return password


def check_bindings(
    role: Role, locations: Collection[str] | None, supplier: str | None
) -> tuple[frozenset[str] | None, str | None]:
    """Locations limit warehouse users; a supplier user is bound to exactly one supplier."""
    if role is Role.SUPPLIER and not supplier:
        raise InvalidInput("A supplier user needs the supplier it works for.", "supplier")
    if role is not Role.SUPPLIER and supplier:
        raise InvalidInput("Only supplier users are bound to a supplier.", "supplier")
    if locations and role is not Role.WAREHOUSE:
        raise InvalidInput("Only warehouse users are limited to locations.", "locations")
    return (frozenset(locations) if locations else None), supplier


def display_name(value: str | None, email: str) -> str:
    name = (value or email.split("@")[0]).strip()
    if not name or len(name) > 200:
        raise InvalidInput("The display name must be 1-200 characters.", "display_name")
    return name


def token_lifetime(value: str, field: str = "expires") -> timedelta:
    """`90d`, `12h` or `8w`: how long a token lives, at most a year, never forever."""
    found = _DURATION.match(value.strip().lower())
    if found is None:
        raise InvalidInput(f"{value!r} is not a duration like 90d, 12h or 8w.", field)
    amount, unit = int(found.group(1)), found.group(2)
    lifetime = {
        "h": timedelta(hours=amount),
        "d": timedelta(days=amount),
        "w": timedelta(weeks=amount),
    }[unit]
    if not timedelta(hours=1) <= lifetime <= timedelta(days=MAX_TOKEN_DAYS):
        raise InvalidInput(
            f"A token lives from 1 hour to {MAX_TOKEN_DAYS} days; {value!r} is outside that.",
            field,
        )
    return lifetime


@dataclass(frozen=True)
class Throttle:
    """Sign-in throttling: from the `free`-th failure in a row on, each failure locks the key
    (an account or a client address) for twice as long as the one before, from `base` up to
    `cap`. Failures older than `forget` no longer count.

    The 5th failure on an account locks it 1 s, the 6th 2 s, ... the 15th 15 minutes; an
    address (shared by an office behind NAT) gets 20 free failures.
    """

    free: int
    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=15)
    forget: timedelta = timedelta(hours=24)

    def lock(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        return min(self.base * (1 << min(failures - self.free, 30)), self.cap)


ACCOUNT_THROTTLE = Throttle(free=5)
ADDRESS_THROTTLE = Throttle(free=20)
