"""Schemathesis against the app, in process, on SQLite and PostgreSQL: requests generated from
the OpenAPI document (its examples, its coverage of each bound and each method a path does not
take, random ones, and stateful sequences that follow its links), sent with an owner's API
token. Any server error, or any answer the document does not describe (a status code, a
content type, a body, a header, the answer to an undeclared method), fails the test.

The number of cases is bounded (`MAX_EXAMPLES` per operation and phase, `MAX_STEPS` per
stateful scenario) and the seed fixed, so a run is repeatable and takes about a minute per
database. Schemathesis' checks that valid data is accepted and invalid data refused are left
out: a well-formed request for an item that does not exist is rightly a 4xx.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine

from leanstock.entrypoints.api.app import create_app

if TYPE_CHECKING:
    from schemathesis.engine.recorder import ScenarioRecorder

# Schemathesis is imported by `fuzz`, not here, and its pytest plugin is off (`-p
# no:schemathesis` in pyproject.toml): every worker imports every test module, this slow one
# too, and the import costs about a CPU-second a process.

MAX_EXAMPLES = 2
MAX_STEPS = 10
SEED = 11

SERVER_ERRORS = frozenset({"not_a_server_error"})
OFF = ("positive_data_acceptance", "negative_data_rejection")


@dataclass
class Outcome:
    cases: int = 0
    phases: set[str] = field(default_factory=set)
    seconds: dict[str, float] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    violations: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], str] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [
            f"{self.cases} cases ("
            + ", ".join(f"{p} {self.seconds.get(p, 0):.0f} s" for p in sorted(self.phases))
            + "): "
            f"{len(self.server_errors)} server errors, "
            f"{sum(self.violations.values())} schema violations"
        ]
        lines += self.server_errors[:20]
        lines += [
            f"{count} × {check} on {operation}: {self.examples[(check, operation)]}"
            for (check, operation), count in self.violations.most_common(20)
        ]
        return "\n".join(lines)


def fuzz(engine: Engine, token: str) -> Outcome:
    import schemathesis
    from schemathesis.engine import events, from_schema

    # An EDI interchange (`POST /edi/inbound`) is text: sent as the text/plain serializer sends it.
    schemathesis.serializer.alias("application/edi-x12", "text/plain")
    app = create_app(engine=engine)
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # No state kept between runs (in .schemathesis/): each run is the same.
            "cache": {"enabled": False},
            "headers": {"Authorization": f"Bearer {token}"},
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {"stateful": {"max-steps": MAX_STEPS}},
            "checks": {name: {"enabled": False} for name in OFF},
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    outcome = Outcome()
    started: dict[str, float] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted):
            started[event.phase.name.value] = event.timestamp
        elif isinstance(event, events.PhaseFinished) and event.phase.name.value in started:
            phase = event.phase.name.value
            outcome.seconds[phase] = event.timestamp - started[phase]
        elif isinstance(event, events.ScenarioFinished):
            outcome.phases.add(str(event.phase.value))
            _record(outcome, event.recorder)
        elif isinstance(event, events.NonFatalError):
            # An exception out of the app is a server error (the transport re-raises it).
            outcome.server_errors.append(f"{event.label}: {event.info.message[:300]}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return outcome


def _record(outcome: Outcome, recorder: ScenarioRecorder) -> None:
    outcome.cases += len(recorder.cases)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            interaction = recorder.interactions.get(case_id)
            said = ""
            if interaction is not None and interaction.response is not None:
                request = interaction.request
                said = (
                    f"{request.method} {request.uri} -> {interaction.response.status_code} "
                    f"{interaction.response.content[:200]!r}"
                )
            if check.name in SERVER_ERRORS:
                outcome.server_errors.append(f"{recorder.label}: {said}")
                continue
            key = (check.name, recorder.label)
            outcome.violations[key] += 1
            outcome.examples.setdefault(key, said or check.failure_info.failure.title)


@pytest.fixture
def quiet() -> Iterator[None]:
    """The app logs each server error with its traceback; the test reports them itself."""
    logger = logging.getLogger("leanstock")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.mark.slow
def test_generated_requests_get_no_server_error_and_only_documented_answers(
    engine: Engine, owner_token: str, quiet: None
) -> None:
    outcome = fuzz(engine, owner_token)
    print(outcome.summary())  # the counts, for `pytest -s`
    assert outcome.cases > 1000, outcome.summary()
    assert {"examples", "coverage", "fuzzing", "stateful"} <= outcome.phases, outcome.summary()
    assert not outcome.server_errors, outcome.summary()
    assert not outcome.violations, outcome.summary()
