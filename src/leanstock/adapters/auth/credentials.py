"""API tokens, session ids and CSRF tokens: random, shown once, stored only as a hash.

A token reads `lst_<prefix>_<secret>`: `lst_` lets secret scanners spot one, the prefix (8
characters, stored in clear) finds its row and names it in lists and the audit trail, and the
secret is 256 random bits. Only SHA-256 of the whole token is stored; a fast hash is enough for
a secret this long (nobody can try 2^256 guesses), and it keeps checking a token cheap on every
request. Session ids are stored the same way, so a copy of the database holds no live
credential.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

TOKEN_PREFIX = "lst_"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_TOKEN = re.compile(r"^lst_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewToken:
    token: str
    prefix: str
    digest: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())


def new_token() -> NewToken:
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return NewToken(token, f"{TOKEN_PREFIX}{prefix}", digest(token))


def token_prefix(token: str) -> str | None:
    """The stored prefix of a well-formed token, or None for anything else."""
    found = _TOKEN.match(token)
    return f"{TOKEN_PREFIX}{found.group(1)}" if found else None


def new_secret() -> str:
    """A session id or CSRF token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_password() -> str:
    """A random password for demo users: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)
