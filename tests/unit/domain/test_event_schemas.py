"""Every published event type has a JSON Schema, and each schema is one."""

from __future__ import annotations

import inspect

import jsonschema_rs
import pytest

from leanstock.domain import event_schemas
from leanstock.domain.events import PUBLISHED, DomainEvent
from leanstock.domain.orders import events as order_events
from leanstock.domain.units import UnitDefined


def published_names() -> set[str]:
    classes = [
        c for c in vars(order_events).values() if inspect.isclass(c) and issubclass(c, DomainEvent)
    ] + [UnitDefined]
    return {c.name for c in classes if c.name is not None} | set(PUBLISHED.values())


def test_every_published_event_type_has_a_schema_and_every_schema_an_event_type() -> None:
    assert published_names() == set(event_schemas.EVENTS)


@pytest.mark.parametrize("name", sorted(event_schemas.EVENTS))
def test_each_schema_is_a_valid_versioned_json_schema(name: str) -> None:
    schema = event_schemas.schema(name)
    jsonschema_rs.meta.validate(schema)
    assert schema["$id"] == f"urn:leanstock:event:{name}:v{schema['x-version']}"


def test_a_schema_refuses_a_payload_of_the_wrong_shape() -> None:
    shipped = jsonschema_rs.validator_for(event_schemas.schema("stock.shipped"))
    good = {"moves": [["MUG", "WH", "customer", "2", None]], "reference": "R1"}
    assert shipped.is_valid(good)
    assert not shipped.is_valid({**good, "moves": [["MUG", "WH", "customer", 2.5, None]]})
    assert not shipped.is_valid({**good, "surprise": 1})
    assert not shipped.is_valid({"reference": "R1"})


def test_docs_events_md_lists_every_event_type_with_its_version() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[3] / "docs" / "events.md").read_text()
    for name, (version, _, _) in event_schemas.EVENTS.items():
        assert f"| `{name}` | {version} |" in text, name
