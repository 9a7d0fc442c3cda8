"""The columns of an import file: names and their aliases, and how a cell's text is read.

A header matches a field by its name or an alias, compared without case, spaces or dashes
(`Item Code` = `item_code`); an explicit mapping (file column → field) overrides that.
Every cell is text (the spreadsheet reader hands it over so); a field's `parse` turns it
into the domain's type or raises `InvalidInput` with what to type instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from leanstock.domain.catalog import PriceBreak
from leanstock.domain.errors import InvalidInput

TRUE = frozenset({"true", "yes", "y", "1", "x"})
FALSE = frozenset({"false", "no", "n", "0"})
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def as_text(value: str) -> str:
    return value


def as_decimal(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise InvalidInput(
            f"{value!r} is not a number: write digits with a '.' for decimals (1234.5)."
        )
    return number


def as_int(value: str) -> int:
    number = as_decimal(value)
    if number != number.to_integral_value():
        raise InvalidInput(f"{value!r} is not a whole number.")
    return int(number)


def as_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise InvalidInput(f"{value!r} is not yes or no: write true or false.")


def as_date(value: str) -> date:
    if ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{value!r} is not a date: write it as YYYY-MM-DD (2026-03-31).")


def one_of(kind: type[StrEnum]) -> Callable[[str], StrEnum]:
    def parse(value: str) -> StrEnum:
        lowered = value.strip().lower().replace(" ", "_").replace("-", "_")
        allowed = [member.value for member in kind]
        if lowered not in allowed:
            raise InvalidInput(f"{value!r} is not one of {', '.join(allowed)}.")
        return kind(lowered)

    return parse


def as_price_breaks(value: str) -> tuple[PriceBreak, ...]:
    """`100:9.50; 500:9.00` — from 100 on, 9.50 each; from 500 on, 9.00."""
    breaks = []
    for part in value.split(";"):
        if not part.strip():
            continue
        quantity, sep, price = part.partition(":")
        if not sep:
            raise InvalidInput(
                f"{part.strip()!r} is not a price break: write quantity:price, separated by "
                "';' (100:9.50; 500:9.00)."
            )
        breaks.append(PriceBreak(as_decimal(quantity.strip()), as_decimal(price.strip())))
    return tuple(breaks)


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[str], Any] = as_text
    required: bool = False
    aliases: tuple[str, ...] = ()
    example: str = ""
    help: str = ""


def normal(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


@dataclass(frozen=True)
class Sheet:
    """A table as text: the header, then rows (cells None when empty). Row 1 is the header, so
    `rows[i]` is row i + 2 of the file, as a spreadsheet program numbers it."""

    columns: list[str]
    rows: list[list[str | None]]


@dataclass(frozen=True)
class Problem:
    """What is wrong where: `row` as a spreadsheet numbers it (1 is the header; None: the
    file), `column` as the file names it (None: the whole row)."""

    row: int | None
    column: str | None
    message: str


def match_columns(
    fields: Sequence[Field], headers: Sequence[str], mapping: dict[str, str] | None
) -> tuple[dict[str, int], list[str], list[Problem]]:
    """(field name → column index, headers ignored, problems) for a file's header row."""
    by_name: dict[str, str] = {}
    for f in fields:
        by_name[normal(f.name)] = f.name
        for alias in f.aliases:
            by_name[normal(alias)] = f.name
    explicit = {normal(k): v for k, v in (mapping or {}).items()}
    known = {f.name for f in fields}
    problems = [
        Problem(None, k, f"The mapping names field {v!r}, which is not one of {sorted(known)}.")
        for k, v in (mapping or {}).items()
        if v not in known
    ]
    found: dict[str, int] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        key = normal(header)
        name = explicit.get(key) or by_name.get(key)
        if not header.strip():
            continue
        if name is None or name not in known:
            ignored.append(header)
            continue
        if name in found:
            problems.append(
                Problem(
                    1,
                    header,
                    f"Column {header!r} is {name} again (already column "
                    f"{headers[found[name]]!r}); keep one of them.",
                )
            )
            continue
        found[name] = index
    for f in fields:
        if f.required and f.name not in found:
            aliases = f" (or {', '.join(f.aliases)})" if f.aliases else ""
            problems.append(Problem(1, f.name, f"The column {f.name}{aliases} is missing: add it."))
    return found, ignored, problems
