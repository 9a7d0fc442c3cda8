"""X12 004010 documents a supplier (ACME, trading as ZZ:ACMEEDI / group ACMEEDI) sends us
(ZZ:LEANSTOCK), for the EDI tests: one function per transaction set, and the envelope."""

from __future__ import annotations

from collections.abc import Sequence

PARTNER = ("ZZ", "ACMEEDI", "ACMEEDI")


def interchange(
    sets: Sequence[tuple[str, str, Sequence[str]]],
    control: int = 1,
    *,
    sender: str = "ACMEEDI",
    group_sender: str = "ACMEEDI",
    receiver: str = "LEANSTOCK",
) -> str:
    """An interchange of one group holding `sets` ((functional id, set code, body segments)
    each, the segments without terminator); envelopes numbered and counted right."""
    functional = sets[0][0] if sets else "PR"
    lines = [
        "ISA*00*          *00*          *ZZ*"
        f"{sender:<15}*ZZ*{receiver:<15}*261201*1200*U*00401*{control:09d}*0*P*>",
        f"GS*{functional}*{group_sender}*{receiver}*20261201*1200*{control}*X*004010",
    ]
    for n, (_, code, body) in enumerate(sets, start=1):
        lines.append(f"ST*{code}*{n:04d}")
        lines.extend(body)
        lines.append(f"SE*{len(body) + 2}*{n:04d}")
    lines += [f"GE*{len(sets)}*{control}", f"IEA*1*{control:09d}"]
    return "~\n".join(lines) + "~\n"


def acknowledgement(
    order: str, lines: Sequence[tuple[int, str, str, str]]
) -> tuple[str, str, list[str]]:
    """855 accepting (or changing) lines: (line, sku, quantity, delivery CCYYMMDD) each."""
    body = [f"BAK*00*AC*{order}*20261201"]
    for line, sku, quantity, delivery in lines:
        body += [f"PO1*{line}*{quantity}*EA*1.5**BP*{sku}", f"ACK*IA*{quantity}*EA*067*{delivery}"]
    body.append(f"CTT*{len(lines)}")
    return ("PR", "855", body)


def ship_notice(
    order: str, lots: Sequence[tuple[int, str, str, str | None, str | None]], expected: str
) -> tuple[str, str, list[str]]:
    """856 for one order: (line, sku, quantity, lot or None, expiry CCYYMMDD or None) each."""
    body = [
        "BSN*00*SHIP-1*20261203*1200",
        "HL*1**S",
        "TD5*B*2*ACMF",
        "REF*CN*TRACK-123",
        "DTM*011*20261203",
        f"DTM*017*{expected}",
        "HL*2*1*O",
        f"PRF*{order}",
    ]
    for n, (line, sku, quantity, lot, expiry) in enumerate(lots, start=3):
        body += [
            f"HL*{n}*2*I",
            f"LIN*{line}*BP*{sku}" + (f"*LT*{lot}" if lot else ""),
            f"SN1**{quantity}*EA",
        ]
        if expiry:
            body.append(f"DTM*036*{expiry}")
    body.append(f"CTT*{len(lots) + 2}")
    return ("SH", "856", body)


def invoice(
    order: str, number: str, lines: Sequence[tuple[int, str, str, str]], total_cents: int
) -> tuple[str, str, list[str]]:
    """810: (line, sku, quantity, unit price) each, and the total in cents."""
    body = [f"BIG*20261210*{number}**{order}"]
    for line, sku, quantity, price in lines:
        body.append(f"IT1*{line}*{quantity}*EA*{price}**BP*{sku}")
    body += [f"TDS*{total_cents}", f"CTT*{len(lines)}"]
    return ("IN", "810", body)
