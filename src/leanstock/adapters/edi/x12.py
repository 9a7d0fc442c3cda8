"""ANSI X12 004010 interchanges: read one (envelopes checked), write one.

Reading splits the text into segments and checks the envelopes with pyx12's `X12Reader` (a
kept, BSD-licensed library: it finds the delimiters in the ISA, and checks that the IEA, GE and
SE trailers name their header's control number and count what they enclose). pyx12 validates
transaction sets only against its HIPAA maps (healthcare claims and the like), so the purchase
order sets (850, 855, 856, 810) are mapped in `sets.py`; what pyx12 leaves unchecked is checked
here: the ISA's fixed fields, version 00401 / 004010, the segments' nesting (ISA, GS, ST ... SE,
GE, IEA, nothing outside), segments lost after an empty one, and characters outside ASCII.

Every problem found is kept as an `EnvelopeError` on the level it concerns (interchange, group,
transaction set), with the X12 code the acknowledgement reports (TA1 note codes, AK9/AK5
syntax codes), so one reading reports every problem, not only the first.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyx12.errors
from pyx12.x12file import X12Reader

from leanstock.domain.errors import InvalidInput

ISA_LENGTH = 106
VERSION = "00401"
GROUP_VERSION = "004010"
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_DIGITS = re.compile(r"^[0-9]+$")


class NotAnInterchange(InvalidInput):
    """Text that cannot be acknowledged at all: no readable ISA to answer to."""


@dataclass(frozen=True)
class EnvelopeError:
    """One problem: `code` is the X12 code for the level (TA1 note code for the interchange,
    AK905 for a group, AK501/AK304/AK403 for a set, its segments and elements)."""

    code: str
    message: str
    segment: str | None = None
    position: int | None = None  # the segment's position in its transaction set (ST = 1)
    element: int | None = None


@dataclass(frozen=True)
class Segment:
    id: str
    elements: tuple[str, ...]
    position: int = 0  # in its transaction set, ST = 1 (0 outside a set)

    def get(self, n: int) -> str:
        """Element `n` (1-based), or "" when the segment is shorter."""
        return self.elements[n - 1].strip() if 0 < n <= len(self.elements) else ""


@dataclass
class TransactionSet:
    code: str
    control: str
    segments: list[Segment] = field(default_factory=list)  # between ST and SE
    errors: list[EnvelopeError] = field(default_factory=list)


@dataclass
class Group:
    functional_id: str
    sender: str
    receiver: str
    control: str
    version: str
    sets: list[TransactionSet] = field(default_factory=list)
    errors: list[EnvelopeError] = field(default_factory=list)


@dataclass
class Interchange:
    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str
    control: str
    usage: str  # P production, T test
    element_separator: str
    component_separator: str
    segment_terminator: str
    groups: list[Group] = field(default_factory=list)
    errors: list[EnvelopeError] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        """Whether the envelopes (interchange and groups) are free of problems."""
        return not self.errors and not any(g.errors for g in self.groups)


def _isa(text: str) -> Interchange:
    if not text.startswith("ISA"):
        raise NotAnInterchange(
            f"An X12 interchange starts with an ISA segment, not {text[:3]!r}.", "body"
        )
    if len(text) < ISA_LENGTH:
        raise NotAnInterchange(
            f"The ISA segment is {ISA_LENGTH} characters long; the text has only {len(text)}.",
            "body",
        )
    head = text[:ISA_LENGTH]
    separator, terminator = head[3], head[-1]
    elements = head[:-1].split(separator)
    if len(elements) != 17 or separator.isalnum() or terminator.isalnum():
        raise NotAnInterchange(
            "The ISA segment must be 106 characters: 16 fixed-width elements after 'ISA', "
            f"separated by the character after 'ISA' ({separator!r}), ended by the segment "
            "terminator.",
            "body",
        )
    if elements[12] != VERSION:
        raise NotAnInterchange(
            f"Leanstock reads X12 version {VERSION} (004010); ISA12 says {elements[12]!r}.",
            "body",
        )
    component = elements[16]
    if len({separator, terminator, component}) != 3:
        raise NotAnInterchange(
            "The ISA's element separator, component separator (ISA16) and segment terminator "
            "must be three different characters.",
            "body",
        )
    return Interchange(
        sender_qualifier=elements[5].strip(),
        sender=elements[6].strip(),
        receiver_qualifier=elements[7].strip(),
        receiver=elements[8].strip(),
        control=elements[13],
        usage=elements[15],
        element_separator=separator,
        component_separator=component,
        segment_terminator=terminator,
    )


def _isa_fields(interchange: Interchange, raw: Sequence[str]) -> None:
    widths = {1: 2, 2: 10, 3: 2, 4: 10, 5: 2, 6: 15, 7: 2, 8: 15, 9: 6, 10: 4, 13: 9, 14: 1}
    for n, width in widths.items():
        if len(raw[n - 1]) != width:
            interchange.errors.append(
                EnvelopeError("024", f"ISA{n:02d} must be {width} characters wide.")
            )
    if not _DIGITS.match(interchange.control):
        interchange.errors.append(
            EnvelopeError("018", "ISA13, the interchange control number, must be 9 digits.")
        )
    if interchange.usage not in ("P", "T"):
        interchange.errors.append(EnvelopeError("020", "ISA15 must be P (production) or T (test)."))
    if not interchange.sender or not interchange.receiver:
        interchange.errors.append(
            EnvelopeError("006", "ISA06 (sender) and ISA08 (receiver) must not be blank.")
        )


_ISA_CODES = {"001": "001", "021": "021", "023": "023", "024": "024", "025": "025"}
_GS_CODES = {"3": "3", "4": "4", "5": "5", "6": "6"}
_ST_CODES = {"2": "2", "3": "3", "4": "4", "23": "23"}


def read(text: str) -> Interchange:
    """The interchange in `text`, with every envelope problem found on it; `NotAnInterchange`
    when there is no ISA to acknowledge."""
    if not text.isascii():
        raise NotAnInterchange(
            "An X12 interchange is ASCII text; this one has other characters "
            f"(the first at character {next(i for i, c in enumerate(text) if not c.isascii())}).",
            "body",
        )
    if "\x00" in text:
        raise NotAnInterchange(
            f"An X12 interchange has no NUL characters; this one has one at {text.index(chr(0))}.",
            "body",
        )
    text = text.lstrip("\r\n")
    interchange = _isa(text)
    try:
        reader = X12Reader(io.StringIO(text))
    except pyx12.errors.X12Error as error:  # pyx12 checks the same ISA: say it in our words
        raise NotAnInterchange(f"The ISA segment cannot be read: {error}", "body") from error
    group: Group | None = None
    current: TransactionSet | None = None
    closed = False
    position = 0
    count = 0
    try:
        for seg in reader:
            count += 1
            seg_id = seg.get_seg_id()
            if not _SEGMENT_ID.match(seg_id):
                interchange.errors.append(
                    EnvelopeError(
                        "024",
                        f"Segment {count} has the id {seg_id[:10]!r}; a segment id is 2 or 3 "
                        "capital letters and digits.",
                    )
                )
                reader.pop_errors()
                continue
            values = tuple(seg.get_value(f"{seg_id}{n:02d}") or "" for n in range(1, len(seg) + 1))
            if closed:
                interchange.errors.append(
                    EnvelopeError("024", f"Segment {seg_id} (number {count}) follows the IEA.")
                )
            if seg_id == "ISA":
                _isa_fields(
                    interchange, text[: ISA_LENGTH - 1].split(interchange.element_separator)[1:]
                )
            elif seg_id == "GS":
                if group is not None or current is not None:
                    interchange.errors.append(
                        EnvelopeError("024", f"GS (segment {count}) opens before the last GE.")
                    )
                group = Group(
                    functional_id=values[0] if values else "",
                    sender=values[1].strip() if len(values) > 1 else "",
                    receiver=values[2].strip() if len(values) > 2 else "",
                    control=values[5] if len(values) > 5 else "",
                    version=values[7] if len(values) > 7 else "",
                )
                interchange.groups.append(group)
                if len(values) < 8 or not _DIGITS.match(group.control):
                    group.errors.append(
                        EnvelopeError("6", "GS needs 8 elements, GS06 a numeric control number.")
                    )
                elif group.version != GROUP_VERSION:
                    group.errors.append(
                        EnvelopeError("2", f"GS08 must be {GROUP_VERSION}, not {group.version!r}.")
                    )
            elif seg_id == "ST":
                if group is None or current is not None:
                    interchange.errors.append(
                        EnvelopeError("024", f"ST (segment {count}) is outside a GS ... GE group.")
                    )
                position = 1
                current = TransactionSet(
                    values[0] if values else "", values[1] if len(values) > 1 else ""
                )
                if group is not None:
                    group.sets.append(current)
                if len(values) < 2 or not current.code or not current.control:
                    current.errors.append(
                        EnvelopeError(
                            "7", "ST needs ST01 (the set's code) and ST02 (its control number)."
                        )
                    )
            elif seg_id == "SE":
                if current is None:
                    interchange.errors.append(
                        EnvelopeError("024", f"SE (segment {count}) has no ST before it.")
                    )
                current = None
            elif seg_id == "GE":
                if group is None or current is not None:
                    interchange.errors.append(
                        EnvelopeError(
                            "024", f"GE (segment {count}) closes no group, or an open set."
                        )
                    )
                group = None
            elif seg_id == "IEA":
                if group is not None:
                    interchange.errors.append(EnvelopeError("024", "IEA comes before the last GE."))
                closed = True
            elif current is not None:
                position += 1
                current.segments.append(Segment(seg_id, values, position))
            elif seg_id == "TA1" and group is None and not closed:
                pass  # an interchange acknowledgement: between the ISA and the groups
            else:
                interchange.errors.append(
                    EnvelopeError(
                        "024", f"Segment {seg_id} (number {count}) is outside any transaction set."
                    )
                )
            for kind, code, message, _value, _line in reader.pop_errors():
                _place(interchange, group, current, kind, code, message, seg_id)
    except (
        IndexError,
        KeyError,
        TypeError,
        ValueError,
        pyx12.errors.X12Error,
        pyx12.errors.EngineError,
        pyx12.errors.X12PathError,
    ) as error:
        # pyx12 indexes its open envelopes without checking there is one: a trailer without
        # its header ends the reading there.
        interchange.errors.append(
            EnvelopeError(
                "024", f"The envelopes cannot be read past segment {count + 1} ({error})."
            )
        )
    reader.cleanup()
    for kind, code, message, _value, _line in reader.pop_errors():
        _place(interchange, group, current, kind, code, message, "")
    rest = reader.raw.buffer + reader.raw.fd.read()
    if rest.strip():
        interchange.errors.append(
            EnvelopeError(
                "024",
                "Text is left after the last segment read (an empty segment, or a last "
                f"segment without the terminator {interchange.segment_terminator!r}): "
                f"{rest.strip()[:40]!r}.",
            )
        )
    if not closed and not any(e.code == "023" for e in interchange.errors):
        interchange.errors.append(EnvelopeError("023", "The interchange has no IEA trailer."))
    return interchange


def _problem(
    interchange: Interchange,
    group: Group | None,
    current: TransactionSet | None,
    code: str,
    message: str,
) -> None:
    if current is not None:
        current.errors.append(EnvelopeError("5", message))
    elif group is not None:
        group.errors.append(EnvelopeError("6", message))
    else:
        interchange.errors.append(EnvelopeError("024", message))


def _place(
    interchange: Interchange,
    group: Group | None,
    current: TransactionSet | None,
    kind: str,
    code: str,
    message: str,
    seg_id: str,
) -> None:
    """File one of pyx12's findings on the level it concerns, with that level's X12 code.

    After a trailer the level it closed is no longer open, so a finding on SE goes to the set
    just closed, one on GE to the group just closed."""
    if kind == "isa":
        interchange.errors.append(EnvelopeError(_ISA_CODES.get(code, "024"), message))
    elif kind == "gs":
        target = group or (interchange.groups[-1] if interchange.groups else None)
        if target is None:
            interchange.errors.append(EnvelopeError("024", message))
        else:
            target.errors.append(EnvelopeError(_GS_CODES.get(code, "6"), message))
    elif kind == "st":
        target_set = current
        if target_set is None and interchange.groups and interchange.groups[-1].sets:
            target_set = interchange.groups[-1].sets[-1]
        if target_set is None:
            interchange.errors.append(EnvelopeError("024", message))
        else:
            target_set.errors.append(EnvelopeError(_ST_CODES.get(code, "5"), message))
    else:
        _problem(interchange, group, current, "5", message)


@dataclass(frozen=True)
class Envelope:
    """Who an outbound interchange is from and to, and its control numbers."""

    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str
    control: int
    group_sender: str
    group_receiver: str
    usage: str = "P"


SEPARATOR = "*"
COMPONENT = ">"
TERMINATOR = "~"


def clean(value: str) -> str:
    """An element value safe to write: the delimiters and line breaks replaced by spaces."""
    for bad in (SEPARATOR, COMPONENT, TERMINATOR, "\r", "\n", "^"):
        value = value.replace(bad, " ")
    return value.strip()


def segment(*elements: str) -> str:
    values = [clean(e) for e in elements]
    while len(values) > 1 and values[-1] == "":
        values.pop()
    return SEPARATOR.join(values) + TERMINATOR


def write(
    envelope: Envelope,
    functional_id: str,
    sets: Sequence[tuple[str, Sequence[str]]],
    when: str,
    leading: Sequence[str] = (),
) -> str:
    """An interchange of one functional group holding `sets` ((code, body segments) each,
    written with `segment`), numbered from `envelope.control`: ISA13 and GS06 are the control,
    ST02 0001, 0002, .... `when` is YYYYMMDDHHMM. `leading` segments (a TA1) come before the
    group; with no sets, no group is written."""
    date, time = when[:8], when[8:12]
    control = f"{envelope.control:09d}"
    isa = SEPARATOR.join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            envelope.sender_qualifier.ljust(2)[:2],
            envelope.sender.ljust(15)[:15],
            envelope.receiver_qualifier.ljust(2)[:2],
            envelope.receiver.ljust(15)[:15],
            date[2:],
            time,
            "U",
            VERSION,
            control,
            "0",
            envelope.usage,
            COMPONENT,
        ]
    )
    out = [isa + TERMINATOR, *leading]
    if sets:
        out.append(
            segment(
                "GS",
                functional_id,
                envelope.group_sender,
                envelope.group_receiver,
                date,
                time,
                str(envelope.control),
                "X",
                GROUP_VERSION,
            )
        )
        for n, (code, body) in enumerate(sets, start=1):
            number = f"{n:04d}"
            out.append(segment("ST", code, number))
            out.extend(body)
            out.append(segment("SE", str(len(body) + 2), number))
        out.append(segment("GE", str(len(sets)), str(envelope.control)))
    out.append(segment("IEA", "1" if sets else "0", control))
    return "\n".join(out) + "\n"
