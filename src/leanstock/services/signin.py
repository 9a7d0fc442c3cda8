"""Sign-in, web sessions and API tokens: who a request comes from.

Sign-in is throttled per account and per client address (`domain.accounts.Throttle`). Each
attempt is counted *before* the password is checked, under a row lock, so a burst of parallel
guesses is counted one after another and cannot slip past the limit; a success then takes its
own count back. A locked key refuses at once (429 with Retry-After), without checking the
password, so a right guess during a lock tells nothing.

A lock runs from the moment its failure is known, as it would for guesses sent one after
another: the attempt that reaches the limit locks the key until its password check is done
(at most `CHECK_ALLOWANCE`), and the wrong answer then sets the lock to end `Throttle.lock`
after it. So a slow check (a busy server) cannot let the lock run out before the attempt
that set it has even failed. Every answer to a wrong email, a
wrong password or a disabled user is the same: "Email or password is wrong."
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leanstock.adapters.auth.credentials import digest, new_secret, same, token_prefix
from leanstock.adapters.auth.passwords import passwords
from leanstock.adapters.db.accounts import Credentials, ThrottleRow
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.access import Actor, Scope
from leanstock.domain.accounts import ACCOUNT_THROTTLE, ADDRESS_THROTTLE, Throttle, User, subject
from leanstock.domain.errors import NotAuthenticated, TooManyAttempts

WRONG = "Email or password is wrong."
INVALID_TOKEN = "The token is not valid: it is malformed, unknown, expired or revoked."
SESSION_ENDED = "Your session has ended; sign in again."
# Last use of a token or session is written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=1)
# The longest a password check is expected to take: how long an attempt that reaches the limit
# holds its lock beyond `Throttle.lock` until its answer is known (and, should the process die
# during the check, how much longer the key stays locked).
CHECK_ALLOWANCE = timedelta(minutes=1)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def actor_of(user: User, credential: str, scope: Scope = Scope.WRITE) -> Actor:
    return Actor(
        user.id,
        user.email,
        user.role,
        user.display_name,
        scope,
        user.locations,
        user.supplier,
        credential,
    )


def _keys(email: str, address: str | None) -> dict[str, Throttle]:
    keys = {f"account:{email}": ACCOUNT_THROTTLE}
    if address:
        keys[f"address:{address[:64]}"] = ADDRESS_THROTTLE
    return keys


def _count_attempt(
    uow: UnitOfWork, email: str, address: str | None, now: datetime | None
) -> tuple[Credentials | None, dict[str, int]]:
    """Count one attempt against the account and the address, or refuse while either is
    locked; then the user's credentials, if the email is known, and each key's count."""
    keys = _keys(email, address)
    with uow:
        uow.accounts.forget_throttle(_now(now) - ACCOUNT_THROTTLE.forget)
        rows = uow.accounts.throttle(list(keys), _now(now))
        # The time once the rows are locked, not when the request came: waiting for the lock
        # must not use up a lock set meanwhile.
        moment = _now(now)
        locked = max(
            (r.locked_until for r in rows.values() if r.locked_until and r.locked_until > moment),
            default=None,
        )
        if locked is not None:
            uow.audit.record(
                "login_refused",
                subject(email),
                {"reason": "throttled"},
                actor="anonymous",
                credential="password",
            )
            uow.commit()
            raise TooManyAttempts(max(1, math.ceil((locked - moment).total_seconds())))
        counted: dict[str, int] = {}
        for key, row in rows.items():
            rule = keys[key]
            failures = (0 if moment - row.last_failure_at > rule.forget else row.failures) + 1
            lock = rule.lock(failures)
            until = moment + lock + CHECK_ALLOWANCE if lock else None
            uow.accounts.put_throttle(ThrottleRow(key, failures, moment, until))
            counted[key] = failures
        found = uow.accounts.credentials(email)
        uow.commit()
    return found, counted


def _settle_locks(
    uow: UnitOfWork, email: str, address: str | None, counted: dict[str, int], now: datetime
) -> None:
    """After a wrong answer: a lock this attempt set ends `Throttle.lock` from now. A key
    counted since (or taken back by a success) is left as it is."""
    keys = _keys(email, address)
    for key, row in uow.accounts.throttle(list(keys), now).items():
        lock = keys[key].lock(row.failures)
        if row.failures == counted.get(key) and lock:
            uow.accounts.put_throttle(
                ThrottleRow(key, row.failures, row.last_failure_at, now + lock)
            )


def _take_back(
    uow: UnitOfWork, email: str, address: str | None, counted: dict[str, int], now: datetime
) -> None:
    """After a success: the account starts afresh, the address loses this attempt's count."""
    keys = _keys(email, address)
    rows = uow.accounts.throttle(list(keys), now)
    for key, row in rows.items():
        if key.startswith("account:"):
            uow.accounts.put_throttle(ThrottleRow(key, 0, row.last_failure_at, None))
        else:
            failures = max(row.failures - 1, 0)
            keep = row.locked_until if failures >= keys[key].free else None
            if keep is not None and row.failures == counted.get(key):
                keep = now + keys[key].lock(failures)
            uow.accounts.put_throttle(ThrottleRow(key, failures, row.last_failure_at, keep))


