"""FastAPI dependencies: a unit of work per request on the app's engine."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from leanstock.adapters.db.uow import UnitOfWork


def unit_of_work(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.engine)


UowDep = Annotated[UnitOfWork, Depends(unit_of_work)]
