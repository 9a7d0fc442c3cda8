"""The interactive API docs work offline: every asset comes from Leanstock itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

import leanstock
from leanstock.entrypoints.api import openapi
from leanstock.entrypoints.api.app import create_app


@pytest.fixture
def browser(engine: Engine, owner_token: str) -> Iterator[TestClient]:
    """A client with no credentials, as a browser opening /docs is (the database has an owner,
    which the server needs to start, but the client does not send the owner's token)."""
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as anonymous:
        yield anonymous


class Assets(HTMLParser):
    """Every src and href a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_nothing_from_another_host(browser: TestClient, page: str) -> None:
    response = browser.get(page)
    assert response.status_code == 200
    html = response.text
    assert re.findall(r"(?:https?:)?//[\w.-]+\.\w+", html) == []
    policy = response.headers["content-security-policy"]
    assert "http" not in policy, "the page may load only from this server"
    parser = Assets()
    parser.feed(html)
    assert parser.urls, "the page loads its scripts and styles"
    for url in parser.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = browser.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url


def test_the_swagger_ui_does_not_send_the_spec_to_a_validator(browser: TestClient) -> None:
    assert '"validatorUrl": null' in browser.get("/docs").text


def test_the_openapi_document_carries_the_package_version(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["version"] == leanstock.__version__


def test_an_app_gets_its_own_copy_of_the_document_built_from_what_it_has() -> None:
    first, second, renamed = create_app(), create_app(), create_app()
    built = first.openapi()
    served = second.openapi()  # a copy of the first app's, not built again
    fresh = openapi._build(second)
    assert served == fresh
    served["info"]["title"] = "Changed by a reader"
    assert first.openapi()["info"]["title"] == built["info"]["title"] != "Changed by a reader"
    renamed.version = "0.0.0-other"
    assert renamed.openapi()["info"]["version"] == "0.0.0-other"
    # Built for its own version: the fresh build above with that version, nothing else changed
    # (one build fewer than building this app's afresh too: a build is about a CPU-second).
    assert renamed.openapi() == {**fresh, "info": {**fresh["info"], "version": "0.0.0-other"}}
