"""Reading X12 interchanges (envelopes checked) and writing them: no database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edi_documents import acknowledgement, interchange, invoice, ship_notice
from leanstock.adapters.edi import sets, x12
from leanstock.domain.edi import DocumentError

ACK = acknowledgement("PO-000007", [(1, "CUP", "10", "20261205"), (2, "LID", "4", "20261207")])


def test_a_sound_interchange_reads_into_its_group_and_sets() -> None:
    read = x12.read(interchange([ACK], 42))
    assert read.sound
    assert (read.sender_qualifier, read.sender, read.receiver, read.control) == (
        "ZZ",
        "ACMEEDI",
        "LEANSTOCK",
        "000000042",
    )
    [group] = read.groups
    assert (group.functional_id, group.control, group.version) == ("PR", "42", "004010")
    [ts] = group.sets
    assert (ts.code, ts.control, ts.errors) == ("855", "0001", [])
    assert [s.id for s in ts.segments] == ["BAK", "PO1", "ACK", "PO1", "ACK", "CTT"]
    assert ts.segments[0].position == 2  # ST is 1
    assert ts.segments[1].get(7) == "CUP"


@pytest.mark.parametrize(
    ("change", "level", "code"),
    [
        (("SE*8*0001", "SE*9*0001"), "set", "4"),  # segment count
        (("SE*8*0001", "SE*8*0002"), "set", "3"),  # ST/SE control numbers
        (("GE*1*42", "GE*2*42"), "group", "5"),  # set count
        (("GE*1*42", "GE*1*43"), "group", "4"),  # GS/GE control numbers
        (("IEA*1*000000042", "IEA*2*000000042"), "interchange", "021"),  # group count
        (("IEA*1*000000042", "IEA*1*000000043"), "interchange", "001"),  # ISA/IEA control
        (("IEA*1*000000042~\n", ""), "interchange", "023"),  # no IEA
        (("BAK*", "~BAK*"), "interchange", "024"),  # an empty segment hides what follows
        (("ST*855*0001~\n", ""), "interchange", "024"),  # a segment outside any set
    ],
)
def test_every_envelope_fault_is_found_on_its_level(
    change: tuple[str, str], level: str, code: str
) -> None:
    text = interchange([ACK], 42)
    assert change[0] in text
    read = x12.read(text.replace(change[0], change[1], 1))
    assert not read.sound or any(s.errors for g in read.groups for s in g.sets)
    found = {
        "interchange": read.errors,
        "group": read.groups[0].errors if read.groups else [],
        "set": read.groups[0].sets[0].errors if read.groups and read.groups[0].sets else [],
    }[level]
    assert code in [e.code for e in found], found


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hello", "starts with an ISA"),
        ("ISA*00*short~", "106 characters"),
        (interchange([ACK]).replace("00401", "00501", 1), "version 00401"),
        (interchange([ACK]).replace("CUP", "CÜP"), "ASCII"),
    ],
)
def test_text_without_a_readable_isa_is_not_an_interchange(text: str, words: str) -> None:
    with pytest.raises(x12.NotAnInterchange, match=words):
        x12.read(text)


@given(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=127), max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_after_an_isa_is_read_without_an_exception(tail: str) -> None:
    head = interchange([ACK], 5)[: x12.ISA_LENGTH]
    read = x12.read(head + tail)
    assert read.errors or read.groups is not None


def test_the_855_maps_lines_quantities_and_delivery_dates() -> None:
    [ts] = x12.read(interchange([ACK])).groups[0].sets
    ack = sets.acknowledgement(ts)
    assert ack.order == "PO-000007"
    assert [(ln.line_no, ln.sku, ln.quantity, str(ln.delivery)) for ln in ack.lines] == [
        (1, "CUP", Decimal(10), "2026-12-05"),
        (2, "LID", Decimal(4), "2026-12-07"),
    ]


def test_the_856_maps_orders_lines_lots_and_expiry() -> None:
    notice = ship_notice(
        "PO-000007",
        [(1, "MILK", "6", "L1", "20261220"), (1, "MILK", "4", "L2", "20261222")],
        "20261205",
    )
    [ts] = x12.read(interchange([notice])).groups[0].sets
    read = sets.ship_notice(ts)
    assert (read.carrier, read.tracking, str(read.expected)) == ("ACMF", "TRACK-123", "2026-12-05")
    [order] = read.orders
    assert [(lot.line_no, lot.quantity, lot.lot, str(lot.expires_on)) for lot in order.lots] == [
        (1, Decimal(6), "L1", "2026-12-20"),
        (1, Decimal(4), "L2", "2026-12-22"),
    ]


def test_an_810_whose_total_is_not_its_lines_is_refused_where_the_total_is() -> None:
    bad = invoice("PO-000007", "INV-9", [(1, "CUP", "10", "1.5")], 1600)
    [ts] = x12.read(interchange([bad])).groups[0].sets
    with pytest.raises(DocumentError, match=r"add up to 15\.00") as refused:
        sets.invoice(ts)
    assert (refused.value.segment, refused.value.element) == ("TDS", 1)


@pytest.mark.parametrize(
    ("old", "new", "segment", "words"),
    [
        ("BAK*00*AC*PO-000007", "BAK*00*AC*12345", "BAK", "purchase order number"),
        ("ACK*IA*10*EA*067*20261205", "ACK*IA*10*EA*067*20261305", "ACK", "date"),
        ("ACK*IA*10*EA*067", "ACK*IA*ten*EA*067", "ACK", "number"),
        ("**BP*CUP", "**VP*CUP", "PO1", "buyer's part number"),
        ("CTT*2", "CTT*3", "CTT", "has 2"),
        ("CTT*2", "XYZ*1", "XYZ", "not read"),
    ],
)
def test_a_malformed_855_is_refused_naming_the_segment(
    old: str, new: str, segment: str, words: str
) -> None:
    text = interchange([ACK]).replace(old, new, 1)
    [ts] = x12.read(text).groups[0].sets
    with pytest.raises(DocumentError, match=words) as refused:
        sets.acknowledgement(ts)
    assert refused.value.segment == segment


def test_an_850_and_a_997_written_read_back_sound() -> None:
    order = sets.OrderOut(
        "PO-000003",
        date(2026, 12, 1),
        "WH",
        "Warehouse",
        (sets.OrderLineOut(1, "CUP", "Cup*~", Decimal("10"), "EA", Decimal("1.5"), None, "A-1"),),
    )
    envelope = x12.Envelope("ZZ", "LEANSTOCK", "ZZ", "ACMEEDI", 12, "LEANSTOCK", "ACMEEDI")
    text = x12.write(envelope, "PO", [("850", sets.purchase_order(order))], "202612011200")
    read = x12.read(text)
    assert read.sound
    assert read.control == "000000012"
    [ts] = read.groups[0].sets
    assert [s.id for s in ts.segments] == ["BEG", "N1", "PO1", "PID", "CTT"]
    assert ts.segments[2].elements == ("1", "10", "EA", "1.5", "", "BP", "CUP", "VP", "A-1")
    assert ts.segments[3].get(5) == "Cup"  # the delimiters in a name are not written
    result = sets.GroupResult("PR", "7", None, [sets.SetResult("855", "0001")])
    ack = x12.write(envelope, "FA", sets.functional_acknowledgement([result]), "202612011200")
    read_ack = x12.read(ack)
    assert read_ack.sound
    assert [s.id for s in read_ack.groups[0].sets[0].segments] == ["AK1", "AK2", "AK5", "AK9"]


def test_an_855_rejecting_the_order_without_detail_confirms_nothing() -> None:
    rejected = ("PR", "855", ["BAK*00*RJ*PO-000007*20261201"])
    [ts] = x12.read(interchange([rejected])).groups[0].sets
    ack = sets.acknowledgement(ts)
    assert (ack.order, ack.lines, ack.rejected) == ("PO-000007", (), True)


@pytest.mark.parametrize("bad", ["A*1", "a1*2", "ABCD*1", "1AB"])
def test_a_segment_id_that_is_no_segment_id_is_refused_by_its_number(bad: str) -> None:
    read = x12.read(interchange([ACK]).replace("CTT*2", bad))
    assert [e.code for e in read.errors] == ["024"]
    assert "Segment 9 has the id" in read.errors[0].message
