"""Import a business from spreadsheets: all or nothing, every problem by row and column.

`run_import` takes the file as read (CSV or XLSX, `adapters.files`), matches its header to
the kind's fields (names, aliases, or an explicit mapping), parses every cell, refuses
duplicate keys, then applies the rows through the same use cases the API calls, inside one
transaction (`UnitOfWork.batch`): each row a savepoint, so a row that fails is reported and
the rest are still checked. Any problem, or a dry run, rolls the whole transaction back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from leanstock.domain.errors import DomainError, InvalidInput
from leanstock.domain.events import Changed
from leanstock.services.imports.catalog_kinds import ROW_KINDS, RowKind
from leanstock.services.imports.fields import Field, Problem, Sheet, match_columns
from leanstock.services.imports.history_kinds import HISTORY_KINDS, HistoryKind, import_history
from leanstock.services.ports import BatchUnitOfWork, UnitOfWork
from leanstock.services.retry import retrying

KINDS: dict[str, RowKind | HistoryKind] = {**ROW_KINDS, **HISTORY_KINDS}
MAX_PROBLEMS = 1000
# Catalog, stock and BOM rows each run a use case (tens of milliseconds); a file of these is
# capped so one upload cannot hold the server for hours. History goes in bulk: no cap but the
# reader's.
MAX_ROWS_ONE_BY_ONE = 20_000


@dataclass
class ImportReport:
    kind: str
    rows: int
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def applied(self) -> bool:
        """Whether the import changed the database (no problem and not a dry run)."""
        return self.ok and not self.dry_run


def kind_of(name: str) -> RowKind | HistoryKind:
    found = KINDS.get(name.strip().lower().replace("_", "-"))
    if found is None:
        raise InvalidInput(f"Unknown import kind {name!r}: use one of {', '.join(KINDS)}.", "kind")
    return found


def template(kind: str) -> Sheet:
    """The kind's columns and one example row, to fill in."""
    spec = kind_of(kind)
    return Sheet([f.name for f in spec.fields], [[f.example or None for f in spec.fields]])


def describe(kind: str) -> list[Field]:
    return list(kind_of(kind).fields)


def _parse(
    spec: RowKind | HistoryKind, sheet: Sheet, found: dict[str, int], problems: list[Problem]
) -> list[tuple[int, dict[str, Any], bool]]:
    """Every row with the values that could be read, and whether all could."""
    fields = {f.name: f for f in spec.fields}
    parsed: list[tuple[int, dict[str, Any], bool]] = []
    for index, cells in enumerate(sheet.rows):
        number = index + 2
        if all(cell is None for cell in cells):
            continue
        values: dict[str, Any] = {}
        good = True
        for name, column in found.items():
            cell = cells[column] if column < len(cells) else None
            header = sheet.columns[column]
            if cell is None:
                if fields[name].required:
                    problems.append(Problem(number, header, f"{name} is empty: fill it in."))
                    good = False
                continue
            try:
                values[name] = fields[name].parse(cell)
            except DomainError as error:
                problems.append(Problem(number, header, error.detail))
                good = False
        parsed.append((number, values, good))
    return parsed


def _duplicates(
    spec: RowKind, rows: list[tuple[int, dict[str, Any], bool]], columns: dict[str, str]
) -> list[Problem]:
    first: dict[tuple[Any, ...], int] = {}
    problems = []
    for number, values, _ in rows:
        if spec.key[0] not in values:
            continue
        key = tuple(values.get(k) for k in spec.key)
        if key in first:
            shown = " ".join(str(k) for k in key if k is not None)
            problems.append(
                Problem(
                    number,
                    columns.get(spec.key[0]),
                    f"{shown} is on row {first[key]} already: keep one row for it.",
                )
            )
        else:
            first[key] = number
    return problems


def _apply_rows(
    batch: BatchUnitOfWork,
    spec: RowKind,
    rows: list[tuple[int, dict[str, Any]]],
    columns: dict[str, str],
    report: ImportReport,
) -> None:
    groups: dict[Any, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for number, values in rows:
        groups[values[spec.key[0]] if spec.group else number].append((number, values))
    for group in groups.values():
        number = group[0][0]
        try:
            outcome = spec.apply(batch, [values for _, values in group])
        except DomainError as error:
            column = columns.get(error.field or "") if error.field else None
            report.problems.append(Problem(number, column, error.detail))
            if len(report.problems) >= MAX_PROBLEMS:
                return
            continue
        count = len(group) if not spec.group else 1
        setattr(report, outcome, getattr(report, outcome) + count)


@retrying
def run_import(
    uow: UnitOfWork,
    kind: str,
    sheet: Sheet,
    *,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
) -> ImportReport:
    """Import a file of `kind`; nothing changes unless every row is good and not `dry_run`."""
    spec = kind_of(kind)
    found, ignored, problems = match_columns(spec.fields, sheet.columns, mapping)
    report = ImportReport(spec.name, len(sheet.rows), dry_run, ignored_columns=ignored)
    columns = {name: sheet.columns[index] for name, index in found.items()}
    if isinstance(spec, RowKind) and len(sheet.rows) > MAX_ROWS_ONE_BY_ONE:
        problems.append(
            Problem(
                None,
                None,
                f"The file has {len(sheet.rows)} rows; {spec.name} imports take at most "
                f"{MAX_ROWS_ONE_BY_ONE} at once: split it into several files.",
            )
        )
    if problems:
        report.problems = problems
        return report
    parsed = _parse(spec, sheet, found, report.problems)
    if isinstance(spec, RowKind):
        report.problems.extend(_duplicates(spec, parsed, columns))
    rows = [(number, values) for number, values, good in parsed if good]
    if len(report.problems) >= MAX_PROBLEMS:
        return report
    batch = uow.batch().open()
    try:
        if isinstance(spec, RowKind):
            _apply_rows(batch, spec, rows, columns, report)
        else:
            with batch:
                added, changed, found_problems = import_history(batch, spec, rows, columns)
                report.problems.extend(found_problems)
                report.created, report.updated = added, changed
                batch.commit()
    except BaseException:
        batch.close(keep=False)
        raise
    report.problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    if report.applied:
        _audit(batch, report)
    batch.close(keep=report.applied)
    return report


def _audit(batch: BatchUnitOfWork, report: ImportReport) -> None:
    """One `import` row for the file, beside the rows of the use cases its rows ran."""
    try:
        with batch:
            counts = {
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            }
            batch.record(Changed(subject=f"import:{report.kind}", verb="import", values=counts))
            batch.commit()
    except BaseException:
        batch.close(keep=False)
        raise


def problems_table(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    return [{"row": p.row, "column": p.column, "message": p.message} for p in problems]
