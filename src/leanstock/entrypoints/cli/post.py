"""`leanstock post FILE`: a file of stock documents posted through batch posting.

The file is JSON lines (one document a line, as `POST /stock/operations:batch` takes them)
or CSV (one line of a document a row; rows with the same `document` go together). Each
document is kept or refused on its own (`services.stock.batch`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leanstock.entrypoints.cli.app import app, console, err_console, handled, open_engine

if TYPE_CHECKING:
    from leanstock.domain.errors import DomainError
    from leanstock.services.stock.batch import Document

# Columns of a CSV row that belong to a line; the others describe the whole document.
LINE_FIELDS = ("sku", "quantity", "unit", "lot", "expires_on", "unit_cost")
MULTI_LINE = {"receipt", "shipment", "transfer"}
CSV_FIELDS = (
    "kind",
    "document",
    "location",
    "source",
    "target",
    "supplier",
    "customer",
    "reason",
    "reference",
    "occurred_at",
    "counted",
    "note",
    *LINE_FIELDS,
)


def _from_jsonl(text: str) -> list[tuple[int, Any]]:
    """(line number, document) per non-blank line; a line that is not JSON is its own
    problem."""
    found: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            found.append((number, ValueError(f"Line {number} is not JSON: {error.msg}.")))
    return found


def _from_csv(data: bytes) -> list[tuple[int, Any]]:
    """(first row number, document) per document: rows sharing a `document` value are its
    lines (receipts, shipments, transfers); without that column each row is a document."""
    from leanstock.adapters.files.spreadsheets import read_sheet

    sheet = read_sheet(data, "csv")
    columns = [c.strip().lower() for c in sheet.columns]
    unknown = [c for c in columns if c not in CSV_FIELDS]
    if unknown:
        raise typer.BadParameter(
            f"Unknown column(s) {', '.join(unknown)}; the columns are {', '.join(CSV_FIELDS)}."
        )
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for index, cells in enumerate(sheet.rows):
        row = {c: v.strip() for c, v in zip(columns, cells, strict=False) if v and v.strip()}
        if not row:
            continue
        key = row.pop("document", None) or f"row {index}"
        groups.setdefault(key, []).append((index + 2, row))
    return [(rows[0][0], _document(key, rows)) for key, rows in groups.items()]


def _document(key: str, rows: list[tuple[int, dict[str, str]]]) -> Any:
    """One document's body from its rows: the document's fields once, the lines' per row."""
    if len(rows) == 1:
        return rows[0][1]
    head = {k: v for k, v in rows[0][1].items() if k not in LINE_FIELDS}
    if head.get("kind") not in MULTI_LINE:
        return ValueError(
            f"Document {key} has {len(rows)} rows; only receipts, shipments and transfers have "
            "several lines."
        )
    for number, row in rows[1:]:
        for name, value in row.items():
            if name not in LINE_FIELDS and head.get(name) != value:
                return ValueError(
                    f"Row {number} gives {name} {value!r} for document {key}, whose first row "
                    f"gives {head.get(name)!r}; a document's fields are the same on all its rows."
                )
    lines = [{k: v for k, v in row.items() if k in LINE_FIELDS} for _, row in rows]
    return {**head, "lines": lines}


def _parsed(found: list[tuple[int, Any]]) -> list[Document | DomainError]:
    from leanstock.domain.errors import DomainError, InvalidInput
    from leanstock.entrypoints.api.batch_schemas import stock_document

    documents: list[Document | DomainError] = []
    for _, raw in found:
        if isinstance(raw, ValueError):
            documents.append(InvalidInput(str(raw), "document"))
            continue
        try:
            documents.append(stock_document(raw))
        except DomainError as error:
            documents.append(error)
    return documents


@app.command()
def post(
    file: Annotated[
        Path,
        typer.Argument(
            help="A .jsonl file (one document a line, as the batch API takes them) or a .csv "
            "file (one row a line; rows with the same `document` make one document)."
        ),
    ],
) -> None:
    """Post a file of stock documents (receipts, shipments, transfers, counts, scraps): each
    is kept or refused on its own, in order; refused ones are listed with the reason."""
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.services.stock.batch import MAX_DOCUMENTS, post_batch

    if not file.is_file():
        err_console.print(f"[red]No file {file}:[/] give the path of a .jsonl or .csv file.")
        raise typer.Exit(2)
    with handled():
        suffix = file.suffix.lower()
        if suffix in (".jsonl", ".ndjson", ".json"):
            found = _from_jsonl(file.read_text(encoding="utf-8"))
        elif suffix == ".csv":
            found = _from_csv(file.read_bytes())
        else:
            err_console.print(f"[red]Cannot tell the format of {file}:[/] name it .jsonl or .csv.")
            raise typer.Exit(2)
        if not found:
            err_console.print(f"[red]{file} holds no documents.[/]")
            raise typer.Exit(2)
        documents = _parsed(found)
        uow = UnitOfWork(open_engine())
        outcomes: list[Any] = []
        for start in range(0, len(documents), MAX_DOCUMENTS):
            outcomes += post_batch(uow, documents[start : start + MAX_DOCUMENTS]).outcomes
    refused = [
        (number, outcome)
        for (number, _), outcome in zip(found, outcomes, strict=True)
        if not hasattr(outcome, "moves")
    ]
    posted = len(outcomes) - len(refused)
    moves = sum(len(o.moves) for o in outcomes if hasattr(o, "moves"))
    where = "line" if file.suffix.lower() != ".csv" else "row"
    if refused:
        table = Table(title=f"{len(refused)} document(s) refused; they changed nothing")
        for column in (where, "problem", "field", "reason"):
            table.add_column(column, overflow="fold")
        for number, error in refused:
            table.add_row(str(number), error.title, error.field or "", escape(error.detail))
        err_console.print(table)
    console.print(
        f"{len(outcomes)} document(s) read: {posted} posted ({moves} moves), "
        f"{len(refused)} refused.",
        soft_wrap=True,
    )
    if refused:
        raise typer.Exit(1)
