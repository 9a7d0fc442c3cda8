"""`GET /api/v1/health`: 200 when the database answers and its schema is current, 503 with the
reason otherwise; no sign-in needed. On SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from leanstock import __version__
from leanstock.adapters.db.engine import alembic_config, head_revision, make_engine
from leanstock.entrypoints.api.app import create_app

HEALTH = "/api/v1/health"


def test_health_is_ok_on_a_current_schema_without_signing_in(
    engine: Engine, owner_token: str
) -> None:
    with TestClient(create_app(engine=engine)) as anonymous:
        answer = anonymous.get(HEALTH)
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "version": __version__,
        "checks": {"database": "ok", "schema": "ok"},
    }
    assert answer.headers["X-Request-ID"]


def test_health_is_503_with_the_reason_on_an_older_schema(
    engine: Engine, client: TestClient
) -> None:
    older = f"{int(head_revision()) - 1:04d}"
    command.downgrade(alembic_config(engine), older)

    answer = client.get(HEALTH)
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["Retry-After"] == "10"
    body = answer.json()
    assert body["title"] == "Not ready"
    assert body["checks"] == {"database": "ok", "schema": older}
    assert f"schema is {older}" in body["detail"]
    assert "run `leanstock init` to upgrade it" in body["detail"]


def test_health_is_503_when_the_database_does_not_answer(
    engine: Engine, client: TestClient
) -> None:
    app = client.app
    gone = make_engine("sqlite:////nonexistent-folder/leanstock.db")
    app.state.engine = gone  # type: ignore[attr-defined]
    try:
        answer = client.get(HEALTH)
    finally:
        app.state.engine = engine  # type: ignore[attr-defined]
        gone.dispose()
    assert answer.status_code == 503
    body = answer.json()
    assert body["checks"] == {"database": "unreachable", "schema": "unknown"}
    assert body["detail"].startswith("The database does not answer (OperationalError:")
    assert client.get(HEALTH).status_code == 200


def test_the_openapi_document_declares_the_503(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][HEALTH]["get"]
    assert set(operation["responses"]) >= {"200", "503"}
