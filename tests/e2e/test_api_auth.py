"""Signing in, sessions, tokens and the audit trail of accounts, through the HTTP API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.config import Settings
from leanstock.domain.access import Role, Scope
from leanstock.entrypoints.api.app import NoOwner, create_app
from leanstock.services import accounts, tokens

API = "/api/v1"
PASSWORD = "correct horse battery staple"
COOKIE = "__Host-leanstock_session"


@pytest.fixture
def users(engine: Engine) -> dict[str, int]:
    uow = UnitOfWork(engine)
    found = {}
    for email, role in (("boss@example.com", Role.OWNER), ("mia@example.com", Role.MANAGER)):
        found[email] = accounts.create_user(uow, email, PASSWORD, role).id
    return found


def browser(engine: Engine, address: str = "10.0.0.1", **settings: Any) -> TestClient:
    """A client as a browser is: HTTPS, cookies kept, no token."""
    app = create_app(Settings(**settings), engine=engine)
    return TestClient(
        app, base_url="https://leanstock.test", raise_server_exceptions=False, client=(address, 1)
    )


def sign_in(client: TestClient, email: str = "mia@example.com", password: str = PASSWORD) -> Any:
    return client.post(f"{API}/auth/login", json={"email": email, "password": password})


def audit(client: TestClient, **filters: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit", params=filters)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["items"]
    return rows


@pytest.fixture
def web(engine: Engine, users: dict[str, int]) -> Iterator[TestClient]:
    with browser(engine) as client:
        yield client


def test_signing_in_sets_a_secure_httponly_samesite_cookie_and_gives_a_csrf_token(
    web: TestClient,
) -> None:
    response = sign_in(web)
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag in cookie
    me = web.get(f"{API}/me").json()
    assert (me["email"], me["role"], me["credential"]) == ("mia@example.com", "manager", "session")
    assert me["csrf_token"] == response.json()["me"]["csrf_token"]
    assert "user:write" not in me["permissions"]


def test_sign_in_takes_json_only_so_another_sites_form_cannot_sign_someone_in(
    web: TestClient,
) -> None:
    form = {"email": "mia@example.com", "password": PASSWORD}
    for sent in (
        web.post(f"{API}/auth/login", data=form),
        web.post(
            f"{API}/auth/login",
            content=f'{{"email": "mia@example.com", "password": "{PASSWORD}"}}',
            headers={"Content-Type": "text/plain"},
        ),
    ):
        assert sent.status_code == 422
        assert COOKIE not in web.cookies


def test_a_wrong_email_a_wrong_password_and_a_disabled_user_answer_alike(
    engine: Engine, web: TestClient, users: dict[str, int]
) -> None:
    accounts.create_user(UnitOfWork(engine), "gone@example.com", PASSWORD, Role.VIEWER)
    accounts.update_user(
        UnitOfWork(engine),
        accounts.user_id_of(UnitOfWork(engine), "gone@example.com"),
        {"active": False},
    )
    answers = [
        sign_in(web, "nobody@example.com"),
        sign_in(web, "mia@example.com", "not the password at all"),
        sign_in(web, "gone@example.com"),
    ]
    assert {a.status_code for a in answers} == {401}
    assert len({a.text for a in answers}) == 1
    assert answers[0].json()["detail"] == "Email or password is wrong."
    assert COOKIE not in web.cookies


def test_failed_sign_ins_lock_the_account_for_a_growing_while_whatever_the_password(
    engine: Engine, web: TestClient
) -> None:
    for _ in range(5):
        assert sign_in(web, password="wrong wrong wrong").status_code == 401
    refused = sign_in(web)  # the right password, during the lock
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"  # the fifth failure locks for a second
    assert "Email or password" not in refused.text
    # The second passes: the lock's end is moved into the past rather than waited for.
    with engine.begin() as db:
        db.execute(
            text("UPDATE login_throttle SET locked_until = :past WHERE locked_until IS NOT NULL"),
            {"past": datetime.now(UTC) - timedelta(seconds=1)},
        )
    assert sign_in(web).status_code == 200  # the lock passed; success starts afresh
    for _ in range(4):
        assert sign_in(web, password="wrong wrong wrong").status_code == 401


def test_one_address_trying_many_accounts_is_locked_out(
    engine: Engine, users: dict[str, int]
) -> None:
    with browser(engine, "10.9.9.9") as attacker, browser(engine, "10.0.0.2") as other:
        for n in range(20):
            assert sign_in(attacker, f"guess{n}@example.com", "password guess").status_code == 401
        assert sign_in(attacker, "mia@example.com").status_code == 429
        assert sign_in(other, "mia@example.com").status_code == 200


def test_parallel_guesses_get_no_more_tries_than_sequential_ones(web: TestClient) -> None:
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: sign_in(web, password="parallel guess!").status_code, range(12))
        )
    assert sorted(answers) == [401] * 5 + [429] * 7


def test_a_state_changing_request_with_the_cookie_needs_the_csrf_token(
    web: TestClient,
) -> None:
    csrf = sign_in(web).json()["me"]["csrf_token"]
    body = {"code": "WH", "name": "Warehouse"}
    assert web.get(f"{API}/locations").status_code == 200
    missing = web.post(f"{API}/locations", json=body)
    wrong = web.post(f"{API}/locations", json=body, headers={"X-CSRF-Token": "guess"})
    elsewhere = web.post(
        f"{API}/locations",
        json=body,
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert (missing.status_code, wrong.status_code, elsewhere.status_code) == (403, 403, 403)
    assert web.get(f"{API}/locations", params={"physical": True}).json()["total"] == 0
    ok = web.post(
        f"{API}/locations",
        json=body,
        headers={"X-CSRF-Token": csrf, "Origin": "https://leanstock.test"},
    )
    assert ok.status_code == 201, ok.text


def test_signing_in_again_replaces_the_session(web: TestClient) -> None:
    assert sign_in(web).status_code == 200
    first = web.cookies[COOKIE]
    assert sign_in(web).status_code == 200
    assert web.cookies[COOKIE] != first
    assert web.get(f"{API}/me").status_code == 200
    web.cookies.set(COOKIE, first, domain="leanstock.test")
    assert web.get(f"{API}/me").status_code == 401


def test_signing_out_ends_the_session(web: TestClient) -> None:
    csrf = sign_in(web).json()["me"]["csrf_token"]
    cookie = web.cookies[COOKIE]
    assert web.post(f"{API}/auth/logout").status_code == 403  # no CSRF token
    assert web.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert web.get(f"{API}/me").status_code == 401
    web.cookies.set(COOKIE, cookie, domain="leanstock.test")  # a copy kept by someone
    assert web.get(f"{API}/me").status_code == 401


@pytest.mark.parametrize(
    "column", ["last_seen_at", "expires_at"], ids=["idle timeout", "absolute timeout"]
)
def test_a_session_ends_after_its_idle_and_absolute_timeouts(
    engine: Engine, web: TestClient, column: str
) -> None:
    assert sign_in(web).status_code == 200
    assert web.get(f"{API}/me").status_code == 200
    with engine.begin() as db:
        db.execute(
            text(f"UPDATE sessions SET {column} = :past"),
            {"past": datetime.now(UTC) - timedelta(hours=13)},
        )
    response = web.get(f"{API}/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "Your session has ended; sign in again."
    assert "Max-Age=0" in response.headers["set-cookie"]  # the browser forgets it


def test_tokens_expire_can_be_revoked_and_stop_with_their_user(
    engine: Engine, users: dict[str, int]
) -> None:
    uow = UnitOfWork(engine)
    mia = users["mia@example.com"]
    old = tokens.create_token(
        uow, mia, "old", lifetime=timedelta(hours=1), now=datetime.now(UTC) - timedelta(hours=2)
    )
    live = tokens.create_token(uow, mia, "live")
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as api:

        def me(secret: str) -> int:
            headers = {"Authorization": f"Bearer {secret}"}
            code: int = api.get(f"{API}/me", headers=headers).status_code
            return code

        assert (me(old.secret), me(live.secret)) == (401, 200)
        assert me(live.secret[:-1] + "x") == 401  # right prefix, wrong secret
        assert me("lst_nonsense") == 401
        listed = api.get(f"{API}/tokens", headers={"Authorization": f"Bearer {live.secret}"})
        assert live.secret not in listed.text
        assert {t["status"] for t in listed.json()["items"]} == {"expired", "active"}
        accounts.update_user(uow, mia, {"active": False})
        assert me(live.secret) == 401
        accounts.update_user(uow, mia, {"active": True})
        assert me(live.secret) == 200
        revoke = api.post(
            f"{API}/tokens/{live.token.id}/revoke",
            headers={"Authorization": f"Bearer {live.secret}"},
        )
        assert revoke.json()["status"] == "revoked"
        assert me(live.secret) == 401


def test_a_token_never_does_more_than_its_user_now(engine: Engine, users: dict[str, int]) -> None:
    uow = UnitOfWork(engine)
    mia = users["mia@example.com"]
    write = tokens.create_token(uow, mia, "write").secret
    read = tokens.create_token(uow, mia, "read", Scope.READ).secret
    body = {"sku": "CUP", "name": "Cup"}
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as api:

        def post(secret: str, sku: str) -> int:
            headers = {"Authorization": f"Bearer {secret}"}
            response = api.post(f"{API}/items", json={**body, "sku": sku}, headers=headers)
            code: int = response.status_code
            return code

        assert api.get(f"{API}/items", headers={"Authorization": f"Bearer {read}"}).is_success
        assert (post(read, "A"), post(write, "B")) == (403, 201)
        accounts.update_user(uow, mia, {"role": Role.VIEWER})
        assert post(write, "C") == 403
        # A token cannot mint tokens: a leaked one cannot outlive its revocation.
        made = api.post(
            f"{API}/tokens", json={"name": "x"}, headers={"Authorization": f"Bearer {write}"}
        )
        assert made.status_code == 403


def test_a_session_creates_a_token_shown_once(web: TestClient) -> None:
    csrf = sign_in(web).json()["me"]["csrf_token"]
    made = web.post(
        f"{API}/tokens",
        json={"name": "shop", "scope": "read", "expires_in_days": 7},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    secret = made.json()["token"]
    assert secret.startswith(made.json()["prefix"] + "_")
    assert secret not in web.get(f"{API}/tokens").text
    assert secret not in web.get(f"{API}/tokens/{made.json()['id']}").text


def test_changing_a_password_checks_the_old_one_and_ends_other_sessions(
    engine: Engine, users: dict[str, int]
) -> None:
    with browser(engine) as here, browser(engine, "10.0.0.7") as there:
        csrf = sign_in(here).json()["me"]["csrf_token"]
        assert sign_in(there).status_code == 200

        def change(current: str, new: str) -> Any:
            body = {"current_password": current, "new_password": new}
            return here.post(f"{API}/me/password", json=body, headers={"X-CSRF-Token": csrf})

        wrong = change("not my password", "a brand new passphrase")
        weak = change(PASSWORD, "password1234")
        assert (wrong.status_code, weak.status_code) == (422, 422)
        assert wrong.json()["errors"][0]["field"] == "current_password"
        assert weak.json()["errors"][0]["field"] == "new_password"
        assert change(PASSWORD, "a brand new passphrase").status_code == 204
        assert here.get(f"{API}/me").status_code == 200
        assert there.get(f"{API}/me").status_code == 401
        assert sign_in(there).status_code == 401
        assert sign_in(there, password="a brand new passphrase").status_code == 200


def test_an_owner_manages_users_and_each_change_is_audited(
    client: TestClient, engine: Engine
) -> None:
    made = client.post(
        f"{API}/users",
        json={
            "email": "Kim@Example.com",
            "password": PASSWORD,
            "role": "warehouse",
            "locations": [],
        },
    )
    assert made.status_code == 201, made.text
    kim = made.json()
    assert kim["email"] == "kim@example.com"
    weak = client.post(
        f"{API}/users", json={"email": "x@example.com", "password": "short", "role": "viewer"}
    )
    assert (weak.status_code, weak.json()["errors"][0]["field"]) == (422, "password")
    client.post(f"{API}/locations", json={"code": "WH", "name": "Warehouse"})
    changed = client.patch(
        f"{API}/users/{kim['id']}", json={"locations": ["WH"], "display_name": "Kim"}
    )
    assert changed.json()["locations"] == ["WH"]
    assert (
        client.post(f"{API}/users/{kim['id']}/password", json={"password": "x"}).status_code == 422
    )
    reset = client.post(
        f"{API}/users/{kim['id']}/password", json={"password": "kim's new long passphrase"}
    )
    assert reset.status_code == 204
    rows = audit(client, object="user:kim@example.com")
    assert [r["action"] for r in rows] == ["password_reset", "user_update", "user_create"]
    update = rows[1]
    assert update["changes"] == {"display_name": ["kim", "Kim"], "locations": [None, ["WH"]]}
    assert update["actor"] == "owner@example.com"
    assert update["credential"].startswith("token:lst_")
    assert update["request_id"]
    assert all(PASSWORD not in str(r) and "argon2" not in str(r) for r in rows)


def test_the_last_owner_can_be_neither_demoted_nor_disabled(client: TestClient) -> None:
    me = client.get(f"{API}/users", params={"role": "owner"}).json()["items"][0]
    for change in ({"role": "manager"}, {"active": False}):
        refused = client.patch(f"{API}/users/{me['id']}", json=change)
        assert refused.status_code == 409, refused.text
        assert "last active owner" in refused.json()["detail"]


def test_sign_ins_are_audited_with_request_id_and_address(
    engine: Engine, web: TestClient, client: TestClient
) -> None:
    failed = sign_in(web, password="not it, not it")
    ok = sign_in(web)
    rows = audit(client, object="user:mia@example.com")
    assert [(r["action"], r["actor"]) for r in rows[:2]] == [
        ("login", "mia@example.com"),
        ("login_failed", "anonymous"),
    ]
    assert rows[0]["request_id"] == ok.headers["X-Request-ID"]
    assert rows[1]["request_id"] == failed.headers["X-Request-ID"]
    assert rows[1]["changes"] == {"reason": "wrong password"}
    assert {(r["address"], r["credential"]) for r in rows[:2]} == {("10.0.0.1", "password")}
    assert audit(client, action="login_failed", actor="anonymous")[0]["id"] == rows[1]["id"]
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert audit(client, since=later) == []
    assert len(audit(client, until=later, object="user:mia@example.com")) == 3  # and created


def test_the_audit_log_refuses_updates_and_deletes(engine: Engine, client: TestClient) -> None:
    client.post(f"{API}/auth/login", json={"email": "x@example.com", "password": "y"})
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as db:
            db.execute(text(statement))
    with engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM audit_log")).scalar_one() >= 2


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for response in (
        client.get(f"{API}/items"),
        client.get(f"{API}/nowhere"),
        client.get(f"{API}/items", headers={"Authorization": "Bearer nope"}),
        client.get(f"{API}/health"),
    ):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Request-ID"]
        assert "Access-Control-Allow-Origin" not in headers
        assert "Strict-Transport-Security" not in headers


def test_unknown_paths_and_bad_credentials_are_401_before_anything_else(
    engine: Engine, owner_token: str
) -> None:
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as anonymous:
        assert anonymous.get(f"{API}/nowhere").status_code == 401
        assert anonymous.post(f"{API}/items", content=b"{not json").status_code == 401
        basic = anonymous.get(f"{API}/items", headers={"Authorization": "Basic b3duZXI6cHc="})
        assert basic.status_code == 401
        assert basic.headers["WWW-Authenticate"].startswith("Bearer")
        assert anonymous.get(f"{API}/health").status_code == 200


def test_a_body_over_the_limit_is_refused_unread(engine: Engine, owner_token: str) -> None:
    app = create_app(Settings(max_body_bytes=2048), engine=engine)
    headers = {"Authorization": f"Bearer {owner_token}"}
    with TestClient(app, raise_server_exceptions=False, headers=headers) as api:
        big = {"code": "WH", "name": "x" * 4000}
        assert api.post(f"{API}/locations", json=big).status_code == 413

        def chunks() -> Iterator[bytes]:
            yield b'{"code": "WH", "name": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}'

        assert api.post(f"{API}/locations", content=chunks()).status_code == 413
        assert api.get(f"{API}/locations", params={"physical": True}).json()["total"] == 0


def test_cors_answers_only_configured_origins_and_docs_can_be_turned_off(
    engine: Engine, owner_token: str
) -> None:
    settings = Settings(cors_origins=["https://shop.example"], docs=False, hsts_seconds=600)
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as api:
        preflight = {"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"}
        allowed = api.options(f"{API}/items", headers=preflight)
        assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
        other = api.options(f"{API}/items", headers={**preflight, "Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
        assert api.get("/docs").status_code == 404
        assert api.get("/openapi.json").status_code == 404
        assert (
            api.get(f"{API}/health").headers["Strict-Transport-Security"].startswith("max-age=600")
        )


def test_the_server_refuses_to_start_without_an_owner(engine: Engine) -> None:
    with pytest.raises(NoOwner), TestClient(create_app(engine=engine)):
        pass


def test_one_principals_idempotency_key_never_replays_for_another(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    other = {"Authorization": f"Bearer {token_for('mia@example.com', Role.MANAGER)}"}
    body = {"code": "WH", "name": "Warehouse"}
    key = {"Idempotency-Key": "shared-key-1"}
    first = client.post(f"{API}/locations", json=body, headers=key)
    assert first.status_code == 201
    again = client.post(f"{API}/locations", json=body, headers=key)
    assert again.headers.get("Idempotent-Replayed") == "true"
    theirs = client.post(f"{API}/locations", json=body, headers={**key, **other})
    assert theirs.status_code == 422
    assert "Idempotent-Replayed" not in theirs.headers


def test_a_warehouse_user_reads_and_acts_at_their_own_locations_only(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    for code in ("WH", "STORE"):
        client.post(f"{API}/locations", json={"code": code, "name": code})
    client.post(f"{API}/items", json={"sku": "CUP", "name": "Cup"})
    for code in ("WH", "STORE"):
        client.post(f"{API}/stock/receipts", json={"sku": "CUP", "location": code, "quantity": 5})
    kim = {
        "Authorization": f"Bearer {token_for('kim@example.com', Role.WAREHOUSE, locations=['WH'])}"
    }
    everywhere = client.get(f"{API}/stock", headers=kim)
    assert [row["location"] for row in everywhere.json()["items"]] == ["WH"]
    assert everywhere.json()["total"] == 1
    mine = client.get(f"{API}/stock", params={"location": "WH"}, headers=kim)
    assert [row["location"] for row in mine.json()["items"]] == ["WH"]
    theirs = client.get(f"{API}/stock", params={"location": "STORE"}, headers=kim)
    missing = client.get(f"{API}/stock", params={"location": "MARS"}, headers=kim)
    assert (theirs.status_code, missing.status_code) == (404, 404)
    assert theirs.json()["detail"] == "No location STORE exists."
    ship = {"sku": "CUP", "location": "STORE", "quantity": 1}
    refused = client.post(f"{API}/stock/shipments", json=ship, headers=kim)
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "location")
    assert (
        client.post(
            f"{API}/stock/shipments", json={**ship, "location": "WH"}, headers=kim
        ).status_code
        == 201
    )
