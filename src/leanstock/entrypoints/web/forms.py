"""Reading what a form posted, and turning its text into the values services take.

Forms post `application/x-www-form-urlencoded` (HTMX sends the same); the body is parsed with
the standard library, so no multipart parser is needed. A value that does not parse raises
`InvalidInput` naming its field, and the page shows the message beside that field.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from starlette.requests import Request

from leanstock.domain.errors import InvalidInput
from leanstock.entrypoints.api import bounds


class Form:
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        """The fields posted; text with control characters (such as NUL) is refused here, as
        the API refuses it (`api.bounds`), before any of it reaches a database."""
        self.pairs = pairs
        self.values: dict[str, str] = {}
        for key, value in pairs:
            problem = bounds.text_problem(key) or bounds.text_problem(value)
            if problem is not None:
                raise InvalidInput(problem, key)
            self.values.setdefault(key, value)

    def text(self, name: str, label: str | None = None) -> str:
        """A required text field."""
        value = self.values.get(name, "").strip()
        if not value:
            raise InvalidInput(f"Enter the {label or name}.", name)
        return value

    def optional(self, name: str) -> str | None:
        value = self.values.get(name, "").strip()
        return value or None

    def decimal(
        self, name: str, label: str | None = None, *, default: Decimal | None = None
    ) -> Decimal:
        raw = self.values.get(name, "").strip()
        if not raw and default is not None:
            return default
        try:
            value = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            raise InvalidInput(
                f"Enter the {label or name} as a number, like 12 or 2.5.", name
            ) from None
        if not value.is_finite():
            raise InvalidInput(f"Enter the {label or name} as a number, like 12 or 2.5.", name)
        return value

    def day(self, name: str, label: str | None = None) -> date | None:
        raw = self.values.get(name, "").strip()
        if not raw:
            return None
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(f"Enter the {label or name} as a date, YYYY-MM-DD.", name) from None
        problem = bounds.date_problem(day)
        if problem is not None:
            raise InvalidInput(problem, name)
        return day


async def read_form(request: Request) -> Form:
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The form was not sent as UTF-8 text.", "body") from None
    return Form(parse_qsl(text, keep_blank_values=True, max_num_fields=2000))
