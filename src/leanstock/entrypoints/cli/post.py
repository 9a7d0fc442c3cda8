"""`leanstock post FILE`: a file of stock documents posted through batch posting.

The file is JSON lines (one document a line, as `POST /stock/operations:batch` takes them)
or CSV (one line of a document a row; rows with the same `document` go together). Each
document is kept or refused on its own (`services.stock.batch`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leanstock.entrypoints.cli.app import app, console, err_console, handled, open_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine

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


def _report(where: str, summary: dict[str, Any]) -> None:
    """Print what a post did (or, replayed, what it did the first time)."""
    refused = summary["refused"]
    if refused:
        table = Table(title=f"{len(refused)} document(s) refused; they changed nothing")
        for column in (where, "problem", "field", "reason"):
            table.add_column(column, overflow="fold")
        for number, title, field, detail in refused:
            table.add_row(str(number), title, field, escape(detail))
        err_console.print(table)
    console.print(
        f"{summary['read']} document(s) read: {summary['posted']} posted "
        f"({summary['moves']} moves), {len(refused)} refused.",
        soft_wrap=True,
    )


def _post_all(engine: Engine, documents: list[Document | DomainError]) -> list[Any]:
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.services.stock.batch import MAX_DOCUMENTS, post_batch

    uow = UnitOfWork(engine)
    outcomes: list[Any] = []
    for start in range(0, len(documents), MAX_DOCUMENTS):
        outcomes += post_batch(uow, documents[start : start + MAX_DOCUMENTS]).outcomes
    return outcomes


@app.command()
def post(
    file: Annotated[
        Path,
        typer.Argument(
            help="A .jsonl file (one document a line, as the batch API takes them) or a .csv "
            "file (one row a line; rows with the same `document` make one document)."
        ),
    ],
    key: Annotated[
        str | None,
        typer.Option(
            help="Idempotency key (1-200 characters): a second post with the same key posts "
            "nothing and shows the first one's report. By default the file's content is the "
            "key, so posting the same file twice posts it once.",
        ),
    ] = None,
    again: Annotated[
        bool,
        typer.Option("--again", help="Post the file even if the same content was posted before."),
    ] = False,
) -> None:
    """Post a file of stock documents (receipts, shipments, transfers, counts, scraps): each
    is kept or refused on its own, in order; refused ones are listed with the reason.

    Posting the same file again within the idempotency window
    (`LEANSTOCK_IDEMPOTENCY_HOURS`, 24 by default) posts nothing: a rerun after a crash or a
    retried end-of-day job cannot count a day's sales twice (`--again` posts it anyway)."""
    from leanstock.adapters.db.idempotency import IdempotencyStore, Stored
    from leanstock.adapters.db.uow import one_transaction
    from leanstock.config import get_settings

    if not file.is_file():
        err_console.print(f"[red]No file {file}:[/] give the path of a .jsonl or .csv file.")
        raise typer.Exit(2)
    if key is not None and not 1 <= len(key) <= 200:
        err_console.print("[red]--key must be 1-200 characters.[/]")
        raise typer.Exit(2)
    if key is not None and again:
        err_console.print("[red]--key and --again do not go together:[/] give one or the other.")
        raise typer.Exit(2)
    data = file.read_bytes()
    where = "line" if file.suffix.lower() != ".csv" else "row"
    with handled():
        suffix = file.suffix.lower()
        if suffix in (".jsonl", ".ndjson", ".json"):
            try:
                found = _from_jsonl(data.decode("utf-8"))
            except UnicodeDecodeError:
                err_console.print(f"[red]{file} is not UTF-8 text:[/] save it as UTF-8.")
                raise typer.Exit(2) from None
        elif suffix == ".csv":
            found = _from_csv(data)
        else:
            err_console.print(f"[red]Cannot tell the format of {file}:[/] name it .jsonl or .csv.")
            raise typer.Exit(2)
        if not found:
            err_console.print(f"[red]{file} holds no documents.[/]")
            raise typer.Exit(2)
        documents = _parsed(found)
        engine = open_engine()
        if again:
            outcomes = _post_all(engine, documents)
            summary = _summary(found, outcomes)
        else:
            content = hashlib.sha256(data).hexdigest()
            key = key or f"leanstock-post:{content}"
            # What the key must come back with: this command and this content (64 characters).
            print_ = hashlib.sha256(b"leanstock post\n" + data).hexdigest()
            store = IdempotencyStore(engine, timedelta(hours=get_settings().idempotency_hours))
            claimed = store.claim(key, print_)
            if isinstance(claimed, Stored):
                if claimed.fingerprint != print_ or claimed.body is None:
                    err_console.print(
                        f"[red]The key {escape(key)!r} was used for another file or request:[/] "
                        "give this file a key of its own, or leave --key out."
                    )
                    raise typer.Exit(2)
                console.print(
                    f"{file} was posted before with the same content (key {escape(key)}): "
                    "nothing was posted again. What the first post did:",
                    soft_wrap=True,
                )
                summary = json.loads(claimed.body)
            else:
                with claimed:
                    with one_transaction(claimed):
                        outcomes = _post_all(engine, documents)
                    summary = _summary(found, outcomes)
                    body = json.dumps(summary).encode()
                    store.complete(claimed, key, 200, "application/json", body)
                    claimed.commit()
    _report(where, summary)
    if summary["refused"]:
        raise typer.Exit(1)


def _summary(found: list[tuple[int, Any]], outcomes: list[Any]) -> dict[str, Any]:
    """The report of a post, as JSON-able data (stored under the key for a replay)."""
    refused = [
        [number, outcome.title, outcome.field or "", outcome.detail]
        for (number, _), outcome in zip(found, outcomes, strict=True)
        if not hasattr(outcome, "moves")
    ]
    return {
        "read": len(outcomes),
        "posted": len(outcomes) - len(refused),
        "moves": sum(len(o.moves) for o in outcomes if hasattr(o, "moves")),
        "refused": refused,
    }
