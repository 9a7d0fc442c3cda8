"""Domain events: what happened, in the past tense, recorded by the aggregate it happened to.

An order's transition (`SalesOrder.confirm`, `PurchaseOrder.release`, ...) records an event on
the order; the unit of work writes every recorded event when it commits, in the order they
were recorded: an outbox row (for webhooks) for each event with a `name`, and an audit row
(who did what) for each with an `action`. So no use case writes either by hand, and nothing
is published that was rolled back.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar

_sequence = itertools.count()


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened to `subject` (an order number, a SKU).

    `name` is the outbox event ("sales_order.confirmed"; None: audited only) and `action` the
    audit trail's verb ("confirm"; None: not audited). The payload is the event's own fields
    unless a subclass says otherwise; the audit row records `changes()`, the payload unless
    a subclass says otherwise.
    """

    name: ClassVar[str | None] = None
    action: ClassVar[str | None] = None

    subject: str = ""
    sequence: int = field(default_factory=lambda: next(_sequence), compare=False, repr=False)

    def payload(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("subject", "sequence")
        }

    def changes(self) -> dict[str, Any]:
        return self.payload()

    @property
    def audit_action(self) -> str | None:
        return self.action

    @property
    def event_name(self) -> str | None:
        """The outbox event type this is published as (None: audited only)."""
        return self.name


# The audit verbs of `Changed` that are published too (outbox, webhooks), by event type: the
# catalog, customers, stock operations, reservations and plans. Their payload is the audit
# row's changes; each has a versioned JSON Schema (`domain.event_schemas`, docs/events.md).
PUBLISHED: dict[str, str] = {
    "item_create": "item.created",
    "item_update": "item.updated",
    "barcode_add": "item.barcode_added",
    "barcode_remove": "item.barcode_removed",
    "location_create": "location.created",
    "location_update": "location.updated",
    "supplier_create": "supplier.created",
    "supplier_update": "supplier.updated",
    "terms_create": "supplier_item.created",
    "terms_update": "supplier_item.updated",
    "customer_create": "customer.created",
    "customer_update": "customer.updated",
    "customer_delete": "customer.deleted",
    "receive": "stock.received",
    "ship": "stock.shipped",
    "transfer": "stock.transferred",
    "count": "stock.counted",
    "scrap": "stock.scrapped",
    "expire": "stock.expired",
    "quarantine_release": "stock.quarantine_released",
    "supplier_return": "stock.returned_to_supplier",
    "reserve": "reservation.created",
    "release": "reservation.released",
    "consume": "reservation.consumed",
    "plan_run": "plan.created",
    "plan_line_edit": "plan.line_changed",
    "plan_line_drop": "plan.line_dropped",
    "plan_approve": "plan.approved",
    "plan_release": "plan.released",
}


@dataclass(frozen=True, kw_only=True)
class Changed(DomainEvent):
    """A change the audit trail records: catalog and supplier terms, customers, stock
    operations, reservations, forecasts, the event calendar, plans. `verb` is the audit
    action; `values` its changes, `[before, after]` where a value changed (`created`,
    `diff`), or what was done (an operation's lines). The verbs in `PUBLISHED` are published
    as outbox events too."""

    verb: str
    values: dict[str, Any]

    @property
    def audit_action(self) -> str:
        return self.verb

    @property
    def event_name(self) -> str | None:
        return PUBLISHED.get(self.verb)

    def payload(self) -> dict[str, Any]:
        return self.values


def created(values: dict[str, Any]) -> dict[str, list[Any]]:
    """The `[before, after]` pairs of something new: nothing before."""
    return {k: [None, v] for k, v in values.items() if v is not None}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The `[before, after]` pairs of the values that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def facts(value: Any) -> dict[str, Any]:
    """A domain dataclass's fields as audit values (enums by their value)."""
    return {k: getattr(v, "value", v) for k, v in asdict(value).items()}


@dataclass
class Aggregate:
    """An entity whose transitions record events (`record`), collected when its unit of work
    commits (`collect`), each stamped with the aggregate's `number` unless it names another
    subject."""

    events: list[DomainEvent] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def number(self) -> str:
        raise NotImplementedError

    def record(self, event: DomainEvent) -> None:
        self.events.append(event)

    def collect(self) -> list[DomainEvent]:
        """The events recorded since the last collection, with their subject; then forgets them."""
        found = [e if e.subject else replace(e, subject=self.number) for e in self.events]
        self.events.clear()
        return found


def collect(aggregates: Iterable[Aggregate], recorded: Iterable[DomainEvent]) -> list[DomainEvent]:
    """Every event of a transaction, in the order it happened: those its aggregates recorded
    (each aggregate once, however often it was read) and those `recorded` beside them."""
    found = list(recorded)
    done: set[int] = set()
    for aggregate in aggregates:
        if id(aggregate) not in done:
            done.add(id(aggregate))
            found.extend(aggregate.collect())
    return sorted(found, key=lambda e: e.sequence)
