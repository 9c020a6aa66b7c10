"""Fuzz every operation of /api/v1/openapi.json with schemathesis, as every role.

For each role (no account, an anonymous reporter with a receipt session, employee,
handler with TOTP, manager, safety representative, admin) and each operation, schemathesis
generates requests that fit the document and requests that break it, with path
parameters either generated or naming objects that exist. Every answer must:

- not be a server error (5xx);
- use a status code the document lists for the operation, with the documented content
  type, headers and body schema (2xx bodies and the `{"errors": …}` shape alike);
- refuse what breaks the document with a 4xx;
- carry every error message translated (a Norwegian message from the catalogue, never an
  English msgid or an exception's text);
- leave nothing half-stored: after each operation every report has its case, no file is
  without its report, and the audit chain verifies.

The suite runs a few examples per operation with a fixed seed (FUZZ_EXAMPLES, default
3); `make fuzz` runs many more.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import bind_rolled_back
from tests.fuzz.conftest import ROLES, Caller, World
from tests.fuzz.messages import untranslated
from trygg.roles import Role
from trygg.security import policy_of

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
# Operations that start or end the caller's session get a fresh caller for each
# example, and run after the others so that they cannot log the role out under them.
SESSION_OPERATIONS = {
    "POST /api/v1/session",
    "DELETE /api/v1/session",
    "POST /api/v1/anonymous/session",
    "DELETE /api/v1/anonymous/session",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Requests come from their own network, so that the limits on receipt guesses and
# anonymous reports they run into never refuse the world's own logins.
FUZZ_CLIENT = {"REMOTE_ADDR": "198.51.100.7"}


def _settings() -> Callable[[Any], Any]:
    phases = [Phase.explicit, Phase.generate]
    if EXAMPLES > 10:
        phases.append(Phase.shrink)
    return settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
    )


def _strategy(operation: Any, world: World) -> st.SearchStrategy[Any]:
    """Requests that fit the document and, where there is something to break, requests
    that do not; where the path names objects, also the world's existing ones."""
    modes = [GenerationMode.POSITIVE]
    if operation.path_parameters or operation.query or operation.body:
        modes.append(GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    names = [p.name for p in operation.path_parameters]
    if names and all(name in world.ids for name in names):
        existing = {name: world.ids[name] for name in names}
        strategies.insert(0, operation.as_strategy(path_parameters=existing))
    return st.one_of(strategies)


def _error_problems(response: Any) -> list[str]:
    """What is wrong with an error answer beyond its schema: empty or untranslated."""
    if response.status_code < 400:
        return []
    body = response.json()
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, dict) or not errors:
        return [f"an error without field messages: {body!r}"]
    found = []
    for name, messages in errors.items():
        if not isinstance(messages, list) or not messages:
            found.append(f"{name}: not a list of messages: {messages!r}")
            continue
        found += [f"{name}: untranslated {m!r}" for m in untranslated(messages)]
    return found


def _check(case: Any, response: Any, caller: Caller, **kwargs: Any) -> None:
    """The document's checks and ours on one answer."""
    case.validate_response(response, checks=CHECKS, headers=caller.headers, **kwargs)
    problems = _error_problems(response)
    assert not problems, f"{case.as_curl_command()}\n" + "\n".join(problems)


def _fuzz(world: World, role: str, operation: Any) -> None:
    fresh = operation.label in SESSION_OPERATIONS

    @_settings()
    @given(case=_strategy(operation, world))
    def run(case: Any) -> None:
        caller = world.log_in(role, fresh_user=True) if fresh else world.caller(role)
        response = case.call(
            session=caller.client, headers=caller.headers, environ_base=FUZZ_CLIENT
        )
        case.validate_response(response, checks=CHECKS, headers=caller.headers)
        problems = _error_problems(response)
        assert not problems, f"{case.as_curl_command()}\n" + "\n".join(problems)

    run()


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_as(world: World, role: str) -> None:
    """No 5xx, nothing outside the document, nothing half-stored, as `role`."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: (op.label in SESSION_OPERATIONS, op.label),
    )
    failures = []
    for operation in operations:
        try:
            _fuzz(world, role, operation)
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"== {role} {operation.label} ==\n{exc}")
        problems = world.problems()
        if problems:
            failures.append(f"== {role} {operation.label}: left behind ==\n" + "\n".join(problems))
    assert not failures, "\n\n".join(failures)


def _operations_for(world: World, role: str) -> list[str]:
    """The document's operation ids whose view the role may use (`trygg.security.allow`)."""
    document = world.app.test_client().get("/api/v1/openapi.json").get_json()
    ids = []
    for item in document["paths"].values():
        for method, operation in item.items():
            endpoint = operation["operationId"].removesuffix(f".{method}")
            policy = policy_of(world.app, endpoint)
            if policy is not None and (policy.public or not policy.roles or role in policy.roles):
                ids.append(operation["operationId"])
    assert ids, role
    return ids


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.HANDLER, Role.ADMIN])
def test_linked_operations_as(world: World, role: str) -> None:
    """Follow the document's links as `role`: create a report and read it, add a task and
    change it, create a group or a rule and change or delete it."""
    # Only the operations the role may call: the others answer 403 and lead nowhere, and
    # which of them a scenario starts from would decide whether any gets somewhere.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app).include(
        operation_id=_operations_for(world, role)
    )
    caller = world.caller(role)
    answered: set[tuple[str, int]] = set()

    class Links(schema.as_state_machine()):  # type: ignore[misc]
        # Each scenario starts from the same world and is rolled back afterwards, so a
        # scenario that hypothesis runs again meets the same answers.
        def setup(self) -> None:
            self.scenario = bind_rolled_back(world.app)
            next(self.scenario)

        def teardown(self) -> None:
            next(self.scenario, None)

        def before_call(self, case: Any) -> None:
            # Scenarios happen in the world's case and report; what they create inside
            # them (tasks, messages) is reached through the links.
            for name in ("case_id", "report_id"):
                if name in (case.path_parameters or {}):
                    case.path_parameters[name] = world.ids[name]

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {
                "session": caller.client,
                "headers": caller.headers,
                "environ_base": FUZZ_CLIENT,
            }

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            answered.add((case.operation.label, response.status_code))
            _check(case, response, caller, recorder=self.recorder)

    Links.run(
        settings=settings(
            max_examples=EXAMPLES * 5,
            stateful_step_count=4,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # Which links a few scenarios follow depends on the answers (and ids differ between
    # engines); that they ran as the role, and got somewhere, is what must hold.
    assert any(status < 300 for _label, status in answered), sorted(answered)
    assert not world.problems()


def test_links_lead_to_operations_in_the_document(world: World) -> None:
    document = world.app.test_client().get("/api/v1/openapi.json").get_json()
    operations = {
        op["operationId"]: op for item in document["paths"].values() for op in item.values()
    }
    links = [
        (source, link)
        for source, op in operations.items()
        for answer in op["responses"].values()
        for link in answer.get("links", {}).values()
    ]
    assert len(links) >= 6
    for source, link in links:
        assert link["operationId"] in operations, f"{source} links to nothing"
    assert operations["api_reporting.submit"]["responses"]["201"]["links"]["GetReport"] == {
        "operationId": "api_reporting.get_report",
        "parameters": {"report_id": "$response.body#/id"},
    }
