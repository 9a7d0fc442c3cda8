"""Reading and writing spreadsheets: what a person's file looks like, and hostile files."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from leanstock.adapters.files import spreadsheets
from leanstock.adapters.files.spreadsheets import format_of, read_sheet, write_sheet
from leanstock.domain.errors import InvalidInput
from leanstock.services.imports.fields import Sheet


def xlsx(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_csv_is_read_as_text_with_empty_cells_as_none() -> None:
    sheet = read_sheet("\ufeffsku,qty, note \nA,007,\n B ,1.50,  \n".encode(), "csv")
    assert sheet.columns == ["sku", "qty", " note "]
    assert sheet.rows == [["A", "007", None], ["B", "1.50", None]]


def test_a_csv_that_is_not_utf8_is_refused_saying_how_to_save_it() -> None:
    with pytest.raises(InvalidInput, match=r"not UTF-8.*CSV UTF-8"):
        read_sheet("sku,name\nCAFÉ,Café\n".encode("latin-1"), "csv")


def test_a_ragged_csv_is_refused_naming_the_cause() -> None:
    with pytest.raises(InvalidInput, match="as many columns as the header"):
        read_sheet(b"sku,name\nA,Apple,extra,more\n", "csv")


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        read_sheet(b"  \n", "csv")


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spreadsheets, "MAX_BYTES", 1024)
    with pytest.raises(InvalidInput, match="split it"):
        read_sheet(b"sku\n" + b"A\n" * 1000, "csv")


def test_too_many_rows_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 10)
    with pytest.raises(InvalidInput, match="11 rows"):
        read_sheet(b"sku\n" + b"A\n" * 11, "csv")


def test_xlsx_cells_become_the_text_a_person_typed() -> None:
    from datetime import date, datetime

    data = xlsx(
        ["sku", "qty", "price", "on", "active", "blank"],
        ["A", 12, 0.1, date(2026, 3, 31), True, None],
        ["B", 12.0, 1.25, datetime(2026, 4, 1), False, None],
    )
    sheet = read_sheet(data, "xlsx")
    assert sheet.columns == ["sku", "qty", "price", "on", "active", "blank"]
    assert sheet.rows == [
        ["A", "12", "0.1", "2026-03-31", "true", None],
        ["B", "12", "1.25", "2026-04-01", "false", None],
    ]


def test_an_xlsx_with_formulas_is_refused_naming_the_cells() -> None:
    data = xlsx(["sku", "qty"], ["A", "=1+1"], ["B", '=HYPERLINK("http://evil","x")'])
    with pytest.raises(InvalidInput, match=r"formulas \(B2, B3\).*paste them as values"):
        read_sheet(data, "xlsx")


def test_a_file_that_is_not_a_workbook_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not an XLSX workbook"):
        read_sheet(b"sku,name\nA,Apple\n", "xlsx")
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(InvalidInput, match="cannot be read"):
        read_sheet(broken.getvalue(), "xlsx")


def test_a_workbook_that_unpacks_to_too_much_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 5_000_000)
    assert len(bomb.getvalue()) < 50_000
    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED", 1_000_000)
    with pytest.raises(InvalidInput, match="unpacks to"):
        read_sheet(bomb.getvalue(), "xlsx")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_what_is_written_reads_back_the_same_and_text_never_becomes_a_formula(fmt: str) -> None:
    sheet = Sheet(["sku", "name"], [["A", "=1+1"], ["B", None], ["C", 'Ünïcödé, "quoted"']])
    data = write_sheet(sheet, fmt)
    assert read_sheet(data, fmt) == sheet
    if fmt == "xlsx":
        cell = load_workbook(io.BytesIO(data)).worksheets[0]["B2"]
        assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_the_format_comes_from_the_name_or_is_asked_for() -> None:
    assert format_of("Items.XLSX") == "xlsx"
    assert format_of("items.txt", "csv") == "csv"
    with pytest.raises(InvalidInput, match=r"\.csv or \.xlsx"):
        format_of("items.ods")
