"""The import page: upload a spreadsheet, choose its kind, check it (a dry run shows every
problem by row and column), then import it: the same service as `POST /api/v1/imports/{kind}`.

The form posts multipart (a file) through HTMX, which sends the session's CSRF token as the
`X-CSRF-Token` header; the report replaces the part of the page below the form.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from leanstock.adapters.files.spreadsheets import MAX_BYTES, format_of, read_sheet
from leanstock.domain.access import Actor
from leanstock.domain.errors import DomainError, InvalidInput
from leanstock.entrypoints.api.deps import UowDep, permit
from leanstock.entrypoints.web.render import htmx, render
from leanstock.services import imports

router = APIRouter(include_in_schema=False)


def _kinds() -> list[tuple[str, str]]:
    """Each import kind with what it holds, in the order a business is best imported."""
    return [(name, spec.summary) for name, spec in imports.KINDS.items()]


def _context(**values: Any) -> dict[str, Any]:
    return {"kinds": _kinds(), "kind": "", "report": None, "error": None, **values}


@router.get("/imports")
def import_page(
    request: Request, actor: Annotated[Actor, permit("catalog:write")], kind: str = ""
) -> Response:
    return render(request, "imports/index.html", _context(kind=kind))


@router.post("/imports")
async def import_file(
    request: Request, uow: UowDep, actor: Annotated[Actor, permit("catalog:write")]
) -> Response:
    """Check (dry run) or import the uploaded file; the report, or the problem, either way."""
    form = await request.form(max_files=1, max_fields=10)
    kind = str(form.get("kind") or "")
    apply = form.get("action") == "apply"
    report = None
    error: DomainError | None = None
    try:
        if not kind:
            raise InvalidInput("Choose what the file holds.", "kind")
        imports.kind_of(kind)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("Choose a .csv or .xlsx file to import.", "file")
        data = await upload.read(MAX_BYTES + 1)
        sheet = read_sheet(data, format_of(upload.filename, None))
        report = imports.run_import(uow, kind, sheet, dry_run=not apply)
    except DomainError as problem:
        error = problem
    finally:
        await form.close()
    context = _context(kind=kind, report=report, error=error, applied=apply)
    status = 422 if error is not None or (report is not None and report.problems) else 200
    template = "imports/_report.html" if htmx(request) else "imports/index.html"
    # HTMX swaps in 2xx answers only: it gets the report (problems too) as 200.
    return render(request, template, context, 200 if htmx(request) else status)
