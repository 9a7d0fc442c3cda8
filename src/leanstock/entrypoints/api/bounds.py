"""The bounds of every number, text and date the API takes, one rule each, stated in the
OpenAPI document, so that no input can reach the database in a form it cannot store.

- **Exact decimals** (`Quantity`, `Money`): at most 18 digits, 6 of them after the point, so
  below 10¹² in size (`domain.quantities`); `"1e30"` or `10**30` is a 422, never a decimal
  overflow.
- **Whole numbers**: ids (`Id`) up to 2⁵³ − 1 (what every JSON reader holds exactly);
  counts, line numbers and offsets (`Count`, `LineNo`, `Offset`) up to 2³¹ − 1, what an
  `integer` column holds on PostgreSQL; days (`Days`) up to `MAX_DAYS`, so a date plus days
  stays a date.
- **Text**: no control characters (NUL and the other C0 characters but tab, line feed and
  carriage return, and DEL) and no lone surrogates, which PostgreSQL refuses and SQLite would
  store: both databases now see the same 422. Bodies check it in `schemas.In`, path and query
  parameters in `refuse_bad_parameters`.
- **Dates and moments**: years `MIN_YEAR` to `MAX_YEAR`, which both databases store and whose
  arithmetic (a receipt date plus a shelf life of `MAX_DAYS`) stays in Python's range.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Le
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, Field, WithJsonSchema

from leanstock.domain.quantities import MAX_ABS, PLACES

MAX_ID = 2**53 - 1
MAX_INT = 2**31 - 1
MAX_DAYS = 36_500
MIN_YEAR = 1900
MAX_YEAR = 2999
DIGITS = 12 + PLACES

_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
TEXT_PATTERN = f"^[^{_CONTROL}]*$"
_REFUSED = re.compile(f"[{_CONTROL}\ud800-\udfff]")
DATE_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-"
TEXT_RULE = "no control characters (such as NUL) and no lone surrogates"
DATE_RULE = f"a year from {MIN_YEAR} to {MAX_YEAR}"

_number = {
    "type": "number",
    "exclusiveMinimum": -float(MAX_ABS),
    "exclusiveMaximum": float(MAX_ABS),
    "description": f"Exact: at most {PLACES} decimal places, below 10^12 in size.",
}
_decimal_schema = {
    "anyOf": [
        _number,
        {"type": "string", "pattern": rf"^-?[0-9]{{1,12}}(\.[0-9]{{1,{PLACES}}})?$"},
    ]
}

Quantity = Annotated[
    Decimal,
    Field(max_digits=DIGITS, decimal_places=PLACES, gt=-MAX_ABS, lt=MAX_ABS),
    WithJsonSchema(_decimal_schema, mode="validation"),
]
"""An exact decimal the database stores without rounding: a quantity, a price, a cost."""
Money = Quantity

Id = Annotated[int, Ge(1), Le(MAX_ID)]
LineNo = Annotated[int, Ge(1), Le(MAX_INT)]
Count = Annotated[int, Ge(0), Le(MAX_INT)]
Offset = Count
Days = Annotated[int, Ge(0), Le(MAX_DAYS)]
PositiveDays = Annotated[int, Ge(1), Le(MAX_DAYS)]
Positive = Annotated[int, Ge(1), Le(MAX_INT)]


def text_problem(value: str) -> str | None:
    """What is wrong with `value` as text, or None."""
    found = _REFUSED.search(value)
    if found is None:
        return None
    return (
        f"Text must hold {TEXT_RULE}; found {found.group()!r} at position {found.start() + 1}. "
        "Remove it."
    )


def date_problem(value: date) -> str | None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return f"Give a date with {DATE_RULE}, not {value.isoformat()}."
    return None


def checked(value: Any) -> Any:
    """`value` if its text and dates are within bounds (looking into lists, tuples and dicts);
    `ValueError` naming the problem if not."""
    problem: str | None = None
    if isinstance(value, str):
        problem = text_problem(value)
    elif isinstance(value, date):  # datetime too
        problem = date_problem(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for element in value:
            checked(element)
    elif isinstance(value, dict):
        for key, element in value.items():
            checked(key)
            checked(element)
    if problem is not None:
        raise ValueError(problem)
    return value


Day = Annotated[date, AfterValidator(checked), Field(json_schema_extra={"pattern": DATE_PATTERN})]
Moment = Annotated[
    datetime, AfterValidator(checked), Field(json_schema_extra={"pattern": DATE_PATTERN})
]


def document(schema: dict[str, Any]) -> None:
    """State the text and date rules in a JSON schema (a body's, or a parameter's): a pattern
    on every plain string and every date, unless it has one or is an enumeration."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and "enum" not in schema and "const" not in schema:
        fmt = schema.get("format")
        if fmt in ("date", "date-time"):
            schema.setdefault("pattern", DATE_PATTERN)
        elif fmt is None and "pattern" not in schema:
            schema["pattern"] = TEXT_PATTERN
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for sub in schema.get(key, []):
            document(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            document(schema[key])
    for sub in schema.get("properties", {}).values():
        document(sub)


async def refuse_bad_parameters(request: Request) -> None:
    """422 naming each path or query parameter that holds control characters, on every route
    (the API's and the web app's), before any of it reaches a database."""
    errors = []
    for where, params in (("path", request.path_params), ("query", request.query_params)):
        pairs = params.multi_items() if hasattr(params, "multi_items") else params.items()
        for name, value in pairs:
            problem = text_problem(name) or text_problem(str(value))
            if problem is not None:
                errors.append({"loc": (where, name), "msg": problem, "type": "text"})
    if errors:
        raise RequestValidationError(errors)
