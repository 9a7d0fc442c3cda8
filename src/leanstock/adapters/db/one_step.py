"""A stock document posted in one round trip on PostgreSQL: `leanstock_post_document`.

The function (migration 0025, which says what it does and when it declines) locks the
document's stock rows, checks and picks, and writes the operation, its moves and its balance
changes, in one call with the whole document as JSON. SQLite runs in the process, where a
round trip costs nothing: there, and wherever the function declines, the caller posts the
document by the rules in Python (`services.stock.direct`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from leanstock.adapters.db.reservations import utc_now
from leanstock.domain.ledger import MoveKind, OneStepDocument

_CALL = text("SELECT leanstock_post_document(CAST(:doc AS jsonb))")
_BATCH = text("SELECT leanstock_post_batch(CAST(:batch AS jsonb))")

# What the step posted: the operation's id and its moves as (line, lot, quantity).
Posted = tuple[int, list[tuple[int, str | None, Decimal]]]


def _number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _lines(document: OneStepDocument) -> list[dict[str, Any]]:
    numbers = document.numbers or range(len(document.lines))
    return [
        {
            "number": number,
            "item": p.item_id,
            "source": p.source.id,
            "source_negative": p.source.may_go_negative,
            "target": p.target.id,
            "target_negative": p.target.may_go_negative,
            "quantity": str(p.quantity),
            "lot": p.lot,
            "unit_cost": _number(p.unit_cost) if document.kind is MoveKind.RECEIPT else None,
        }
        for number, p in zip(numbers, document.lines, strict=True)
    ]


# What the batch call decided for a document: (operation id, moves as in `Posted`), or the
# refusal as the function reported it ({"refused": "stock" | "lot" | "expired", "line": n,
# "available": quantity as text, "lot": code, "expires_on": ISO date}).
Decided = Posted | dict[str, Any]


def post_batch(
    db: Connection, documents: Sequence[OneStepDocument], occurred_at: datetime, today: date
) -> list[Decided]:
    """Decide and post a run of documents in one call (`leanstock_post_batch`, migration
    0026), in order: one answer per document, as many as the function decided before the
    first one Python must decide (its writes must then be rolled back by the caller)."""
    rows: dict[tuple[int, int], bool] = {}
    for document in documents:
        for item_id, place in document.rows:
            rows[(item_id, place.id)] = place.may_go_negative
    batch = {
        "occurred_at": occurred_at.isoformat(),
        "recorded_at": utc_now().isoformat(),
        "today": today.isoformat(),
        "rows": [
            {"item": item, "location": location, "negative": negative}
            for (item, location), negative in sorted(rows.items())
        ],
        "docs": [
            {
                "kind": d.kind.value,
                "reference": d.reference,
                "partner": d.partner,
                "reason": d.reason,
                "lines": _lines(d),
            }
            for d in documents
        ],
    }
    answer = db.execute(_BATCH, {"batch": json.dumps(batch)}).scalar_one()
    decided: list[Decided] = []
    for result in answer["results"]:
        if "operation" in result:
            moves = [(int(n), lot, Decimal(q)) for n, lot, q in result["moves"]]
            decided.append((int(result["operation"]), moves))
        else:
            decided.append(result)
    return decided


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
        "rows": [
            {"item": item_id, "location": place.id, "negative": place.may_go_negative}
            for item_id, place in document.rows
        ],
        "lines": _lines(document),
    }
    answer = db.execute(_CALL, {"doc": json.dumps(doc)}).scalar_one()
    if answer is None:
        return None
    moves = [(int(line), lot, Decimal(quantity)) for line, lot, quantity in answer["moves"]]
    return int(answer["operation"]), moves
