"""The one way the API pages a list: `limit` (1 to 500) and `offset` query parameters in, a
`PageOut` envelope (`items`, `total`, `limit`, `offset`) out, built straight from the
service's `Page` (`PageOut[ItemOut].model_validate(page)`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from leanstock.entrypoints.api.bounds import MAX_INT
from leanstock.services.paging import MAX_PAGE

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"How many at most, 1 to {MAX_PAGE}.")]
Offset = Annotated[int, Query(ge=0, le=MAX_INT, description=f"How many to skip, 0 to {MAX_INT}.")]
