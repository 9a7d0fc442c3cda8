"""Imports and exports of spreadsheets: upload a file of a kind, download a table."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from leanstock.adapters.files.spreadsheets import (
    MAX_BYTES,
    MEDIA_TYPES,
    format_of,
    read_sheet,
    write_sheet,
)
from leanstock.domain.access import Actor
from leanstock.domain.errors import InvalidInput
from leanstock.entrypoints.api.bounds import Moment
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.api.problems import problem
from leanstock.services import exports, imports

router = APIRouter(tags=["data"])

Format = Literal["csv", "xlsx"]


def _mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise InvalidInput(
            'mapping must be a JSON object of file column to field: {"Item Code": "sku"}.',
            "mapping",
        )
    return mapping


def _report(report: imports.ImportReport) -> dict[str, Any]:
    return {
        "kind": report.kind,
        "rows": report.rows,
        "dry_run": report.dry_run,
        "applied": report.applied,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "ignored_columns": report.ignored_columns,
        "notes": report.notes,
    }


@router.post(
    "/imports/{kind}",
    dependencies=[permit("catalog:write")],
    responses={422: {"description": "Problems by row and column; nothing was imported."}},
)
def import_file(
    kind: str,
    uow: UowDep,
    file: Annotated[UploadFile, File(description="The .csv or .xlsx file.")],
    dry_run: Annotated[bool, Form(description="Check and report; change nothing.")] = False,
    mapping: Annotated[
        str | None, Form(description='File column to field, as JSON: {"Item Code": "sku"}.')
    ] = None,
    format: Annotated[
        Format | None, Form(description="csv or xlsx (default: from the name).")
    ] = None,
) -> Response:
    """Import a file of `kind`: every row or none. A dry run reports without changing
    anything; problems come back as a 422 whose `errors` name each row and column."""
    imports.kind_of(kind)
    data = file.file.read(MAX_BYTES + 1)
    sheet = read_sheet(data, format_of(file.filename, format))
    report = imports.run_import(uow, kind, sheet, dry_run=dry_run, mapping=_mapping(mapping))
    if report.problems:
        errors = [{"row": p.row, "column": p.column, "message": p.message} for p in report.problems]
        return problem(
            422,
            "The file has problems",
            f"{len(report.problems)} problem(s) in {kind}; nothing was imported: correct the "
            "rows named in `errors` and import the file again.",
            errors,
        )
    return JSONResponse(_report(report))


@router.get("/imports/{kind}/template", dependencies=[permit("catalog:read")])
def import_template(kind: str, format: Format = "csv") -> Response:
    """A file with the kind's columns and an example row."""
    return Response(
        write_sheet(imports.template(kind), format),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{kind}-template.{format}"'},
    )


@router.get("/exports/{kind}")
def export_table(
    kind: str,
    uow: UowDep,
    actor: Annotated[Actor, permit("catalog:read")],
    format: Format = "csv",
    as_of: Annotated[
        Moment | None,
        Query(description="Stock as it was then (stock, opening-stock); moves up to then."),
    ] = None,
) -> Response:
    """A table as CSV or XLSX, in the shape its import reads back. A user limited to some
    locations gets the rows of those locations only."""
    sheet = exports.export(uow, kind, as_of, actor.locations)
    return Response(
        write_sheet(sheet, format),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{kind}.{format}"'},
    )
