"""Account services on both databases: hashes, bindings, and owners under concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.config import get_settings
from leanstock.domain.access import Role
from leanstock.domain.errors import AlreadyExists, Conflict, NotFound, TooManyAttempts
from leanstock.services import accounts, signin

PASSWORD = "correct horse battery staple"


def stored_hash(engine: Engine, email: str) -> str:
    with engine.connect() as db:
        return str(
            db.execute(
                text("SELECT password_hash FROM users WHERE email = :e"), {"e": email}
            ).scalar_one()
        )


def test_a_password_is_kept_only_as_an_argon2id_hash(engine: Engine) -> None:
    accounts.create_user(UnitOfWork(engine), "kim@example.com", PASSWORD, Role.VIEWER)
    stored = stored_hash(engine, "kim@example.com")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_hash_made_at_a_lower_cost_is_renewed_at_the_next_sign_in(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow = UnitOfWork(engine)
    accounts.create_user(uow, "kim@example.com", PASSWORD, Role.VIEWER)
    before = stored_hash(engine, "kim@example.com")
    monkeypatch.setenv("LEANSTOCK_PASSWORD_MEMORY_KIB", "128")
    get_settings.cache_clear()
    try:
        signin.login(uow, "kim@example.com", PASSWORD, None, timedelta(hours=1), timedelta(hours=1))
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    after = stored_hash(engine, "kim@example.com")
    assert "m=64," in before
    assert "m=128," in after


def test_an_email_belongs_to_one_user_whatever_its_case(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    accounts.create_user(uow, "kim@example.com", PASSWORD, Role.VIEWER)
    with pytest.raises(AlreadyExists):
        accounts.create_user(uow, "KIM@example.com", PASSWORD, Role.BUYER)


def test_bindings_name_existing_locations_and_suppliers(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    with pytest.raises(NotFound, match="supplier"):
        accounts.create_user(uow, "s@example.com", PASSWORD, Role.SUPPLIER, supplier="NOPE")
    with pytest.raises(NotFound, match="location"):
        accounts.create_user(uow, "w@example.com", PASSWORD, Role.WAREHOUSE, locations=["NOPE"])
    with engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM users")).scalar_one() == 0


def test_two_owners_demoting_each_other_at_once_leave_one_owner(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    ids = [
        accounts.create_user(uow, f"{name}@example.com", PASSWORD, Role.OWNER).id
        for name in ("ann", "bob")
    ]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(user_id: int) -> None:
        start.wait()
        try:
            accounts.update_user(UnitOfWork(engine), user_id, {"role": Role.MANAGER})
            outcomes.append("demoted")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["demoted", "refused"]
    with engine.connect() as db:
        owners = db.execute(text("SELECT count(*) FROM users WHERE role = 'owner'")).scalar_one()
    assert owners == 1


class _SlowWrongPasswords:
    """Every password is wrong; the first check waits until the test lets it answer."""

    def __init__(self) -> None:
        self.checking = threading.Event()
        self.answer = threading.Event()
        self.first = True

    def verify(self, stored: str | None, password: str) -> bool:
        if self.first:
            self.first = False
            self.checking.set()
            assert self.answer.wait(60)
        return False


def test_a_sign_in_lock_lasts_from_the_wrong_answer_however_long_the_check_took(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts.create_user(UnitOfWork(engine), "kim@example.com", PASSWORD, Role.VIEWER)
    start = datetime(2026, 11, 30, 12, tzinfo=UTC)

    def guess(seconds: float = 0) -> object:
        at = start + timedelta(seconds=seconds)
        return signin.verify(UnitOfWork(engine), "kim@example.com", "guess", "10.0.0.1", at)

    for _ in range(4):
        assert guess() is None
    slow = _SlowWrongPasswords()
    monkeypatch.setattr(signin, "passwords", lambda: slow)
    fifth = threading.Thread(target=guess)
    fifth.start()
    try:
        assert slow.checking.wait(60)
        # The fifth failure locks the account for 1 s. Its check has outlasted that, but while
        # its answer is not known a sixth guess is refused, as it would be one after another.
        with pytest.raises(TooManyAttempts):
            guess(5)
    finally:
        slow.answer.set()
        fifth.join()
    # The fifth answered (at `start`, on this clock): the lock's second runs from there.
    with pytest.raises(TooManyAttempts):
        guess(0.5)
    assert guess(1.001) is None
