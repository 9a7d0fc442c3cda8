"""Users, tokens, the first owner and the audit trail from the command line."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leanstock.adapters.db.engine import make_engine
from leanstock.entrypoints.api.app import create_app
from leanstock.entrypoints.cli import app

runner = CliRunner()
PASSWORD = "correct horse battery staple\n"


def leanstock(db: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", f"sqlite:///{db}", *args], input=stdin)
    return result.exit_code, result.output


def test_a_new_database_needs_its_first_owner_before_it_serves(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    code, out = leanstock(db, "init")
    assert code == 0
    assert "No owner yet" in out
    code, out = leanstock(db, "serve", "--port", "1")
    assert code == 2
    assert "no active owner" in " ".join(out.split())
    code, out = leanstock(
        db, "init", "--owner", "boss@example.com", "--password-stdin", stdin="password1234\n"
    )
    assert code == 2
    assert "too common" in " ".join(out.split())
    code, out = leanstock(
        db, "init", "--owner", "Boss@Example.com", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, out
    assert "Owner boss@example.com created" in out
    assert "No owner yet" not in leanstock(db, "init")[1]


def test_users_and_tokens_are_managed_and_audited_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    leanstock(db, "init", "--owner", "boss@example.com", "--password-stdin", stdin=PASSWORD)
    leanstock(db, "add-location", "WH", "Warehouse")
    code, out = leanstock(
        db,
        "user",
        "create",
        "kim@example.com",
        "--role",
        "warehouse",
        "--location",
        "WH",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert code == 0, out
    code, out = leanstock(
        db,
        "user",
        "create",
        "sup@example.com",
        "--role",
        "supplier",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert (code, "needs the supplier" in " ".join(out.split())) == (2, True)
    code, out = leanstock(db, "user", "list")
    assert "kim@example.com" in out
    assert "WH" in out

    code, out = leanstock(
        db, "token", "create", "--user", "kim@example.com", "--name", "scanner", "--expires", "30d"
    )
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    assert token.startswith("lst_")
    prefix = "_".join(token.split("_")[:2])
    code, listed = leanstock(db, "token", "list")
    assert prefix in listed
    assert token not in listed

    engine = make_engine(f"sqlite:///{db}")
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as api:
        headers = {"Authorization": f"Bearer {token}"}
        me = api.get("/api/v1/me", headers=headers).json()
        assert (me["email"], me["role"], me["locations"]) == (
            "kim@example.com",
            "warehouse",
            ["WH"],
        )
        assert leanstock(db, "user", "set-role", "kim@example.com", "viewer")[0] == 0
        assert api.get("/api/v1/me", headers=headers).json()["role"] == "viewer"
        assert leanstock(db, "user", "disable", "kim@example.com")[0] == 0
        assert api.get("/api/v1/me", headers=headers).status_code == 401
        assert leanstock(db, "user", "enable", "kim@example.com")[0] == 0
        assert leanstock(db, "token", "revoke", prefix)[0] == 0
        assert api.get("/api/v1/me", headers=headers).status_code == 401
    engine.dispose()

    code, out = leanstock(db, "user", "disable", "boss@example.com")
    assert (code, "last active owner" in " ".join(out.split())) == (2, True)
    code, out = leanstock(
        db,
        "user",
        "reset-password",
        "kim@example.com",
        "--password-stdin",
        stdin="another long passphrase\n",
    )
    assert code == 0, out
    code, out = leanstock(db, "audit", "--object", "user:kim@example.com")
    assert code == 0
    for action in ("user_create", "user_update", "password_reset"):
        assert action in out
    assert "cli:" in out
    code, out = leanstock(db, "audit", "--action", "token_revoke")
    assert prefix in out