def verify(
    uow: UnitOfWork, email: str, password: str, address: str | None, now: datetime | None = None
) -> User | None:
    """The active user with this email and password, or None; throttled and audited as a
    sign-in (failures audited here, success left to the caller)."""
    email = email.strip().lower()[:254]
    found, counted = _count_attempt(uow, email, address, now)
    ok = passwords().verify(found.password_hash if found else None, password)
    if found is not None and ok and found.user.active:
        with uow:
            _take_back(uow, email, address, counted, _now(now))
            if passwords().needs_rehash(found.password_hash):
                uow.accounts.update_user(
                    found.user.id, _now(now), password_hash=passwords().hash(password)
                )
            uow.commit()
        return found.user
    reason = "unknown email" if found is None else "wrong password" if not ok else "disabled"
    with uow:
        _settle_locks(uow, email, address, counted, _now(now))
        uow.audit.record(
            "login_failed",
            subject(email),
            {"reason": reason},
            actor="anonymous",
            credential="password",
        )
        uow.commit()
    return None


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    session_id: str
    csrf_token: str
    expires_at: datetime


def login(
    uow: UnitOfWork,
    email: str,
    password: str,
    address: str | None,
    lifetime: timedelta,
    idle: timedelta,
    now: datetime | None = None,
) -> SignedIn:
    """Check the password and open a web session (its id goes in a cookie, only its hash is
    stored); `NotAuthenticated` with the same words whatever was wrong."""
    user = verify(uow, email, password, address, now)
    if user is None:
        raise NotAuthenticated(WRONG)
    moment = _now(now)
    session_id, csrf = new_secret(), new_secret()
    expires = moment + lifetime
    with uow:
        uow.accounts.purge_sessions(moment, moment - idle)
        uow.accounts.add_session(digest(session_id), user.id, csrf, moment, expires, address)
        uow.audit.record(
            "login",
            subject(user.email),
            {"session_expires_at": expires},
            actor=user.email,
            credential="password",
        )
        uow.commit()
    return SignedIn(actor_of(user, "session"), session_id, csrf, expires)


def logout(uow: UnitOfWork, session_id: str) -> bool:
    """End a session; False if it had ended already."""
    with uow:
        row = uow.accounts.session(digest(session_id))
        if row is None:
            return False
        user = uow.accounts.user(row.user_id)
        uow.accounts.end_session(digest(session_id))
        uow.audit.record("logout", subject(user.email), {}, actor=user.email, credential="session")
        uow.commit()
    return True


@dataclass(frozen=True)
class Session:
    actor: Actor
    csrf_token: str


def session(
    uow: UnitOfWork, session_id: str, idle: timedelta, now: datetime | None = None
) -> Session:
    """The signed-in user behind a session cookie; ended after `idle` without a request or at
    its absolute expiry, and at once when the user is disabled."""
    moment = _now(now)
    key = digest(session_id)
    with uow:
        row = uow.accounts.session(key)
        if row is None:
            raise NotAuthenticated(SESSION_ENDED)
        user = uow.accounts.user(row.user_id)
        if moment >= row.expires_at or moment - row.last_seen_at > idle or not user.active:
            uow.accounts.end_session(key)
            uow.commit()
            raise NotAuthenticated(SESSION_ENDED)
        if moment - row.last_seen_at > TOUCH_EVERY:
            uow.accounts.touch_session(key, moment)
            uow.commit()
    return Session(actor_of(user, "session"), row.csrf_token)


def token(uow: UnitOfWork, secret: str, now: datetime | None = None) -> Actor:
    """The principal behind a bearer token: its user's current role and bindings, narrowed by
    the token's scope. Unknown, expired, revoked and disabled all answer alike."""
    prefix = token_prefix(secret)
    if prefix is None:
        raise NotAuthenticated(INVALID_TOKEN)
    moment = _now(now)
    found = uow.token_and_user(prefix)
    if found is None or not same(found[0].token_hash, digest(secret)):
        raise NotAuthenticated(INVALID_TOKEN)
    row, user = found
    if row.revoked_at is not None or moment >= row.expires_at:
        raise NotAuthenticated(INVALID_TOKEN)
    if not user.active:
        raise NotAuthenticated(INVALID_TOKEN)
    if row.last_used_at is None or moment - row.last_used_at > TOUCH_EVERY:
        with uow:
            uow.accounts.touch_token(row.id, moment)
            uow.commit()
    return actor_of(user, f"token:{row.prefix}", row.scope)
