"""A stocktake's own rules: which counts clash, what a line books, and its states."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from leanstock.domain.errors import Conflict, InvalidTransition
from leanstock.domain.stocktake import CountLine, Stocktake, StocktakeStatus, covers

D = Decimal


def stocktake(**kw: object) -> Stocktake:
    values: dict[str, object] = {
        "location": "WH",
        "category": None,
        "freeze": True,
        "blind": False,
        "started_at": datetime(2026, 1, 5, 8, tzinfo=UTC),
        "started_by": "ann",
        "id": 7,
    }
    return Stocktake(**(values | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("one", "other", "clash"),
    [
        (None, None, True),
        (None, "cups", True),
        ("cups", None, True),
        ("cups", "cups", True),
        ("cups", "baking", False),
    ],
)
def test_two_counts_clash_when_they_would_count_an_item_twice(
    one: str | None, other: str | None, clash: bool
) -> None:
    assert covers(one, other) is clash


def test_a_line_books_the_count_less_the_books_at_counting() -> None:
    line = CountLine("CUP", None, expected=D(10), counted=D(7))
    # 2 left between the snapshot and the count: the books held 8 when it was counted.
    assert line.settle(D(8)) == D(-1)
    assert (line.book, line.moved, line.difference) == (D(8), D(-2), D(-1))
    unfrozen = CountLine("CUP", None, counted=D(7))
    unfrozen.settle(D(7))
    assert (unfrozen.moved, unfrozen.difference) == (None, D(0))
    with pytest.raises(ValueError, match="uncounted"):
        CountLine("CUP", None, expected=D(3)).settle(D(3))


def test_a_stocktake_is_posted_or_cancelled_once_and_only_with_a_count() -> None:
    st = stocktake(lines=[CountLine("CUP", None, expected=D(3))])
    assert st.number == "ST-000007"
    with pytest.raises(Conflict, match="no counted line"):
        st.post(datetime.now(UTC), None)
    assert st.status is StocktakeStatus.OPEN
    st.lines[0].counted = D(3)
    st.post(datetime.now(UTC), 12)
    assert (st.status, st.operation_id) == (StocktakeStatus.POSTED, 12)
    with pytest.raises(InvalidTransition, match="ST-000007 is posted"):
        st.cancel()
    other = stocktake()
    other.cancel()
    with pytest.raises(InvalidTransition, match="cancelled"):
        other.check_open("counted")
