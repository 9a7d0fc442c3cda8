"""EDI's transports: `POST /edi/inbound` answers with the 997; `leanstock edi watch DIR --once`
and `leanstock edi outbound DIR` move files; on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from edi_documents import acknowledgement, interchange
from leanstock.adapters.db.uow import UnitOfWork
from leanstock.adapters.edi import x12
from leanstock.domain.access import Role
from leanstock.domain.catalog import Item, Location, Supplier, SupplierItem
from leanstock.entrypoints.cli import app
from leanstock.services import catalog, edi, purchasing

runner = CliRunner()


def _released(uow: UnitOfWork) -> str:
    catalog.add_location(uow, Location("WH", "Warehouse"))
    catalog.add_item(uow, Item("CUP", "Cup"))
    catalog.add_supplier(uow, Supplier("ACME", "Acme"))
    catalog.add_supplier(uow, Supplier("RIVAL", "Rival"))
    catalog.add_supplier_item(uow, SupplierItem("ACME", "CUP", Decimal("1.5"), 3))
    edi.set_partner(uow, "ACME", "ZZ", "ACMEEDI", "ACMEEDI")
    order = purchasing.add_to_draft(
        uow, "ACME", [purchasing.NewPurchaseLine("CUP", Decimal(10), "WH")]
    )
    purchasing.release(uow, order.number)
    return order.number


def test_the_api_answers_an_interchange_with_its_997(uow: UnitOfWork, client: TestClient) -> None:
    number = _released(uow)
    text = interchange([acknowledgement(number, [(1, "CUP", "10", "20261205")])], 3)
    response = client.post(
        "/api/v1/edi/inbound", content=text, headers={"Content-Type": "application/edi-x12"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/edi-x12")
    assert response.headers["Leanstock-EDI-Status"] == "accepted"
    ack = x12.read(response.text)
    assert ack.sound
    assert [s.id for s in ack.groups[0].sets[0].segments][-1] == "AK9"
    again = client.post("/api/v1/edi/inbound", content=text)
    assert (again.headers["Leanstock-EDI-Status"], again.text) == ("duplicate", response.text)
    logged = client.get(f"/api/v1/edi/interchanges/{again.headers['Leanstock-EDI-Interchange']}")
    assert logged.json()["status"] == "duplicate"
    assert purchasing.get_purchase_order(uow, number).status == "acknowledged"


def test_the_api_refuses_text_that_is_no_interchange_with_a_problem(client: TestClient) -> None:
    response = client.post("/api/v1/edi/inbound", content=b"UNA:+.? '")
    assert response.status_code == 422
    assert "starts with an ISA segment" in response.json()["detail"]


def test_a_supplier_user_sends_its_own_interchanges_and_reads_its_own_log(
    uow: UnitOfWork, client: TestClient, token_for: object
) -> None:
    number = _released(uow)
    make = token_for
    assert callable(make)
    own = make("acme@example.com", Role.SUPPLIER, supplier="ACME")
    other = make("rival@example.com", Role.SUPPLIER, supplier="RIVAL")
    text = interchange([acknowledgement(number, [(1, "CUP", "10", "20261205")])], 4)
    refused = client.post(
        "/api/v1/edi/inbound", content=text, headers={"Authorization": f"Bearer {other}"}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == "No trading partner ZZ:ACMEEDI exists."
    sent = client.post(
        "/api/v1/edi/inbound", content=text, headers={"Authorization": f"Bearer {own}"}
    )
    assert sent.headers["Leanstock-EDI-Status"] == "accepted"
    mine = client.get("/api/v1/edi/interchanges", headers={"Authorization": f"Bearer {own}"})
    theirs = client.get("/api/v1/edi/interchanges", headers={"Authorization": f"Bearer {other}"})
    assert [r["supplier"] for r in mine.json()["items"]] == ["ACME"]
    assert theirs.json()["items"] == []


def test_the_watched_folder_files_each_interchange_and_writes_its_997(
    db_url: str, uow: UnitOfWork, tmp_path: Path
) -> None:
    number = _released(uow)
    good = interchange([acknowledgement(number, [(1, "CUP", "10", "20261205")])], 5)
    bad = good.replace("IEA*1*000000005", "IEA*1*000000006").replace("*000000005*", "*000000007*")
    (tmp_path / "good.x12").write_text(good)
    (tmp_path / "bad.edi").write_text(bad)
    (tmp_path / "junk.txt").write_text("not edi at all")
    (tmp_path / "notes.md").write_text("left alone")
    result = runner.invoke(app, ["--database", db_url, "edi", "watch", str(tmp_path), "--once"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == ["good.x12"]
    assert sorted(p.name for p in (tmp_path / "rejected").iterdir()) == ["bad.edi", "junk.txt"]
    acks = {p.name: p.read_text() for p in (tmp_path / "acknowledgements").iterdir()}
    assert set(acks) == {"good.997", "bad.997"}
    assert "AK9*A*" in acks["good.997"]
    assert "TA1*000000007*" in acks["bad.997"]
    assert "*R*001~" in acks["bad.997"]  # ISA13 and IEA02 differ
    assert (tmp_path / "notes.md").exists()
    assert "good.x12: accepted" in result.output
    assert "bad.edi: rejected" in result.output


def test_outbound_writes_each_released_order_once(
    db_url: str, uow: UnitOfWork, tmp_path: Path
) -> None:
    number = _released(uow)
    result = runner.invoke(app, ["--database", db_url, "edi", "outbound", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [written] = list(tmp_path.iterdir())
    assert written.name.startswith("850_ACME_")
    read = x12.read(written.read_text())
    assert read.sound
    assert f"BEG*00*SA*{number}" in written.read_text()
    again = runner.invoke(app, ["--database", db_url, "edi", "outbound", str(tmp_path)])
    assert "No released purchase order" in again.output
    assert len(list(tmp_path.iterdir())) == 1


def test_our_ids_are_shown_and_set(db_url: str) -> None:
    shown = runner.invoke(app, ["--database", db_url, "edi", "ids"])
    assert "We trade by EDI as ZZ:LEANSTOCK (group LEANSTOCK)." in shown.output
    changed = runner.invoke(
        app, ["--database", db_url, "edi", "ids", "--id", "bakery01", "--qualifier", "01"]
    )
    assert changed.exit_code == 0, changed.output
    assert "01:BAKERY01 (group BAKERY01)" in changed.output
    refused = runner.invoke(
        app, ["--database", db_url, "edi", "ids", "--id", "x", "--qualifier", "99"]
    )
    assert refused.exit_code == 2
    assert "ISA qualifier must be one of" in refused.output
