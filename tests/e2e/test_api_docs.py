"""The interactive API docs work offline: every asset comes from Leanstock itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

import leanstock


class Assets(HTMLParser):
    """Every src and href a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_nothing_from_another_host(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert re.findall(r"(?:https?:)?//[\w.-]+\.\w+", html) == []
    parser = Assets()
    parser.feed(html)
    assert parser.urls, "the page loads its scripts and styles"
    for url in parser.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url


def test_the_swagger_ui_does_not_send_the_spec_to_a_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text


def test_the_openapi_document_carries_the_package_version(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["version"] == leanstock.__version__
