"""An app that is done with is freed, with its engine: nothing module-level keeps it.

FastAPI keeps the endpoint functions it has classified in module-level caches (4,096 of them);
an endpoint closing over its app kept every app of a process alive, each with its engine, pool
and compiled-statement cache. In the test suite (an app a test) that grew each worker's heap by
thousands of objects a test, and Python's garbage collector, walking the whole heap, slowed
every test after it (docs/development.md, "How the suite is kept fast")."""

from __future__ import annotations

import gc
import weakref

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from leanstock.adapters.db.engine import make_engine
from leanstock.entrypoints.api.app import create_app


def test_an_app_and_its_engine_are_freed_once_dropped(db_url: str, owner_token: str) -> None:
    engine: Engine | None = make_engine(db_url)
    app = create_app(engine=engine)
    with TestClient(app, headers={"Authorization": f"Bearer {owner_token}"}) as client:
        # A route of each kind: the API, the docs pages, the OpenAPI document, a web page.
        for path in ("/api/v1/items", "/docs", "/redoc", "/openapi.json", "/login"):
            assert client.get(path).status_code == 200, path
    assert engine is not None
    engine.dispose()
    app_ref, engine_ref = weakref.ref(app), weakref.ref(engine)
    del app, client, engine
    gc.collect()
    assert app_ref() is None, [type(r).__name__ for r in gc.get_referrers(app_ref())]
    assert engine_ref() is None
