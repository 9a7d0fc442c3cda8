"""docs/data.md lists every import kind with its columns and aliases, as the code has them."""

from __future__ import annotations

from pathlib import Path

from leanstock.services.imports import KINDS
from leanstock.services.imports.fields import match_columns

DOC = (Path(__file__).parents[3] / "docs" / "data.md").read_text()


def test_every_kind_and_column_is_documented_with_its_aliases() -> None:
    for name, spec in KINDS.items():
        assert f"### `{name}`" in DOC, name
        section = DOC.split(f"### `{name}`")[1].split("###")[0]
        for field in spec.fields:
            row = next(
                (line for line in section.splitlines() if line.startswith(f"| `{field.name}`")),
                "",
            )
            assert row, (name, field.name)
            for alias in field.aliases:
                assert f"`{alias}`" in row, (name, field.name, alias)


def test_the_aliases_the_issue_names_match() -> None:
    items = KINDS["items"].fields
    for header in ("SKU", "Item", "code", "Item Code"):
        found, _, problems = match_columns(items, [header, "name"], None)
        assert problems == []
        assert found["sku"] == 0
    stock = KINDS["opening-stock"].fields
    for header in ("qty", "Quantity"):
        found, _, _ = match_columns(stock, ["sku", "location", header], None)
        assert found["quantity"] == 2
