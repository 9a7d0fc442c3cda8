"""The ports of EDI: trading partners, the interchange log, the orders sent
(`adapters/db/edi.py`), and what the three-way match reads of supplier invoices
(`adapters/db/invoices.py`); the unit of work's `edi` and `invoices`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from leanstock.domain.edi import TradingPartner


class EdiRepo(Protocol):
    """Trading partners, the interchange log, the purchase orders sent (`adapters/db/edi.py`)."""

    def partner_from(
        self, qualifier: str, interchange_id: str
    ) -> tuple[int, TradingPartner] | None: ...
    def partner(self, supplier_id: int) -> TradingPartner | None: ...
    def partners(self) -> list[tuple[int, TradingPartner]]: ...
    def put_partner(self, supplier_id: int, partner: TradingPartner) -> None: ...
    def remove_partner(self, supplier_id: int) -> bool: ...
    def next_control(self) -> int: ...
    def applied(self, supplier_id: int, control: str) -> dict[str, Any] | None: ...
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
    ) -> int: ...
    def interchanges(
        self,
        supplier: str | None,
        direction: str | None,
        status: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]: ...
    def interchange(self, interchange_id: int) -> dict[str, Any] | None: ...
    def unsent_orders(self, supplier_id: int) -> list[int]: ...
    def mark_sent(self, order_ids: Sequence[int], interchange_id: int) -> None: ...


class InvoicesRepo(Protocol):
    """What the three-way match reads of supplier invoices (`adapters/db/invoices.py`)."""

    def match_rows(
        self, supplier: str | None, order_id: int | None, since: date | None
    ) -> list[dict[str, Any]]: ...
