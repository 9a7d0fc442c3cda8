"""A stock document posted in one round trip on PostgreSQL: `leanstock_post_document`.

The function (migration 0025, which says what it does and when it declines, and 0026, which
adds lot receipts and scraps) locks the document's stock rows, checks and picks, and writes
the operation, its moves and its balance changes, in one call with the whole document as
JSON. SQLite runs in the process, where a round trip costs nothing: there, and wherever the
function declines, the caller posts the document by the rules in Python
(`services.stock.direct`).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from leanstock.adapters.db.reservations import utc_now
from leanstock.domain.ledger import OneStepDocument

_CALL = text("SELECT leanstock_post_document(CAST(:doc AS jsonb))")

# What the step posted: the operation's id (None: a count that matched), its moves as (line,
# lot, quantity), and for a count the quantity the books held (None otherwise).
Posted = tuple[int | None, list[tuple[int, str | None, Decimal]], Decimal | None]


def _number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def post_document(db: Connection, document: OneStepDocument) -> Posted | None:
    """Post the document in one call; None when the function declined it (nothing written)."""
    doc: dict[str, Any] = {
        "kind": document.kind.value,
        "occurred_at": document.occurred_at.isoformat(),
        "recorded_at": utc_now().isoformat(),
        "today": document.today.isoformat(),
        "reference": document.reference,
        "partner": document.partner,
        "reason": document.reason,
        "note": document.note,
        "counted": _number(document.counted),
        "respect_reservations": document.respect_reservations,
        "allow_expired": document.allow_expired,
        "lots": [
            {"item": item_id, "code": code, "given": _day(given), "expiry": _day(expiry)}
            for item_id, code, given, expiry in document.lots
        ],
        "rows": [
            {"item": item_id, "location": place.id, "negative": place.may_go_negative}
            for item_id, place in document.rows
        ],
        "lines": [
            {
                "item": p.item_id,
                "source": p.source.id,
                "source_negative": p.source.may_go_negative,
                "target": p.target.id,
                "target_negative": p.target.may_go_negative,
                "quantity": str(p.quantity),
                "lot": p.lot,
                "unit_cost": _number(p.unit_cost),
            }
            for p in document.lines
        ],
    }
    answer = db.execute(_CALL, {"doc": json.dumps(doc)}).scalar_one()
    if answer is None:
        return None
    moves = [(int(line), lot, Decimal(quantity)) for line, lot, quantity in answer["moves"]]
    op_id = answer["operation"]
    held = answer.get("held")
    return (
        None if op_id is None else int(op_id),
        moves,
        None if held is None else Decimal(held),
    )
