"""`leanstock import` and `leanstock export`: spreadsheets in and out, through the services."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leanstock.entrypoints.cli.app import (
    app,
    console,
    err_console,
    handled,
    iso_datetime,
    open_engine,
)


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    mapping = {}
    for pair in pairs or []:
        column, sep, field = pair.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise typer.BadParameter(f"{pair!r}: write --map 'File column=field'.")
        mapping[column.strip()] = field.strip()
    return mapping


@app.command(name="import")
def import_(
    kind: Annotated[
        str,
        typer.Argument(
            help="items, locations, suppliers, supplier-terms, boms, opening-stock, "
            "sales-history, purchase-history; or `template` to write a kind's template."
        ),
    ],
    file: Annotated[
        str, typer.Argument(help="The .csv or .xlsx file (after `template`: the kind).")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and report; change nothing.")
    ] = False,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="'File column=field', for a column no alias matches."),
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or xlsx (default: from the file name).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where `template` writes the file.")
    ] = None,
) -> None:
    """Import a file: all rows or none. Re-importing a file updates what it imported."""
    from leanstock.adapters.files.spreadsheets import format_of, read_sheet, write_sheet
    from leanstock.services import imports

    with handled():
        if kind == "template":
            sheet = imports.template(file)
            chosen = format_of(
                str(output) if output else None, fmt or ("csv" if not output else None)
            )
            data = write_sheet(sheet, chosen)
            if output is None:
                sys.stdout.write(data.decode("utf-8"))
            else:
                output.write_bytes(data)
                console.print(f"Wrote the {file} template to {output}.")
            return
        path = Path(file)
        if not path.is_file():
            err_console.print(f"[red]No file {file}:[/] give the path of a .csv or .xlsx file.")
            raise typer.Exit(2)
        from leanstock.adapters.db.uow import UnitOfWork

        sheet = read_sheet(path.read_bytes(), format_of(path.name, fmt))
        report = imports.run_import(
            UnitOfWork(open_engine()), kind, sheet, dry_run=dry_run, mapping=_mapping(map_)
        )
    for note in report.notes:
        console.print(f"[yellow]Note:[/] {note}")
    if report.ignored_columns:
        console.print(f"[yellow]Ignored columns:[/] {', '.join(report.ignored_columns)}")
    if report.problems:
        table = Table(title=f"{len(report.problems)} problem(s); nothing was imported")
        for column in ("row", "column", "problem"):
            table.add_column(column, overflow="fold")
        for p in report.problems:
            table.add_row(str(p.row or ""), p.column or "", p.message)
        err_console.print(table)
        raise typer.Exit(1)
    verb = "would be" if dry_run else "were"
    console.print(
        f"{report.kind}: {report.rows} rows read; {report.created} {verb} created, "
        f"{report.updated} updated, {report.unchanged} unchanged"
        + (" (dry run: nothing changed)." if dry_run else "."),
        soft_wrap=True,
    )


@app.command()
def export(
    kind: Annotated[
        str,
        typer.Argument(
            help="items, locations, suppliers, supplier-terms, boms, opening-stock, "
            "sales-history, purchase-history, stock, moves, sales-orders, purchase-orders or "
            "plan-runs."
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout, CSV).")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or xlsx (default: from --output).")
    ] = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            parser=iso_datetime,
            help="Stock as it was then (stock, opening-stock); moves up to then.",
        ),
    ] = None,
) -> None:
    """Export a table as CSV or XLSX, in the shape `leanstock import` reads back."""
    from leanstock.adapters.db.uow import UnitOfWork
    from leanstock.adapters.files.spreadsheets import format_of, write_sheet
    from leanstock.services import exports

    with handled():
        chosen = format_of(str(output) if output else None, fmt or (None if output else "csv"))
        if output is None and chosen != "csv":
            raise typer.BadParameter("XLSX goes to a file: give --output FILE.xlsx.")
        sheet = exports.export(UnitOfWork(open_engine()), kind, as_of)
        data = write_sheet(sheet, chosen)
    if output is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    output.write_bytes(data)
    console.print(f"Wrote {len(sheet.rows)} rows of {kind} to {output}.")
