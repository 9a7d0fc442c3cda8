"""Read a CSV or XLSX file into rows of text, and write rows back out.

Parsing is left to kept libraries (polars' CSV reader, openpyxl); this module only guards
them against hostile files and hands every cell over as text (or None when empty), so the
import rules judge one shape whatever the format. A file is refused, with the reason, when
it is too big, not UTF-8, not a spreadsheet, or holds formulas (whose values a file may fake).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from leanstock.domain.errors import InvalidInput
from leanstock.services.imports.fields import Sheet

MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_UNPACKED = 512 * 1024 * 1024  # what an XLSX may inflate to (a zip bomb is refused)
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def format_of(filename: str | None, declared: str | None = None) -> str:
    """`csv` or `xlsx`, from an explicit format or the file name's extension."""
    found = (declared or (filename or "").rsplit(".", 1)[-1]).lower().strip()
    if found not in FORMATS:
        raise InvalidInput(
            f"Cannot tell the format of {filename or 'the file'!s}: name it .csv or .xlsx "
            "(or give the format).",
            "file",
        )
    return found


def read_sheet(data: bytes, fmt: str) -> Sheet:
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            f"The file is {len(data) // (1024 * 1024)} MiB; at most {MAX_BYTES // (1024 * 1024)} "
            "MiB can be imported at once: split it.",
            "file",
        )
    sheet = _read_csv(data) if fmt == "csv" else _read_xlsx(data)
    if not sheet.columns:
        raise InvalidInput("The file is empty: the first row must name the columns.", "file")
    if len(sheet.rows) > MAX_ROWS:
        raise InvalidInput(
            f"The file has {len(sheet.rows)} rows; at most {MAX_ROWS} can be imported at once: "
            "split it.",
            "file",
        )
    return sheet


def _read_csv(data: bytes) -> Sheet:
    import polars as pl

    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"The file is not UTF-8 text (byte {error.start} cannot be read): save it as "
            "'CSV UTF-8' and import it again.",
            "file",
        ) from None
    if not content.strip():
        return Sheet([], [])
    try:
        frame = pl.read_csv(
            io.StringIO(content),
            infer_schema=False,
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidInput(
            f"The file cannot be read as CSV ({first}): check that every row has as many "
            "columns as the header, separated by commas.",
            "file",
        ) from None
    columns = [str(c) for c in frame.columns]
    rows = [[_blank(v) for v in row] for row in frame.iter_rows()]
    return Sheet(columns, rows)


def _blank(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def _read_xlsx(data: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise InvalidInput(
            "The file is not an XLSX workbook: save it as Excel Workbook (.xlsx) or as CSV.",
            "file",
        ) from None
    if unpacked > MAX_UNPACKED:
        raise InvalidInput(
            f"The workbook unpacks to {unpacked // (1024 * 1024)} MiB; at most "
            f"{MAX_UNPACKED // (1024 * 1024)} MiB can be imported: split it.",
            "file",
        )
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds on a broken workbook
        raise InvalidInput(
            f"The workbook cannot be read ({type(error).__name__}): open it in a spreadsheet "
            "program, save it as .xlsx again, or export CSV.",
            "file",
        ) from None
    try:
        sheet = book.worksheets[0]
        rows: list[list[str | None]] = []
        formulas: list[str] = []
        for number, cells in enumerate(sheet.iter_rows(), 1):
            if number > MAX_ROWS + 1:
                raise InvalidInput(f"The workbook has more than {MAX_ROWS} rows; split it.", "file")
            values: list[str | None] = []
            for cell in cells:
                if getattr(cell, "data_type", None) == "f":
                    formulas.append(f"{getattr(cell, 'coordinate', '?')}")
                    values.append(None)
                    continue
                values.append(_text(cell.value))
            rows.append(values)
        if formulas:
            shown = ", ".join(formulas[:10]) + (" ..." if len(formulas) > 10 else "")
            raise InvalidInput(
                f"The workbook holds formulas ({shown}); a formula's value cannot be trusted "
                "from a file: copy the cells and paste them as values, then import again.",
                "file",
            )
    finally:
        book.close()
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    if not rows:
        return Sheet([], [])
    header = rows[0]
    while header and header[-1] is None:
        header.pop()
    width = len(header)
    body = [(row + [None] * width)[:width] for row in rows[1:]]
    return Sheet([h or "" for h in header], body)


def _text(value: Any) -> str | None:
    """A cell as the text a person would type: ISO dates, numbers without float noise."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    return _blank(str(value))


def write_sheet(sheet: Sheet, fmt: str) -> bytes:
    """The rows as CSV (UTF-8, with a header) or as an XLSX workbook whose cells are all text,
    so nothing in them is ever taken for a formula."""
    columns, rows = sheet.columns, sheet.rows
    if fmt == "csv":
        import polars as pl

        frame = pl.DataFrame(
            {name: [row[i] for row in rows] for i, name in enumerate(columns)},
            schema=dict.fromkeys(columns, pl.String),
        )
        return frame.write_csv().encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    table = book.create_sheet("data")
    table.append(columns)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(table, value=value)
            if value is not None:
                cell.data_type = "s"  # a text starting with '=' stays text
            cells.append(cell)
        table.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
