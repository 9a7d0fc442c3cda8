"""The import page over HTTP: check a file (problems by row and column, nothing changed), then
import it; who may, and that the form proves it came from our page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from test_web import browser, db_url, shop

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.errors import NotFound
from leanstock.services import catalog, customers

__all__ = ["browser", "db_url", "shop"]

BAD = b"code,name,priority\nBISTRO,Bistro,2\nDELI,,3\nCAFE,Cafe,12\n"
GOOD = b"code,name,priority\nBISTRO,Bistro,2\nDELI,The Deli,3\n"


def token(page: str) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert found, "the page carries the session's CSRF token for HTMX"
    return str(found.group(1))


def post(web: TestClient, kind: str, data: bytes, action: str, name: str = "c.csv") -> str:
    csrf = token(web.get("/imports").text)
    response = web.post(
        "/imports",
        data={"kind": kind, "action": action},
        files={"file": (name, data, "text/csv")},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert response.status_code == 200, response.text
    return str(response.text)


def cells(html: str) -> list[tuple[str, str]]:
    rows = re.findall(
        r'<td class="num" data-label="Row">([^<]*)</td><td data-label="Column">([^<]*)</td>', html
    )
    return [(r, c) for r, c in rows]


def test_a_checked_file_shows_its_problems_by_row_and_column_and_changes_nothing(
    browser: Callable[[str | None], TestClient], shop: dict[str, str], engine: Engine
) -> None:
    web = browser("manager")
    html = post(web, "customers", BAD, "check")
    assert cells(html) == [("3", "name"), ("4", "priority")]
    assert "needs a name" in html
    assert "priority 12 is out of range" in html
    html = post(web, "customers", BAD, "apply")  # importing it anyway: still nothing
    assert "nothing was imported" in html
    uow = UnitOfWork(engine)
    assert customers.list_customers(uow).total == 0


def test_a_good_file_is_checked_then_imported(
    browser: Callable[[str | None], TestClient], shop: dict[str, str], engine: Engine
) -> None:
    web = browser("owner")
    html = post(web, "customers", GOOD, "check")
    assert "No problems in 2 rows of customers" in html
    assert "would create 2" in html
    uow = UnitOfWork(engine)
    assert customers.list_customers(uow).total == 0
    html = post(web, "customers", GOOD, "apply")
    assert "Imported customers: 2 created, 0 updated, 0 unchanged" in html
    assert customers.get_customer(uow, "DELI").priority == 3
    html = post(web, "barcodes", b"sku,barcode\nMILK,4006381333931\n", "apply")
    assert "1 created" in html
    assert catalog.get_item(uow, "4006381333931").sku == "MILK"


def test_no_kind_or_no_file_or_a_wrong_file_is_said_plainly(
    browser: Callable[[str | None], TestClient], shop: dict[str, str]
) -> None:
    web = browser("manager")
    assert "Choose what the file holds." in post(web, "", GOOD, "check")
    assert "Unknown import kind" in post(web, "things", GOOD, "check")
    assert ".csv or .xlsx" in post(web, "customers", GOOD, "check", name="c.pdf")


def test_only_who_may_import_sees_the_page_and_a_post_needs_the_pages_token(
    browser: Callable[[str | None], TestClient], shop: dict[str, str], engine: Engine
) -> None:
    assert browser("viewer").get("/imports").status_code == 403
    assert browser("buyer").get("/imports").status_code == 403
    assert 'href="/imports"' not in browser("viewer").get("/").text
    manager = browser("manager")
    assert 'href="/imports"' in manager.get("/").text
    refused = manager.post(
        "/imports",
        data={"kind": "customers", "action": "apply"},
        files={"file": ("c.csv", GOOD, "text/csv")},
    )
    assert refused.status_code == 403
    with pytest.raises(NotFound):
        customers.get_customer(UnitOfWork(engine), "DELI")
