"""Trading partners, the interchange log, and which purchase orders went out by EDI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select

from leanstock.adapters.db import edi_tables as e
from leanstock.adapters.db import order_tables as o
from leanstock.adapters.db import tables as t
from leanstock.adapters.db.base import Repository, utc_now
from leanstock.domain.edi import TradingPartner
from leanstock.domain.orders import PurchaseStatus

CONTROL = "edi.last_control"

_PARTNERS = select(e.edi_partners, t.suppliers.c.code.label("supplier")).join(
    t.suppliers, t.suppliers.c.id == e.edi_partners.c.supplier_id
)


def _partner(row: Any) -> TradingPartner:
    return TradingPartner(row.supplier, row.qualifier, row.interchange_id, row.group_id)


class EdiRepository(Repository):
    def partner_from(
        self, qualifier: str, interchange_id: str
    ) -> tuple[int, TradingPartner] | None:
        """The partner whose interchanges come from `interchange_id` under `qualifier`, locked:
        interchanges from one partner are applied one at a time (its supplier id with it)."""
        row = self.db.execute(
            _PARTNERS.where(
                e.edi_partners.c.qualifier == qualifier.strip().upper(),
                e.edi_partners.c.interchange_id == interchange_id.strip().upper(),
            ).with_for_update(of=e.edi_partners)
        ).first()
        return None if row is None else (int(row.supplier_id), _partner(row))

    def partner(self, supplier_id: int) -> TradingPartner | None:
        row = self.db.execute(_PARTNERS.where(e.edi_partners.c.supplier_id == supplier_id)).first()
        return None if row is None else _partner(row)

    def partners(self) -> list[tuple[int, TradingPartner]]:
        rows = self.db.execute(_PARTNERS.order_by(t.suppliers.c.code))
        return [(int(r.supplier_id), _partner(r)) for r in rows]

    def put_partner(self, supplier_id: int, partner: TradingPartner) -> None:
        now = utc_now()
        values = {
            "qualifier": partner.qualifier,
            "interchange_id": partner.interchange_id,
            "group_id": partner.group_id,
            "updated_at": now,
        }
        insert = self._insert(e.edi_partners).values(
            supplier_id=supplier_id, created_at=now, **values
        )
        self.db.execute(insert.on_conflict_do_update(index_elements=["supplier_id"], set_=values))

    def remove_partner(self, supplier_id: int) -> bool:
        result = self.db.execute(
            e.edi_partners.delete().where(e.edi_partners.c.supplier_id == supplier_id)
        )
        return bool(result.rowcount)

    def next_control(self) -> int:
        """The control number of the next interchange we send (counted in `settings`, whose
        row is locked until this transaction ends, so two never get the same)."""
        last = self.db.execute(
            select(t.settings.c.value).where(t.settings.c.key == CONTROL).with_for_update()
        ).scalar_one()
        control = int(last) % 999_999_999 + 1
        self.db.execute(
            t.settings.update()
            .where(t.settings.c.key == CONTROL)
            .values(value=str(control), updated_at=utc_now())
        )
        return control

    def applied(self, supplier_id: int, control: str) -> dict[str, Any] | None:
        """The interchange with this control number from this partner that was applied."""
        row = self.db.execute(
            select(e.edi_interchanges).where(
                e.edi_interchanges.c.direction == "in",
                e.edi_interchanges.c.supplier_id == supplier_id,
                e.edi_interchanges.c.control_number == control,
                e.edi_interchanges.c.status.in_(("accepted", "partially_accepted")),
            )
        ).first()
        return None if row is None else dict(row._mapping)

    def add_interchange(
        self,
        direction: str,
        supplier_id: int | None,
        control: str,
        status: str,
        digest: str,
        document: str,
        acknowledgement: str | None,
        reasons: Sequence[str],
        documents: Sequence[str],
        created_by: str,
    ) -> int:
        return self._add(
            e.edi_interchanges,
            direction=direction,
            supplier_id=supplier_id,
            control_number=control,
            status=status,
            digest=digest,
            document=document,
            acknowledgement=acknowledgement,
            reasons=list(reasons),
            documents=list(documents),
            created_by=created_by,
            created_at=utc_now(),
        )

    def interchanges(
        self,
        supplier: str | None,
        direction: str | None,
        status: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """The log, newest first, narrowed to the principal's supplier when it is bound."""
        query: Select[Any] = select(
            e.edi_interchanges.c.id,
            e.edi_interchanges.c.direction,
            t.suppliers.c.code.label("supplier"),
            e.edi_interchanges.c.control_number,
            e.edi_interchanges.c.status,
            e.edi_interchanges.c.reasons,
            e.edi_interchanges.c.documents,
            e.edi_interchanges.c.created_by,
            e.edi_interchanges.c.created_at,
        ).outerjoin(t.suppliers, t.suppliers.c.id == e.edi_interchanges.c.supplier_id)
        if self.visibility.supplier is not None:
            query = query.where(t.suppliers.c.code == self.visibility.supplier)
        if supplier is not None:
            query = query.where(t.suppliers.c.code == supplier)
        if direction is not None:
            query = query.where(e.edi_interchanges.c.direction == direction)
        if status is not None:
            query = query.where(e.edi_interchanges.c.status == status)
        return self._page(query, e.edi_interchanges.c.id.desc(), limit, offset)

    def interchange(self, interchange_id: int) -> dict[str, Any] | None:
        query = (
            select(e.edi_interchanges, t.suppliers.c.code.label("supplier"))
            .outerjoin(t.suppliers, t.suppliers.c.id == e.edi_interchanges.c.supplier_id)
            .where(e.edi_interchanges.c.id == interchange_id)
        )
        if self.visibility.supplier is not None:
            query = query.where(t.suppliers.c.code == self.visibility.supplier)
        row = self.db.execute(query).first()
        return None if row is None else dict(row._mapping)

    def unsent_orders(self, supplier_id: int) -> list[int]:
        """The supplier's released purchase orders not yet sent as an 850, oldest first."""
        sent = select(e.edi_sent_orders.c.order_id)
        rows = self.db.execute(
            select(o.purchase_orders.c.id)
            .where(
                o.purchase_orders.c.supplier_id == supplier_id,
                o.purchase_orders.c.status == PurchaseStatus.RELEASED.value,
                o.purchase_orders.c.id.notin_(sent),
            )
            .order_by(o.purchase_orders.c.id)
            .with_for_update(of=o.purchase_orders)
        )
        return [int(r.id) for r in rows]

    def mark_sent(self, order_ids: Sequence[int], interchange_id: int) -> None:
        if order_ids:
            self.db.execute(
                e.edi_sent_orders.insert(),
                [{"order_id": i, "interchange_id": interchange_id} for i in order_ids],
            )
