"""The workflow: the transition table, its guards, and a state machine over the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from handling import service, workflow
from handling.service.transitions import TRANSITIONS, check
from handling.states import CaseState, Track
from handling.workflow import REPORTER_STATUS, STATES
from reporting.codes import ReportStatus
from reporting.models import Report
from tests.factories import user_obj
from tests.handling.conftest import get_case
from tests.retention.support import to_in_progress
from trygg.extensions import db
from trygg.roles import Role

CLOSE = {"closing_note": "Handled.", "causes": ["staffing"], "feedback": "Thank you."}

# The intended workflow, written out here independently of the code (DOMAIN.md).
EXPECTED = {
    CaseState.REPORTED: {CaseState.ACKNOWLEDGED, CaseState.DROPPED, CaseState.FORWARDED},
    CaseState.ACKNOWLEDGED: {CaseState.TRIAGED, CaseState.DROPPED, CaseState.FORWARDED},
    CaseState.TRIAGED: {CaseState.IN_PROGRESS, CaseState.DROPPED, CaseState.FORWARDED},
    CaseState.IN_PROGRESS: {
        CaseState.INVESTIGATION,
        CaseState.MEASURES_DECIDED,
        CaseState.CLOSED,
        CaseState.DROPPED,
        CaseState.FORWARDED,
    },
    CaseState.INVESTIGATION: {
        CaseState.MEASURES_DECIDED,
        CaseState.CLOSED,
        CaseState.DROPPED,
        CaseState.FORWARDED,
    },
    CaseState.MEASURES_DECIDED: {CaseState.MEASURES_DONE, CaseState.FORWARDED},
    CaseState.MEASURES_DONE: {CaseState.EVALUATED, CaseState.CLOSED, CaseState.FORWARDED},
    CaseState.EVALUATED: {CaseState.CLOSED},
    CaseState.CLOSED: {CaseState.REOPENED},
    CaseState.DROPPED: {CaseState.REOPENED},
    CaseState.FORWARDED: {CaseState.CLOSED, CaseState.REOPENED},
    CaseState.REOPENED: {
        CaseState.TRIAGED,
        CaseState.IN_PROGRESS,
        CaseState.DROPPED,
        CaseState.FORWARDED,
    },
}


def test_the_table_is_the_intended_workflow():
    assert set(STATES) == set(EXPECTED)
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED
    # Every state is reachable from "reported", and the side states as DOMAIN.md says.
    seen, todo = {CaseState.REPORTED}, [CaseState.REPORTED]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(STATES)
    assert set(REPORTER_STATUS) == set(STATES)


def _facts(state: str, **kw: Any) -> workflow.CaseFacts:
    base = {
        "state": state,
        "track": Track.HMS_DEVIATION,
        "incident_types": frozenset({"threat"}),
        "follow_up_duty": True,
        "done_follow_up": False,
        "has_debriefing": False,
    }
    base.update(kw)
    return workflow.CaseFacts(**base)


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("to", list(STATES))
def test_every_pair_outside_the_table_is_forbidden(state, to, app):
    full = {
        **CLOSE,
        "track": Track.WHISTLEBLOWING,
        "section_5_2": False,
        "reason": "r",
        "forwarded_to": "police",
        "no_follow_up_reason": "x",
    }
    facts = _facts(state, track=Track.WHISTLEBLOWING)
    with app.test_request_context():
        if to in TRANSITIONS[state]:
            check(facts, to, full)
        else:
            with pytest.raises(workflow.TransitionForbidden) as refused:
                check(facts, to, full)
            assert refused.value.status == 409
            assert list(refused.value.errors) == ["to"]


def test_refusals_are_translated(app):
    with app.test_request_context():
        with force_locale("en"), pytest.raises(workflow.TransitionForbidden) as en:
            check(_facts(CaseState.REPORTED), CaseState.CLOSED, CLOSE)
        with force_locale("en"):
            assert en.value.messages() == {"to": ["A case cannot go from “Reported” to “Closed”."]}
        with force_locale("nb"):
            assert en.value.messages() == {
                "to": ["En sak kan ikke gå fra «Meldt» til «Avsluttet»."]
            }
        with force_locale("en"), pytest.raises(workflow.GuardFailed) as guard:
            check(_facts(CaseState.IN_PROGRESS), CaseState.CLOSED, {})
        assert set(guard.value.messages()) == {
            "closing_note",
            "causes",
            "feedback",
            "no_follow_up_reason",
        }


@pytest.mark.parametrize(
    ("facts", "to", "data", "fields"),
    [
        (_facts(CaseState.ACKNOWLEDGED), CaseState.TRIAGED, {}, {"track", "section_5_2"}),
        (
            _facts(CaseState.ACKNOWLEDGED),
            CaseState.TRIAGED,
            {"track": "x", "section_5_2": "yes"},
            {"track", "section_5_2"},
        ),
        (_facts(CaseState.IN_PROGRESS), CaseState.DROPPED, {"reason": "  "}, {"reason"}),
        (
            _facts(CaseState.IN_PROGRESS),
            CaseState.FORWARDED,
            {"forwarded_to": "priest"},
            {"forwarded_to"},
        ),
        (_facts(CaseState.IN_PROGRESS), CaseState.INVESTIGATION, {}, {"to"}),
        (
            _facts(CaseState.IN_PROGRESS, follow_up_duty=False),
            CaseState.CLOSED,
            {**CLOSE, "causes": ["weather"]},
            {"causes"},
        ),
        (
            _facts(CaseState.IN_PROGRESS, done_follow_up=True),
            CaseState.CLOSED,
            CLOSE,
            {"no_follow_up_reason"},
        ),
        (
            _facts(CaseState.IN_PROGRESS, has_debriefing=True),
            CaseState.CLOSED,
            CLOSE,
            {"no_follow_up_reason"},
        ),
    ],
)
def test_guards_name_what_is_missing(app, facts, to, data, fields):
    with app.test_request_context(), pytest.raises(workflow.GuardFailed) as refused:
        check(facts, to, data)
    assert set(refused.value.errors) == fields


@pytest.mark.parametrize(
    ("facts", "to", "data"),
    [
        (
            _facts(CaseState.IN_PROGRESS, done_follow_up=True, has_debriefing=True),
            CaseState.CLOSED,
            CLOSE,
        ),
        (
            _facts(CaseState.IN_PROGRESS),
            CaseState.CLOSED,
            {**CLOSE, "no_follow_up_reason": "She declined."},
        ),
        (_facts(CaseState.IN_PROGRESS, follow_up_duty=False), CaseState.CLOSED, CLOSE),
        (_facts(CaseState.IN_PROGRESS, track=Track.WHISTLEBLOWING), CaseState.INVESTIGATION, {}),
        (
            _facts(CaseState.IN_PROGRESS, incident_types=frozenset({"bullying"})),
            CaseState.INVESTIGATION,
            {},
        ),
    ],
)
def test_guards_let_complete_steps_through(app, facts, to, data):
    with app.test_request_context():
        check(facts, to, data)


def test_closing_a_violence_case_via_the_api_needs_follow_up_or_a_reason(org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id, incident_types=["physical_violence"])
    handler = api(org.handler)
    base = f"/api/v1/cases/{case.id}"
    for step in (
        {"to": CaseState.ACKNOWLEDGED},
        {"to": CaseState.TRIAGED, "track": Track.HMS_DEVIATION, "section_5_2": False},
        {"to": CaseState.IN_PROGRESS},
    ):
        assert handler.post(base + "/transitions", step).status_code == 200
    refused = handler.post(base + "/transitions", {"to": CaseState.CLOSED, **CLOSE})
    assert refused.status_code == 400
    assert list(refused.get_json()["errors"]) == ["no_follow_up_reason"]
    forbidden = handler.post(base + "/transitions", {"to": CaseState.EVALUATED})
    assert forbidden.status_code == 409
    assert list(forbidden.get_json()["errors"]) == ["to"]
    assert (
        handler.post(
            base + "/tasks", {"template": "psychological_first_aid", "status": "done"}
        ).status_code
        == 201
    )
    assert handler.post(base + "/transitions", {"to": CaseState.CLOSED, **CLOSE}).status_code == 400
    # A debriefing is recorded once held: a day ahead is refused, and meets no deadline.
    ahead = (date.today() + timedelta(days=2)).isoformat()
    future = handler.post(base + "/debriefing", {"held_on": ahead})
    assert future.status_code == 400
    assert "kan ikke være fram i tid" in future.get_json()["errors"]["held_on"][0]
    assert handler.get(base).get_json()["debriefings"] == []
    long_before = handler.post(base + "/debriefing", {"held_on": "1900-01-01"})
    assert long_before.status_code == 400
    assert "før hendelsen" in long_before.get_json()["errors"]["held_on"][0]
    # Too long a note says how long it may be (not "from 0 to N characters").
    long_note = handler.post(base + "/tasks", {"template": "recontact", "note": "x" * 10_001})
    assert long_note.status_code == 400
    assert long_note.get_json()["errors"]["note"] == ["Bruk høyst 10\u00a0000 tegn."]
    # A task's due time between the incident and five years ahead (9999 read "on time").
    for due in ("1901-01-01T10:00:00+01:00", "9999-12-31T10:00:00+01:00"):
        odd = handler.post(base + "/tasks", {"template": "recontact", "due_at": due})
        assert odd.status_code == 400, due
        assert "due_at" in odd.get_json()["errors"]
    assert (
        handler.post(base + "/debriefing", {"held_on": date.today().isoformat()}).status_code == 201
    )
    closed = handler.post(base + "/transitions", {"to": CaseState.CLOSED, **CLOSE})
    assert closed.status_code == 200, closed.get_json()
    assert handler.post(base + "/tasks", {"template": "recontact"}).status_code == 409
    r = handler.post(base + "/transitions", {"to": CaseState.REOPENED, "reason": "She got worse"})
    assert r.status_code == 200
    detail = handler.get(base).get_json()
    assert detail["state"] == CaseState.REOPENED
    assert [e["codes"]["to"] for e in detail["events"] if e["kind"] == "transition"] == [
        CaseState.ACKNOWLEDGED,
        CaseState.TRIAGED,
        CaseState.IN_PROGRESS,
        CaseState.CLOSED,
        CaseState.REOPENED,
    ]


guard_fields = st.fixed_dictionaries(
    {},
    optional={
        "track": st.sampled_from(list(Track)),
        "section_5_2": st.booleans(),
        "closing_note": st.sampled_from(["", "Reasons given."]),
        "causes": st.lists(st.sampled_from(["staffing", "premises", "lone_work"]), max_size=2),
        "feedback": st.sampled_from(["", "Feedback for you."]),
        "no_follow_up_reason": st.sampled_from(["", "She declined all follow-up."]),
        "reason": st.sampled_from(["", "Duplicate."]),
        "forwarded_to": st.sampled_from(["police", "labour_inspection"]),
    },
)


def _filled(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    return bool(value.strip()) if isinstance(value, str) else bool(value)


# (examples, steps per example): the suite's walk, and a long one (`pytest -m long`).
WALKS = [
    pytest.param((40, 30), id="default"),
    pytest.param((400, 60), id="long", marks=pytest.mark.long),
]


@pytest.mark.parametrize("walk", WALKS)
def test_no_sequence_of_api_calls_escapes_the_table(app, make, submit, api, walk):
    """Random API calls on violence cases: every answer is what the table and guards say.

    The model here is deliberately simple and separate from the code: allowed steps from
    TRANSITIONS, the guards as DOMAIN.md states them. The suite takes the default walk;
    the long one runs only when asked for (`pytest -m long`).
    """
    examples, steps = walk
    unit = make.unit("Ward")
    employee = make.user(Role.EMPLOYEE, units=(unit,))
    handler_info = make.user(Role.HANDLER)
    with app.app_context():
        group = service.save_group(
            actor="test",
            name="Only",
            member_ids=[handler_info.id],
            is_default=True,
            is_fallback=True,
        )
        for old in service.routing_rules():
            service.delete_rule(old, actor="test")
        db.session.commit()
        del group
    client = api(handler_info)
    reached: set[tuple[str, str]] = set()

    class CaseMachine(RuleBasedStateMachine):
        @initialize(kind=st.sampled_from(["physical_violence", "threat", "bullying"]))
        def open_case(self, kind: str) -> None:
            counterpart = "colleague" if kind == "bullying" else "patient"
            self.case = submit(
                employee, unit_id=unit.id, incident_types=[kind], counterpart_category=counterpart
            )
            self.kind = kind
            self.state = CaseState.REPORTED
            self.track = self.case.track
            self.done_task = False
            self.debriefed = False
            self.base = f"/api/v1/cases/{self.case.id}"

        def guard_ok(self, to: str, data: dict[str, Any]) -> bool:
            if to == CaseState.TRIAGED:
                return data.get("track") is not None and "section_5_2" in data
            if to == CaseState.INVESTIGATION:
                return (
                    self.track in {Track.WHISTLEBLOWING, Track.HR_MATTER} or self.kind == "bullying"
                )
            if to == CaseState.DROPPED:
                return _filled(data, "reason")
            if to == CaseState.FORWARDED:
                return "forwarded_to" in data
            if to == CaseState.CLOSED:
                complete = all(_filled(data, f) for f in ("closing_note", "causes", "feedback"))
                violence = self.kind != "bullying"
                followed_up = (self.done_task and self.debriefed) or _filled(
                    data, "no_follow_up_reason"
                )
                return complete and (followed_up or not violence)
            return True

        def attempt(self, to: str, data: dict[str, Any]) -> None:
            response = client.post(self.base + "/transitions", {"to": to, **data})
            if to not in TRANSITIONS[self.state]:
                assert response.status_code == 409, (self.state, to, response.get_json())
            elif not self.guard_ok(to, data):
                assert response.status_code == 400, (self.state, to, data, response.get_json())
            else:
                assert response.status_code == 200, (self.state, to, data, response.get_json())
                self.state = to
                reached.add((self.kind, to))
                if to == CaseState.TRIAGED:
                    self.track = data["track"]

        @rule(to=st.sampled_from(list(STATES)), data=guard_fields)
        def anything(self, to: str, data: dict[str, Any]) -> None:
            """Any target with any fields: forbidden ones must be refused."""
            self.attempt(to, data)

        @rule(draw=st.data())
        def allowed_step(self, draw: st.DataObject) -> None:
            """A step the table allows, its guard fields complete or with one left out."""
            to = draw.draw(st.sampled_from(sorted(TRANSITIONS[self.state])))
            data: dict[str, Any] = {
                "track": draw.draw(st.sampled_from(list(Track))),
                "section_5_2": draw.draw(st.booleans()),
                **CLOSE,
                "reason": "Duplicate.",
                "forwarded_to": "police",
            }
            if draw.draw(st.booleans()):
                data["no_follow_up_reason"] = "She declined all follow-up."
            if draw.draw(st.integers(0, 4)) == 0:
                data.pop(draw.draw(st.sampled_from(sorted(data))))
            self.attempt(to, data)

        @rule(
            template=st.sampled_from(["leader_contact", "psychological_first_aid", "bht_offer"]),
            done=st.booleans(),
        )
        def task(self, template: str, done: bool) -> None:
            response = client.post(
                self.base + "/tasks", {"template": template, "status": "done" if done else "open"}
            )
            if self.state in {CaseState.CLOSED, CaseState.DROPPED}:
                assert response.status_code == 409
            else:
                assert response.status_code == 201, response.get_json()
                self.done_task |= done

        @rule()
        def debrief(self) -> None:
            response = client.post(self.base + "/debriefing", {"held_on": date.today().isoformat()})
            if self.state in {CaseState.CLOSED, CaseState.DROPPED}:
                assert response.status_code == 409
            else:
                assert response.status_code == 201
                self.debriefed = True

        @invariant()
        def stored_state_is_the_model_state(self) -> None:
            with app.app_context():
                case = get_case(self.case.id)
                assert case.state == self.state
                report = db.session.get(Report, case.report_id)
                assert report.status == REPORTER_STATUS[case.state]
                if case.state == CaseState.CLOSED and case.follow_up_duty:
                    assert case.no_follow_up_reason_sealed is not None or (
                        any(t.status == "done" for t in case.tasks) and case.debriefings
                    )

    run_state_machine_as_test(
        CaseMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            derandomize=True,  # the same thorough walk every run: no flaky CI
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # The walk went deep enough to mean something: most of the workflow was reached,
    # including a violence case closed (with follow-up and debriefing, or a reason).
    states = {state for _kind, state in reached}
    assert len(states) >= 9, sorted(reached)
    assert {("physical_violence", CaseState.CLOSED), ("threat", CaseState.CLOSED)} & reached, (
        sorted(reached)
    )


def test_service_refuses_changes_to_finished_cases(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id, incident_types=["verbal_abuse"])
    with app.app_context():
        row = get_case(case.id)
        handler = user_obj(org.handler)
        service.transition(row, CaseState.DROPPED, actor=handler, reason="Withdrawn")
        for attempt in (
            lambda: service.add_task(row, actor=handler, template="recontact"),
            lambda: service.record_debriefing(row, actor=handler, held_on=date.today()),
            lambda: service.update_section52(row, actor=handler, nav_form_sent=False),
            lambda: service.assign(row, handler, None, actor=handler),
            lambda: service.change_track(row, actor=handler, track=Track.HR_MATTER),
        ):
            with pytest.raises(workflow.CaseClosed):
                attempt()
        service.transition(row, CaseState.REOPENED, actor=handler)
        assert row.report.status == ReportStatus.IN_PROGRESS
        service.add_task(row, actor=handler, template="recontact")


def test_the_api_offers_the_steps_the_page_offers(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id)  # physical violence, HMS deviation
    handler = api(org.handler)
    to_in_progress(handler, case.id, Track.HMS_DEVIATION)
    body = handler.get(f"/api/v1/cases/{case.id}").get_json()
    page = handler.get(f"/cases/{case.id}").get_data(as_text=True)
    tried = handler.post(f"/api/v1/cases/{case.id}/transitions", {"to": CaseState.INVESTIGATION})
    assert tried.status_code != 200  # the guard refuses it
    assert 'value="investigation"' not in page  # and the page no longer offers it
    assert CaseState.INVESTIGATION not in body["allowed_transitions"], body["allowed_transitions"]
