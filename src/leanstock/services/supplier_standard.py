"""The company's standard for its suppliers, kept in the database and set by an owner.

One standard (`domain.sourcing.SupplierStandard`) judges every supplier: the scorecards flag a
supplier below it with the reasons, and the sourcing rule that the planner and the order pull
share passes that supplier over for its backup. Kept as one JSON setting, so a pull reads it
in one query.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, fields, replace
from typing import Any

from leanstock.domain.errors import InvalidInput
from leanstock.domain.events import Changed, diff
from leanstock.domain.sourcing import SupplierStandard
from leanstock.services.ports import UnitOfWork
from leanstock.services.retry import retrying

KEY = "supplier_standard"
FIELDS = tuple(f.name for f in fields(SupplierStandard))


def company_standard(uow: UnitOfWork) -> SupplierStandard:
    """The company's standard (inside a unit of work); the defaults where none is set."""
    stored = uow.valuation.setting(KEY)
    if stored is None:
        return SupplierStandard()
    return SupplierStandard(**{k: v for k, v in json.loads(stored).items() if k in FIELDS})


def get_standard(uow: UnitOfWork) -> SupplierStandard:
    with uow:
        return company_standard(uow)


def _number(name: str, value: Any) -> float | None:
    if value is None and name == "lead_time_sd_days":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(f"{name} is a number, e.g. 0.9.", name)
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(f"{name} {value!r} is not a number, e.g. 0.9.", name) from None
    if not math.isfinite(number):
        raise InvalidInput(f"{name} {value!r} is not a finite number.", name)
    return number


@retrying
def set_standard(
    uow: UnitOfWork, changes: dict[str, Any], *, actor: str = "system"
) -> SupplierStandard:
    """Change some thresholds of the company's standard (the others stay); audited with the
    values before and after. `lead_time_sd_days` None stops judging the spread."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidInput(
            f"Unknown threshold {unknown[0]!r}: the standard has {', '.join(FIELDS)}.", unknown[0]
        )
    if not changes:
        raise InvalidInput(f"Give at least one threshold to change: {', '.join(FIELDS)}.", None)
    numbers: dict[str, Any] = {k: _number(k, v) for k, v in changes.items()}
    with uow.acting(actor):
        before = company_standard(uow)
        after = replace(before, **numbers)  # checks the ranges
        uow.valuation.put_setting(KEY, json.dumps(asdict(after), sort_keys=True))
        uow.record(
            Changed(
                subject=f"settings:{KEY}",
                verb="set_supplier_standard",
                values=diff(asdict(before), asdict(after)),
            )
        )
        uow.commit()
    return after
