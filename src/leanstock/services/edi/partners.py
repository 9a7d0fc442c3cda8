"""EDI trading partners: our own ids, and which supplier sends and receives under which ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leanstock.domain.edi import (
    TradingPartner,
)
from leanstock.domain.errors import InvalidInput, NotFound
from leanstock.domain.events import Changed, created, diff
from leanstock.services.ports import UnitOfWork
from leanstock.services.retry import retrying

# Our ids, unless the settings say otherwise (`set_our_ids`).
OUR_QUALIFIER, OUR_ID, OUR_GROUP = "ZZ", "LEANSTOCK", "LEANSTOCK"
SETTING = {
    "qualifier": "edi.qualifier",
    "interchange_id": "edi.interchange_id",
    "group_id": "edi.group_id",
}


def our_ids(uow: UnitOfWork) -> TradingPartner:
    """Our own ids (ISA qualifier and id, GS id), as `set_our_ids` set them, else LEANSTOCK
    under ZZ; call inside a unit of work."""
    values = {k: uow.valuation.setting(key) for k, key in SETTING.items()}
    return TradingPartner(
        "",
        values["qualifier"] or OUR_QUALIFIER,
        values["interchange_id"] or OUR_ID,
        values["group_id"] or OUR_GROUP,
    )


@retrying
def set_our_ids(
    uow: UnitOfWork, qualifier: str, interchange_id: str, group_id: str, *, actor: str = "system"
) -> TradingPartner:
    """The ids our interchanges go out under, and that partners address theirs to."""
    ours = TradingPartner("", qualifier, interchange_id, group_id)
    with uow.acting(actor):
        before = our_ids(uow)
        for name, key in SETTING.items():
            uow.valuation.put_setting(key, str(getattr(ours, name)))
        uow.record(
            Changed(
                subject="settings:edi",
                verb="edi_ids",
                values=diff(_facts(before), _facts(ours)),
            )
        )
        uow.commit()
    return ours


def _facts(partner: TradingPartner) -> dict[str, Any]:
    return {
        "qualifier": partner.qualifier,
        "interchange_id": partner.interchange_id,
        "group_id": partner.group_id,
    }


@retrying
def set_partner(
    uow: UnitOfWork,
    supplier: str,
    qualifier: str,
    interchange_id: str,
    group_id: str,
    *,
    actor: str = "system",
) -> TradingPartner:
    """Make a supplier a trading partner (or change its ids): interchanges from these ids are
    its, and its released purchase orders go out as 850s."""
    partner = TradingPartner(supplier, qualifier, interchange_id, group_id)
    with uow.acting(actor):
        stored = uow.catalog.supplier(supplier, "supplier")
        taken = uow.edi.partner_from(partner.qualifier, partner.interchange_id)
        if taken is not None and taken[0] != stored.id:
            raise InvalidInput(
                f"{partner.qualifier}:{partner.interchange_id} is already the EDI id of "
                f"supplier {taken[1].supplier}; each partner needs its own.",
                "interchange_id",
            )
        before = uow.edi.partner(stored.id)
        uow.edi.put_partner(stored.id, partner)
        uow.record(
            Changed(
                subject=f"supplier:{supplier}",
                verb="edi_partner",
                values=diff(_facts(before), _facts(partner))
                if before
                else created(_facts(partner)),
            )
        )
        uow.commit()
    return partner


@retrying
def remove_partner(uow: UnitOfWork, supplier: str, *, actor: str = "system") -> None:
    """The supplier no longer trades by EDI (its log stays)."""
    with uow.acting(actor):
        stored = uow.catalog.supplier(supplier, "supplier")
        before = uow.edi.partner(stored.id)
        if before is None or not uow.edi.remove_partner(stored.id):
            raise NotFound("trading partner", supplier, "supplier")
        uow.record(
            Changed(
                subject=f"supplier:{supplier}",
                verb="edi_partner_remove",
                values={k: [v, None] for k, v in _facts(before).items()},
            )
        )
        uow.commit()


def partners(uow: UnitOfWork) -> list[TradingPartner]:
    with uow:
        return [p for _, p in uow.edi.partners()]


def partner_of(uow: UnitOfWork, supplier: str) -> TradingPartner:
    with uow:
        stored = uow.catalog.supplier(supplier, "supplier")
        found = uow.edi.partner(stored.id)
    if found is None:
        raise NotFound("trading partner", supplier, "supplier")
    return found


def stamp(now: datetime) -> str:
    """An interchange's date and time (CCYYMMDDHHMM, UTC)."""
    return now.astimezone(UTC).strftime("%Y%m%d%H%M")
