"""Password hashing with Argon2id (argon2-cffi) and the list of common passwords.

Hashes are PHC strings (`$argon2id$v=19$m=65536,t=3,p=4$salt$hash`): each carries its own
parameters, so raising the cost later re-hashes a user's password at their next sign-in.
"""

from __future__ import annotations

import gzip
import threading
from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from leanstock.config import Settings, get_settings


class Passwords:
    """Hash and verify passwords; at most `password_hash_concurrency` at once per process,
    so a burst of sign-ins cannot take `memory_cost` × requests of memory."""

    def __init__(self, time_cost: int, memory_kib: int, parallelism: int, concurrency: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._slots = threading.BoundedSemaphore(concurrency)
        # Verified against when the email is unknown, so that answer takes as long as a
        # wrong password does.
        self._decoy: str | None = None

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches `stored` (always False, after the same work, for None)."""
        with self._slots:
            if stored is None:
                if self._decoy is None:
                    self._decoy = self._hasher.hash("no such user, no such password")
                stored = self._decoy
                password = password + "\x00"
            try:
                return self._hasher.verify(stored, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


@cache
def _passwords(time_cost: int, memory_kib: int, parallelism: int, concurrency: int) -> Passwords:
    return Passwords(time_cost, memory_kib, parallelism, concurrency)


def passwords(settings: Settings | None = None) -> Passwords:
    """The process's hasher, configured from the settings."""
    s = settings or get_settings()
    return _passwords(
        s.password_time_cost,
        s.password_memory_kib,
        s.password_parallelism,
        s.password_hash_concurrency,
    )


@cache
def _common() -> frozenset[str]:
    data = (files("leanstock.adapters.auth") / "common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split("\n")) - {""}


def is_common(lowered: str) -> bool:
    """Whether a lower-cased password is on the vendored list of 41,622 popular passwords
    (see COMMON-PASSWORDS-LICENSE.txt beside this file)."""
    return lowered in _common()
