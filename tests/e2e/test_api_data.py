"""Imports and exports over HTTP: an upload, its report or its problems, a download."""

from __future__ import annotations

import io
import json

import httpx
from fastapi.testclient import TestClient
from openpyxl import load_workbook

API = "/api/v1"
ITEMS = b"Item Code,Description,uom\nCUP,Paper cup,each\nLID,Lid,each\n"


def upload(client: TestClient, kind: str, name: str, data: bytes, **form: str) -> httpx.Response:
    response: httpx.Response = client.post(
        f"{API}/imports/{kind}", files={"file": (name, data)}, data=form
    )
    return response


def test_a_file_uploads_and_its_export_downloads_as_xlsx(client: TestClient) -> None:
    response = upload(client, "items", "items.csv", ITEMS)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    download = client.get(f"{API}/exports/items", params={"format": "xlsx"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(download.content)).worksheets[0].values)
    assert rows[0][:3] == ("sku", "name", "unit")
    assert [r[0] for r in rows[1:]] == ["CUP", "LID"]
    again = upload(client, "items", "items.xlsx", download.content)
    assert again.json() == {
        "kind": "items",
        "rows": 2,
        "dry_run": False,
        "applied": True,
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "ignored_columns": [],
        "notes": [],
    }


def test_problems_come_back_by_row_and_column_and_nothing_is_imported(
    client: TestClient,
) -> None:
    bad = b"sku,name,shelf_life_days\nCUP,Cup,\nCUP,Cup again,\nJAR,Jar,ten\n"
    response = upload(client, "items", "items.csv", bad, dry_run="true")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"row": 3, "column": "sku", "message": "CUP is on row 2 already: keep one row for it."},
        {
            "row": 4,
            "column": "shelf_life_days",
            "message": "'ten' is not a number: write digits with a '.' for decimals (1234.5).",
        },
    ]
    assert client.get(f"{API}/items").json()["total"] == 0


def test_a_mapping_names_columns_no_alias_matches(client: TestClient) -> None:
    data = b"Artikel,Bezeichnung\nCUP,Becher\n"
    mapping = json.dumps({"Artikel": "sku", "Bezeichnung": "name"})
    response = upload(client, "items", "a.csv", data, mapping=mapping)
    assert response.status_code == 200, response.text
    assert client.get(f"{API}/items/CUP").json()["name"] == "Becher"
    wrong = upload(client, "items", "a.csv", data, mapping="[1]")
    assert wrong.status_code == 422
    assert "JSON object" in wrong.json()["detail"]


def test_hostile_files_get_a_reason_never_a_500(client: TestClient) -> None:
    latin = "sku,name\nCAFÉ,Café\n".encode("latin-1")
    cases = [
        ("items.csv", latin, "not UTF-8"),
        ("items.xlsx", b"PK\x03\x04 not really", "not an XLSX workbook"),
        ("items.ods", b"whatever", ".csv or .xlsx"),
    ]
    for name, data, words in cases:
        response = upload(client, "items", name, data)
        assert response.status_code == 422, response.text
        assert words in response.json()["detail"]
    unknown = upload(client, "widgets", "w.csv", b"a\n1\n")
    assert unknown.status_code == 422
    assert "Unknown import kind" in unknown.json()["detail"]


def test_a_template_lists_the_columns_with_an_example(client: TestClient) -> None:
    response = client.get(f"{API}/imports/supplier-terms/template")
    assert response.status_code == 200
    header, example = response.text.strip().splitlines()
    assert header.split(",")[:3] == ["supplier", "sku", "price"]
    assert "50:17.90; 200:17.20" in example
