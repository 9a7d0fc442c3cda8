"""`leanstock post FILE`: a till's or a warehouse's file of stock documents, on both databases."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leanstock.adapters.db.uow import UnitOfWork
from leanstock.domain.catalog import Item, Location, LocationKind
from leanstock.entrypoints.cli import app
from leanstock.entrypoints.cli.app import console, err_console
from leanstock.services import catalog, queries, stock

runner = CliRunner()


@pytest.fixture
def shop(uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch) -> UnitOfWork:
    monkeypatch.setattr(console, "width", 250)
    monkeypatch.setattr(err_console, "width", 250)
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_location(uow, Location("STORE", "Store", LocationKind.STORE))
    catalog.add_item(uow, Item("CUP", "Paper cup"))
    catalog.add_item(uow, Item("LID", "Lid"))
    stock.receive(uow, "CUP", "WH", Decimal(10))
    return uow


def post(db_url: str, path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", db_url, "post", str(path)])
    return result.exit_code, result.output


def on_hand(uow: UnitOfWork, sku: str, location: str) -> Decimal:
    rows = queries.stock(uow, sku, location).items
    return Decimal(rows[0]["on_hand"]) if rows else Decimal(0)


def test_a_csv_file_posts_its_documents_and_lists_the_refused_ones(
    shop: UnitOfWork, db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "end-of-day.csv"
    file.write_text(
        "kind,document,location,source,target,sku,quantity,counted,reason\n"
        "receipt,D1,WH,,,CUP,5,,\n"
        "receipt,D1,WH,,,LID,8,,\n"
        "shipment,D2,WH,,,CUP,100,,\n"
        "transfer,D3,,WH,STORE,CUP,6,,\n"
        "count,,STORE,,,CUP,,4,\n"
        "scrap,,WH,,,LID,1,,bored\n"
        "shipment,D4,WH,,,LID,1,,\n"
        "shipment,D4,STORE,,,CUP,1,,\n",
        encoding="utf-8",
    )

    code, out = post(db_url, file)

    assert code == 1
    assert "6 document(s) read: 3 posted" in out
    assert "3 refused" in out
    assert "Not enough stock" in out  # D2, at row 4
    assert "reason" in out  # the scrap's unknown reason
    assert "same on all its rows" in out  # D4 names two locations
    assert on_hand(shop, "CUP", "WH") == 9
    assert on_hand(shop, "CUP", "STORE") == 4
    assert on_hand(shop, "LID", "WH") == 8


def test_a_json_lines_file_posts_every_good_document(
    shop: UnitOfWork, db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "till-7.jsonl"
    sales = [
        {"kind": "shipment", "location": "WH", "sku": "CUP", "quantity": 1, "reason": "sale"}
        for _ in range(4)
    ]
    file.write_text("\n".join(json.dumps(s) for s in sales) + "\n\n", encoding="utf-8")

    code, out = post(db_url, file)

    assert code == 0, out
    assert "4 document(s) read: 4 posted (4 moves), 0 refused." in out
    assert on_hand(shop, "CUP", "WH") == 6


def test_a_line_that_is_not_json_is_refused_alone(
    shop: UnitOfWork, db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "feed.jsonl"
    file.write_text(
        '{"kind": "shipment", "location": "WH", "sku": "CUP", "quantity": 2}\n{"kind": \n',
        encoding="utf-8",
    )

    code, out = post(db_url, file)

    assert code == 1
    assert "is not JSON" in out
    assert on_hand(shop, "CUP", "WH") == 8


def test_the_same_file_posted_twice_is_posted_once_unless_asked_again(
    shop: UnitOfWork, db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "till-7.csv"
    file.write_text(
        "kind,location,sku,quantity\nshipment,WH,CUP,2\nshipment,WH,CUP,100\n", encoding="utf-8"
    )

    first = post(db_url, file)
    second = post(db_url, file)  # the end-of-day job retried after a timeout

    assert first[0] == second[0] == 1  # one document refused, both times
    assert "2 document(s) read: 1 posted (1 moves), 1 refused." in first[1]
    assert "posted before with the same content" in second[1]
    assert "nothing was posted again" in second[1]
    assert "2 document(s) read: 1 posted (1 moves), 1 refused." in second[1]  # the first report
    assert "Not enough stock" in second[1]
    assert on_hand(shop, "CUP", "WH") == 8

    again = runner.invoke(app, ["--database", db_url, "post", str(file), "--again"])
    assert again.exit_code == 1, again.output
    assert "1 posted" in again.output
    assert on_hand(shop, "CUP", "WH") == 6

    # The same content under another name is the same file; other content is not.
    copy = tmp_path / "copy.csv"
    copy.write_bytes(file.read_bytes())
    assert "nothing was posted again" in post(db_url, copy)[1]
    other = tmp_path / "till-8.csv"
    other.write_text("kind,location,sku,quantity\nshipment,WH,CUP,1\n", encoding="utf-8")
    assert post(db_url, other)[0] == 0
    assert on_hand(shop, "CUP", "WH") == 5


def test_a_key_names_one_file_and_bad_options_change_nothing(
    shop: UnitOfWork, db_url: str, tmp_path: Path
) -> None:
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    one.write_text('{"kind": "shipment", "location": "WH", "sku": "CUP", "quantity": 1}\n')
    two.write_text('{"kind": "shipment", "location": "WH", "sku": "CUP", "quantity": 3}\n')

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--database", db_url, "post", *args])
        return result.exit_code, result.output

    assert run(str(one), "--key", "2026-12-01 till 7")[0] == 0
    code, out = run(str(two), "--key", "2026-12-01 till 7")
    assert code == 2
    assert "was used for another file or request" in out
    assert "key of its own" in out  # the fix
    assert run(str(two), "--key", "")[0] == 2
    assert run(str(two), "--key", "k", "--again")[0] == 2
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes('{"kind": "shipment", "note": "caf\xe9"}\n'.encode("latin-1"))
    code, out = run(str(bad))
    assert code == 2
    assert "not UTF-8" in out
    assert on_hand(shop, "CUP", "WH") == 9
