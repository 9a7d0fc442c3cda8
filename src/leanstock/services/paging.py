"""One shape for every list a use case returns: a `Page` of items with the total, the limit
and the offset asked, and one check of the limit and offset."""

from __future__ import annotations

from leanstock.domain.errors import InvalidInput
from leanstock.services.ports import Page

MAX_PAGE = 500
MAX_OFFSET = 2**63 - 1
"""The largest offset the databases take (a signed 64-bit integer); past it SQLite and
PostgreSQL fail rather than answer an empty page."""

__all__ = ["MAX_OFFSET", "MAX_PAGE", "Page", "page_bounds"]


def page_bounds(limit: int, offset: int) -> tuple[int, int]:
    """A limit of 1 to MAX_PAGE and an offset of zero or more, or `InvalidInput`."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", "limit")
    if offset < 0:
        raise InvalidInput("offset must not be negative.", "offset")
    if offset > MAX_OFFSET:
        raise InvalidInput(f"offset must be at most {MAX_OFFSET}.", "offset")
    return limit, offset
