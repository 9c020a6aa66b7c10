"""Who may see and do what: the role × endpoint × case matrix, audits, safety rep consent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update

from handling import service
from handling.erasure import erase_case
from handling.models import Case, Debriefing, FollowUpTask
from handling.states import AccessLevel, CaseState, Track
from reporting.models import Report, ReportPerson
from reporting.service.base import start_of_day_utc
from tests.conftest import ENGINE
from tests.factories import user_obj
from tests.handling.conftest import get_case, reports_opened
from trygg.accounts.models import Membership
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role


@dataclass
class Target:
    case_id: int
    report_id: int
    task_id: int


@pytest.fixture
def matrix_cases(app, org, submit) -> dict[str, Target]:
    """own: in the handler's group; other: another group's; excluded: names the handler."""
    made = {
        "own": submit(org.employee, unit_id=org.ward.id),
        "other": submit(
            org.employee,
            unit_id=org.ward.id,
            incident_types=["bullying"],
            counterpart_category="colleague",
        ),
        "excluded": submit(org.employee, unit_id=org.ward.id, counterpart_user_id=org.handler.id),
    }
    assert made["own"].group_id == made["excluded"].group_id == org.hms
    assert made["other"].group_id == org.whistle
    targets = {}
    with app.app_context():
        for name, ref in made.items():
            case = get_case(ref.id)
            actor = user_obj(org.whistle_handler if name == "other" else org.colleague)
            task = service.add_task(case, actor=actor, template="leader_contact")
            db.session.commit()
            targets[name] = Target(ref.id, ref.report_id, task.id)
    return targets


# (method, path, body, status when the caller may act on the case)
ENDPOINTS: list[tuple[str, str, Any, int]] = [
    ("GET", "/api/v1/cases/{case}", None, 200),
    # A forbidden step: 409 shows the caller reached the workflow, without changing it.
    ("POST", "/api/v1/cases/{case}/transitions", {"to": CaseState.EVALUATED}, 409),
    ("PUT", "/api/v1/cases/{case}/track", {"track": Track.HMS_DEVIATION}, 200),
    ("GET", "/api/v1/cases/{case}/messages", None, 200),
    ("POST", "/api/v1/cases/{case}/messages", {"body": "Hello"}, 201),
    ("POST", "/api/v1/cases/{case}/tasks", {"template": "recontact"}, 201),
    ("PATCH", "/api/v1/cases/{case}/tasks/{task}", {"note": "Noted."}, 200),
    ("POST", "/api/v1/cases/{case}/debriefing", {"held_on": date.today().isoformat()}, 201),
    ("POST", "/api/v1/cases/{case}/assignment", {"handler_id": None, "reason": "Queue"}, 200),
    ("PUT", "/api/v1/cases/{case}/section52", {"nav_form_sent": False}, 200),
    ("POST", "/api/v1/cases/{case}/section52", {"nav_form_sent": False}, 200),
    ("GET", "/api/v1/reports/{report}/messages", None, 200),
    ("POST", "/api/v1/reports/{report}/messages", {"body": "Reply"}, 201),
]
CASE_READS = {"GET"}


def expected(role: str, method: str, path: str, kind: str, ok: int) -> int:
    """The intended answer: roles first (403), then 404 for anything not visible."""
    reporter_side = path.startswith("/api/v1/reports/")
    if reporter_side:
        return ok if role == "reporter" else 404
    if role == Role.HANDLER:
        return ok if kind == "own" else 404
    if role == Role.SAFETY_REP and method in CASE_READS and path == "/api/v1/cases/{case}":
        return 404  # no consent given on any of these cases
    return 403


ROLES = ["reporter", Role.EMPLOYEE, Role.HANDLER, Role.MANAGER, Role.SAFETY_REP, Role.ADMIN]


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, make, org, matrix_cases, api, role):
    outsider = make.user(Role.EMPLOYEE, units=(org.ward,))
    user = {
        "reporter": org.employee,
        Role.EMPLOYEE: outsider,
        Role.HANDLER: org.handler,
        Role.MANAGER: org.manager,
        Role.SAFETY_REP: org.safety_rep,
        Role.ADMIN: org.admin,
    }[role]
    client = api(user)
    deviations = []
    for kind, target in matrix_cases.items():
        for method, template, body, ok in ENDPOINTS:
            path = template.format(
                case=target.case_id, task=target.task_id, report=target.report_id
            )
            response = client.get(path) if method == "GET" else client._send(method, path, body)
            want = expected(role, method, template, kind, ok)
            if response.status_code != want:
                deviations.append(
                    f"{role} {method} {template} on {kind}: {response.status_code}, "
                    f"expected {want} {response.get_json()}"
                )
    queue = client.get("/api/v1/cases?state=all")
    visible = {c["id"] for c in queue.get_json()["cases"]} if queue.status_code == 200 else set()
    want_queue = {matrix_cases["own"].case_id} if role == Role.HANDLER else set()
    if visible != want_queue:
        deviations.append(f"{role} queue shows {visible}, expected {want_queue}")
    if role in {"reporter", Role.EMPLOYEE, Role.MANAGER, Role.ADMIN} and queue.status_code != 403:
        deviations.append(f"{role} GET /api/v1/cases: {queue.status_code}, expected 403")
    assert deviations == []


def test_every_api_route_in_this_package_has_a_policy_and_is_documented(app):
    from trygg.security import policy_of

    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api_handling."):
            assert policy_of(app, rule.endpoint) is not None, rule
            assert hasattr(app.view_functions[rule.endpoint], "_trygg_api_doc"), rule
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/cases",
        "/api/v1/cases/{case_id}/transitions",
        "/api/v1/cases/{case_id}/tasks/{task_id}",
        "/api/v1/reports/{report_id}/messages",
        "/api/v1/admin/deadline-policies",
        "/api/v1/admin/routing-rules",
    ):
        assert path in spec["paths"], path


def _reads(case_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "case.read", AuditEntry.object_id == str(case_id))
            .order_by(AuditEntry.seq)
        )
    )


def test_every_content_read_is_audited(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id)
    handler = api(org.handler)
    reporter = api(org.employee)
    for _ in range(2):
        assert handler.get(f"/api/v1/cases/{case.id}").status_code == 200
    assert handler.get(f"/api/v1/cases/{case.id}/messages").status_code == 200
    assert reporter.get(f"/api/v1/reports/{case.report_id}/messages").status_code == 200
    with app.app_context():
        reads = _reads(case.id)
        assert [(e.actor, e.detail_dict()["part"]) for e in reads] == [
            (f"user:{org.handler.id}", "case"),
            (f"user:{org.handler.id}", "case"),
            (f"user:{org.handler.id}", "messages"),
            (f"user:{org.employee.id}", "messages"),
        ]
        report_reads = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "report.read", AuditEntry.object_id == str(case.report_id)
            )
        ).all()
        assert len(report_reads) == 2
        # The log holds codes, never content.
        for entry in reads:
            assert "threatened" not in entry.detail
        # Service callers are audited the same way.
        service.open_case_content(get_case(case.id), user_obj(org.handler), part="print")
        db.session.commit()
        assert _reads(case.id)[-1].detail_dict() == {"part": "print", "level": AccessLevel.HANDLER}
    history = handler.get(f"/api/v1/cases/{case.id}").get_json()["access_history"]
    assert history[0]["action"] in {"case.read", "report.read"}
    assert {h["actor"] for h in history} == {f"user:{org.handler.id}", f"user:{org.employee.id}"}
    assert {h["part"] for h in history} >= {"case", "messages", "print"}


def test_a_confidential_reporter_is_not_named_in_the_log(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id, confidential=True)
    reporter = api(org.employee)
    assert reporter.get(f"/api/v1/reports/{case.report_id}/messages").status_code == 200
    assert (
        reporter.post(
            f"/api/v1/reports/{case.report_id}/messages", {"body": "More details"}
        ).status_code
        == 201
    )
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == str(case.id))
        ).all()
        assert f"user:{org.employee.id}" not in {e.actor for e in entries}
        assert "reporter" in {e.actor for e in entries}


def test_a_confidential_reporters_readings_keep_only_their_day_in_the_access_history(
    app, org, submit, api
):
    """Downloading "Your data" reads a person's own reports (as "the reporter") and the
    cases naming them as the exposed employee (by name) in one moment: a handler of
    both would match the two by their time, and learn who sent the confidential one.
    The reporter's readings of a confidential case are shown by their day only, as an
    anonymous reporter's are, and the download as an ordinary reading of their report
    (a download is rare: the same part on the same day would still match)."""
    mine = submit(org.employee, unit_id=org.ward.id, confidential=True)
    about_her = submit(
        org.colleague,
        unit_id=org.ward.id,
        exposed=[{"user_id": org.employee.id, "name": "Ella Employee"}],
    )
    assert api(org.employee).get("/api/v1/account/my-data").status_code == 200
    handler = api(org.handler)

    def readings(case_id: int, actor: str, part: str) -> list[str]:
        history = handler.get(f"/api/v1/cases/{case_id}").get_json()["access_history"]
        return [h["at"] for h in history if h["actor"] == actor and h["part"] == part]

    def kinds(case_id: int, actor: str) -> set[tuple[str, str]]:
        history = handler.get(f"/api/v1/cases/{case_id}").get_json()["access_history"]
        return {(h["action"], h["part"]) for h in history if h["actor"] == actor}

    [named_at] = readings(about_her.id, f"user:{org.employee.id}", "access")
    day = start_of_day_utc(datetime.fromisoformat(named_at))
    assert readings(mine.id, "reporter", "access") == []
    # As an ordinary visit reads: the report, and the case's messages (a download also
    # read the follow-up, as the case with part "access").
    assert kinds(mine.id, "reporter") <= {("report.read", "report"), ("case.read", "messages")}
    assert {datetime.fromisoformat(at) for at in readings(mine.id, "reporter", "report")} == {day}
    page = handler.get(f"/cases/{mine.id}").get_data(as_text=True)
    rows = page[page.index('id="h-access"') :].split("<tr>")
    reporter_rows = [row for row in rows if "<td>Melderen</td>" in row]
    assert reporter_rows
    for row in reporter_rows:
        assert not re.search(r"\d{2}[:.]\d{2}", row), row


def test_a_confidential_reporter_who_is_the_exposed_employee_is_named_to_the_assignee_only(
    app, org, submit, api
):
    """Reporting for oneself records the reporter as the exposed employee. A confidential
    reporter was told that only the case handler assigned to the case sees who they are
    and that managers never do: their place among the people involved reads "The
    reporter" to everyone else (the group's other handlers, a leader given a task, the
    name search, a colleague's export)."""
    case = submit(org.employee, unit_id=org.ward.id, confidential=True)
    assignee, colleague, manager = api(org.handler), api(org.colleague), api(org.manager)
    base = f"/api/v1/cases/{case.id}"
    task = {"template": "leader_contact", "responsible_user_id": org.manager.id}
    # Unassigned: no one sees who reported.
    before = assignee.get(base).get_json()["report"]
    assert before["exposed"] == [{"user_id": None, "name": "Melderen"}]
    assert "Ella Employee" not in assignee.get(f"/cases/{case.id}").get_data(as_text=True)
    mine = {"handler_id": org.handler.id, "reason": "Mine"}
    assert assignee.post(f"{base}/assignment", mine).status_code == 200
    assert assignee.post(f"{base}/tasks", task).status_code == 201

    assert assignee.get(base).get_json()["report"]["exposed"] == [
        {"user_id": org.employee.id, "name": "Ella Employee"}
    ]
    assert colleague.get(base).get_json()["report"]["exposed"] == [
        {"user_id": None, "name": "Melderen"}
    ]
    assert "Ella Employee" not in colleague.get(f"/cases/{case.id}").get_data(as_text=True)
    found = colleague.get("/api/v1/cases", query_string={"q": "Ella Employee"}).get_json()
    assert found["cases"] == []
    tasks = manager.get("/my-tasks").get_data(as_text=True)
    assert "Ella Employee" not in tasks
    assert "saksbehandleren forteller deg hvem" in tasks
    body = {"recipient": "police", "reason": "police_report", "format": "json"}
    doc = colleague.post(f"{base}/exports", {**body, "sections": ["people"]}).get_json()
    assert doc["people"]["exposed"] == []


def test_only_a_confidential_cases_assignee_chooses_a_tasks_responsible_person(
    app, org, submit, api
):
    """The picker leaves out everyone the report names. In a confidential report for
    oneself that includes the reporter, whom a colleague reads as "The reporter": by
    searching names one by one (or trying ids in the API) the colleague would find the
    one missing. So in a confidential report only the assignee searches and chooses,
    whoever the report names; the others may still add a task without a person."""
    case = submit(org.employee, unit_id=org.ward.id, confidential=True)
    assignee, colleague = api(org.handler), api(org.colleague)
    base = f"/api/v1/cases/{case.id}"
    mine = {"handler_id": org.handler.id, "reason": "Mine"}
    assert assignee.post(f"{base}/assignment", mine).status_code == 200

    # The colleague: no search, no list of people, and any person refused alike.
    page = colleague.get(f"/cases/{case.id}?for=task-new&person=Ell").get_data(as_text=True)
    assert 'name="person"' not in page
    assert 'name="responsible_user_id"' not in page
    assert "bare saksbehandleren som er tildelt saken" in page
    for person in (org.manager.id, org.employee.id):
        refused = colleague.post(
            f"{base}/tasks", {"template": "leader_contact", "responsible_user_id": person}
        )
        assert refused.status_code == 400
        assert "bare saksbehandleren som er tildelt saken" in refused.get_data(as_text=True)
    plain = colleague.post(f"{base}/tasks", {"template": "leader_contact"})
    assert plain.status_code == 201
    task_id = plain.get_json()["id"]
    # A status change that sends the (empty) person as it is, is not a choice.
    same = colleague.patch(
        f"{base}/tasks/{task_id}", {"status": "open", "responsible_user_id": None}
    )
    assert same.status_code == 200

    # The assignee searches and chooses as in any case.
    page = assignee.get(f"/cases/{case.id}?for=task-new&person=Mona").get_data(as_text=True)
    assert 'name="person"' in page
    assert "Mona Manager" in page
    chosen = assignee.patch(f"{base}/tasks/{task_id}", {"responsible_user_id": org.manager.id})
    assert chosen.status_code == 200
    # A case that is not confidential: any of its handlers chooses.
    open_case = submit(org.employee, unit_id=org.ward.id)
    other = colleague.post(
        f"/api/v1/cases/{open_case.id}/tasks",
        {"template": "leader_contact", "responsible_user_id": org.manager.id},
    )
    assert other.status_code == 201


def _handler_options(page: str) -> list[str]:
    """The names the assignment form offers as the case's handler."""
    select_tag = re.search(r'<select[^>]*name="handler_id".*?</select>', page, re.S)
    assert select_tag is not None
    return re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', select_tag.group(0))


def test_a_handler_who_sent_a_confidential_report_is_not_told_apart_in_the_assignment_picker(
    app, org, submit, api
):
    """A case handler who sends a confidential report is excluded from its case (no one
    handles their own report) and stays a colleague like any other in every other case
    of their group. On their own case, a colleague who reads "The reporter" must not find
    them as the one member of the group the assignment form leaves out, the count of
    excluded people, or the one the API refuses, name by name. In a confidential report
    only the assignee (who sees who reported) gives the case to a colleague by name; the
    others take it themselves, leave it in the group's queue or move it to another group,
    and read the same form whoever reported."""
    kari_reported = submit(org.colleague, unit_id=org.ward.id, confidential=True)
    ella_reported = submit(org.employee, unit_id=org.ward.id, confidential=True)
    named = submit(org.employee, unit_id=org.ward.id)
    hanna = api(org.handler)

    # Any other case of the group: Kari is offered, and may be given it.
    page = hanna.get(f"/cases/{named.id}").get_data(as_text=True)
    assert _handler_options(page) == ["Hanna Handler", "Kari Kollega"]
    to_kari = {"handler_id": org.colleague.id, "reason": "Hers"}
    assert hanna.post(f"/api/v1/cases/{named.id}/assignment", to_kari).status_code == 200

    # Her own confidential case reads as any other confidential case to a colleague.
    seen = {}
    for ref in (kari_reported, ella_reported):
        page = hanna.get(f"/cases/{ref.id}").get_data(as_text=True)
        section = page[page.index('id="h-assignment"') :]
        refused = hanna.post(f"/api/v1/cases/{ref.id}/assignment", to_kari)
        assert refused.status_code == 400
        counted = "holdt utenfor saken" in section
        seen[ref.id] = (_handler_options(page), counted, refused.get_json())
    assert seen[kari_reported.id] == seen[ella_reported.id]
    assert seen[ella_reported.id][0] == ["Hanna Handler"]
    assert not seen[kari_reported.id][1]

    # Taking it is always possible; the assignee, who sees the reporter, chooses freely.
    mine = {"handler_id": org.handler.id, "reason": "Mine"}
    for ref in (kari_reported, ella_reported):
        assert hanna.post(f"/api/v1/cases/{ref.id}/assignment", mine).status_code == 200
    page = hanna.get(f"/cases/{kari_reported.id}").get_data(as_text=True)
    assert _handler_options(page) == ["Hanna Handler"]
    assert "1 person er holdt utenfor saken" in page
    given = hanna.post(f"/api/v1/cases/{ella_reported.id}/assignment", to_kari)
    assert given.status_code == 200
    refused = hanna.post(f"/api/v1/cases/{kari_reported.id}/assignment", to_kari)
    assert refused.status_code == 400
    with app.app_context():
        assert get_case(kari_reported.id).assigned_user_id == org.handler.id
        assert get_case(ella_reported.id).assigned_user_id == org.colleague.id


def test_the_count_of_excluded_people_keeps_a_reporter_excluded_for_a_reason_shown(
    app, org, make, submit, api
):
    """A colleague who does not see who sent a confidential report reads a count of
    excluded people without the reporter. A reporter who is also excluded for a reason
    the page shows (the line manager of the named counterpart) stays in it: leaving them
    out would tell the colleague, who knows that manager is in the group, that the
    manager is the reporter. Their report reads as a colleague's about the same person."""
    boss = make.user(Role.HANDLER, Role.EMPLOYEE, name="Bjørn Sjef", manages=(org.psychiatry,))
    worker = make.user(Role.EMPLOYEE, name="Wenche Arbeider", units=(org.psychiatry,))
    with app.app_context():
        group = service.get_group(org.hms)
        members = [*group.member_ids, boss.id]
        service.save_group(
            actor="test", name="HMS", member_ids=members, group=group, is_default=True
        )
        db.session.commit()
    about = {"counterpart_user_id": worker.id, "counterpart_category": "colleague"}
    by_boss = submit(boss, unit_id=org.ward.id, confidential=True, **about)
    by_kari = submit(org.colleague, unit_id=org.ward.id, confidential=True, **about)
    hanna = api(org.handler)
    counts = {}
    for ref in (by_boss, by_kari):
        page = hanna.get(f"/cases/{ref.id}").get_data(as_text=True)
        section = page[page.index('id="h-assignment"') :]
        found = re.search(r"(\d+) (?:person er|personer er) holdt utenfor saken", section)
        counts[ref.id] = found.group(1) if found else None
    assert counts[by_boss.id] == counts[by_kari.id] == "1"


def _grant_options(page: str) -> list[str]:
    """The colleagues the grant form offers (none: no form)."""
    select_tag = re.search(r'<select[^>]*name="user_id".*?</select>', page, re.S)
    if select_tag is None:
        return []
    return re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', select_tag.group(0))


def test_a_handler_who_sent_a_confidential_report_and_joined_later_is_not_told_apart(
    app, org, make, submit, api
):
    """A handler who sent a confidential report before joining the case's group is
    excluded from the case as they join. The grant form offers the members who joined
    after the case came: a colleague who reads "The reporter" (and sees on the
    access-changes page who joined) must not find the reporter as the newcomer that form
    leaves out, or the one the API refuses. As with the assignment, only the assignee
    gives a confidential case to a colleague by name, and everyone else reads the same
    whoever reported."""
    nils = make.user(Role.HANDLER, Role.EMPLOYEE, name="Nils Ny")
    ola = make.user(Role.HANDLER, Role.EMPLOYEE, name="Ola Ny")
    nils_reported = submit(nils, unit_id=org.ward.id, confidential=True)
    ella_reported = submit(org.employee, unit_id=org.ward.id, confidential=True)
    body = {"name": "HMS", "is_default": True}
    body["member_ids"] = [org.handler.id, org.colleague.id, nils.id, ola.id]
    joined = api(org.admin).put(f"/api/v1/admin/handler-groups/{org.hms}", body)
    assert joined.status_code == 200, joined.get_json()
    hanna = api(org.handler)

    seen = {}
    for ref in (nils_reported, ella_reported):
        page = hanna.get(f"/cases/{ref.id}").get_data(as_text=True)
        to_nils = {"user_id": nils.id, "reason": "Ferie"}
        given = hanna.post(f"/api/v1/cases/{ref.id}/grants", to_nils)
        seen[ref.id] = (_grant_options(page), given.status_code, given.get_json())
    assert seen[nils_reported.id] == seen[ella_reported.id]
    with app.app_context():
        assert not service.can_access(user_obj(nils), get_case(ella_reported.id))

    # The assignee, who sees who reported, gives access by name.
    mine = {"handler_id": org.handler.id, "reason": "Mine"}
    assert hanna.post(f"/api/v1/cases/{ella_reported.id}/assignment", mine).status_code == 200
    page = hanna.get(f"/cases/{ella_reported.id}").get_data(as_text=True)
    assert _grant_options(page) == ["Nils Ny", "Ola Ny"]
    to_nils = {"user_id": nils.id, "reason": "Ferie"}
    assert hanna.post(f"/api/v1/cases/{ella_reported.id}/grants", to_nils).status_code == 201


def test_safety_rep_sees_a_case_only_with_consent_and_only_what_was_shared(
    app, make, org, submit, api
):
    case = submit(org.employee, unit_id=org.ward.id)
    elsewhere = make.user(Role.SAFETY_REP, units=(org.psychiatry,), represents=(org.psychiatry,))
    # Works in the case's unit, but is verneombud for another one: what widens a safety
    # rep's access is the units they represent (an access change), not where they work.
    works_here = make.user(Role.SAFETY_REP, units=(org.emergency,), represents=(org.psychiatry,))
    rep = api(org.safety_rep)
    other_rep = api(elsewhere)
    assert rep.get(f"/api/v1/cases/{case.id}").status_code == 404
    with app.app_context():
        row = get_case(case.id)
        handler = user_obj(org.handler)
        service.add_task(row, actor=handler, template="individual_talk", note="Private talk")
        shared = service.add_task(row, actor=handler, template="bht_offer", note="Offered BHT")
        service.record_debriefing(
            row,
            actor=handler,
            held_on=date.today(),
            outcome="Learned",
            further_needs="Sleep problems",
        )
        service.post_message(row, handler, "Hello", False)
        db.session.commit()
    assert rep.get(f"/api/v1/cases/{case.id}").status_code == 404
    with app.app_context():
        row = get_case(case.id)
        service.update_task(
            row,
            service.get_task(row, shared.id),
            actor=user_obj(org.handler),
            consent_to_share=True,
        )
        db.session.commit()
    seen = rep.get(f"/api/v1/cases/{case.id}")
    assert seen.status_code == 200
    body = seen.get_json()
    assert body["level"] == AccessLevel.SAFETY_REP
    assert body["report"] is None
    # The shared task, without its note: "only case handlers see the note".
    assert [(t["template"], t["note"]) for t in body["tasks"]] == [("bht_offer", None)]
    assert body["debriefings"] == []
    assert body["messages"] == []
    assert body["events"] == []
    assert body["access_history"] == []
    assert [c["id"] for c in rep.get("/api/v1/cases").get_json()["cases"]] == [case.id]
    # A safety rep for another part of the organisation sees nothing.
    assert other_rep.get(f"/api/v1/cases/{case.id}").status_code == 404
    assert other_rep.get("/api/v1/cases").get_json()["cases"] == []
    assert api(works_here).get(f"/api/v1/cases/{case.id}").status_code == 404
    assert api(works_here).get("/api/v1/cases").get_json()["cases"] == []
    # Writing is for handlers only.
    assert rep.post(f"/api/v1/cases/{case.id}/messages", {"body": "x"}).status_code == 403
    with app.app_context():
        row = get_case(case.id)
        service.record_debriefing(
            row,
            actor=user_obj(org.handler),
            held_on=date.today(),
            outcome="Summary to share",
            further_needs="Not shared",
            consent_to_share_summary=True,
        )
        db.session.commit()
    body = rep.get(f"/api/v1/cases/{case.id}").get_json()
    assert [(d["outcome"], d["further_needs"]) for d in body["debriefings"]] == [
        ("Summary to share", None)
    ]


def test_managers_and_admins_never_get_case_content_from_the_service(app, org, submit):
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        row = get_case(case.id)
        for info in (org.manager, org.admin):
            user = user_obj(info)
            assert service.access_level(user, row) is None
            with pytest.raises(service.CaseNotFound):
                service.open_case_content(row, user)
            assert service.queue_for(user).items == []


def test_a_recused_handler_does_not_see_the_case_as_safety_rep(app, make, org, submit, api):
    both = make.user(
        Role.HANDLER,
        Role.SAFETY_REP,
        name="Hedda Both",
        units=(org.emergency,),
        represents=(org.emergency,),
    )
    with app.app_context():
        hms = service.get_group(org.hms)
        service.save_group(
            actor="test",
            name="HMS",
            member_ids=[*hms.member_ids, both.id],
            group=hms,
            is_default=True,
        )
        db.session.commit()
    case = submit(org.employee, unit_id=org.ward.id)
    client = api(both)
    assert client.get(f"/api/v1/cases/{case.id}").get_json()["level"] == AccessLevel.HANDLER
    recused = client.post(
        f"/api/v1/cases/{case.id}/assignment",
        {"recuse": True, "reason": "My sister is the counterpart"},
    )
    assert recused.status_code == 200, recused.get_json()
    assert client.get(f"/api/v1/cases/{case.id}").status_code == 404
    with app.app_context():
        row = get_case(case.id)
        service.add_task(
            row, actor=user_obj(org.handler), template="bht_offer", consent_to_share=True
        )
        db.session.commit()
    # Consent to share with the safety rep: the rep who recused still does not see it.
    seen = client.get(f"/api/v1/cases/{case.id}")
    queue = [c["id"] for c in client.get("/api/v1/cases?state=all").get_json()["cases"]]
    assert seen.status_code == 404, f"excluded user reads the case at level {seen.get_json()}"
    assert case.id not in queue


def test_a_safety_rep_named_in_a_shared_case_neither_lists_nor_counts_it(app, org, submit, api):
    named = submit(org.employee, unit_id=org.ward.id, counterpart_user_id=org.safety_rep.id)
    shared = submit(org.employee, unit_id=org.ward.id)
    for case in (named, shared):
        _share_with_rep(app, case.id, org)
    rep = api(org.safety_rep)
    assert rep.get(f"/api/v1/cases/{named.id}").status_code == 404
    body = rep.get("/api/v1/cases?state=all").get_json()
    # The case naming them is not in the list, nor in the counters beside it.
    assert [c["id"] for c in body["cases"]] == [shared.id]
    assert body["active_cases"] == 1


def _share_with_rep(app, case_id, org) -> int:
    """The exposed employee consents, on a new task, to sharing with the safety rep: the
    task's id."""
    with app.app_context():
        task = service.add_task(
            get_case(case_id),
            actor=user_obj(org.handler),
            template="bht_offer",
            consent_to_share=True,
        )
        db.session.commit()
        return task.id


def _listed(client) -> list[int]:
    """The case ids in a user's whole list (closed ones too)."""
    return [c["id"] for c in client.get("/api/v1/cases?state=all").get_json()["cases"]]


def test_a_safety_reps_queue_leaves_out_a_shared_case_retention_deleted(app, org, submit, api):
    shared = submit(org.employee, unit_id=org.ward.id)
    other = submit(org.employee, unit_id=org.ward.id)
    _share_with_rep(app, shared.id, org)
    _share_with_rep(app, other.id, org)
    with app.app_context():
        erase_case(get_case(shared.id), month=date.today().replace(day=1))
        db.session.commit()
    rep = api(org.safety_rep)
    response = rep.get("/api/v1/cases?state=all")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert [c["id"] for c in response.get_json()["cases"]] == [other.id]


def test_a_safety_reps_queue_runs_as_many_statements_for_12_shared_cases_as_for_2(
    app, org, make, submit, api, monkeypatch
):
    """Nor does it open a shared report to find the rep's conflicts of interest (the
    people index finds them): a spy counts the openings and lets them through."""
    opened = reports_opened(monkeypatch, "involved_user_ids")
    counterpart = make.user(Role.EMPLOYEE, name="Colleague X", units=(org.ward,))
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            seen.append(statement)

    rep = api(org.safety_rep)

    def measure() -> int:
        rep.get("/api/v1/cases?state=all&limit=5")
        seen.clear()
        assert rep.get("/api/v1/cases?state=all&limit=5").status_code == 200
        return len(seen)

    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(2):
            ref = submit(org.employee, unit_id=org.ward.id, counterpart_user_id=counterpart.id)
            _share_with_rep(app, ref.id, org)
        small = measure()
        for _ in range(10):
            ref = submit(org.employee, unit_id=org.ward.id, counterpart_user_id=counterpart.id)
            _share_with_rep(app, ref.id, org)
        large = measure()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert large == small, (small, large)
    assert opened == []


def test_a_safety_reps_conflicts_are_found_by_the_people_index_and_old_reports_opened(
    app, org, make, submit, api, runner
):
    """Named as a witness, as someone who must not handle the case, as the reporter, or
    line manager of the named counterpart: the shared case is not in the rep's list or
    counts. New reports are decided by the people index in SQL; a report from before
    version 2 of the index is opened as before, until `trygg retention index-people`."""
    rep = make.user(
        Role.SAFETY_REP,
        Role.EMPLOYEE,
        name="Rita Rep",
        units=(org.emergency,),
        represents=(org.emergency,),
        manages=(org.psychiatry,),
    )
    led = make.user(Role.EMPLOYEE, name="Lars Ledet", units=(org.psychiatry,))
    ward = org.ward.id
    conflicted = [
        submit(org.employee, unit_id=ward, witnesses=[{"user_id": rep.id}]),
        submit(org.employee, unit_id=ward, must_not_handle=[rep.id]),
        submit(rep, unit_id=ward),
        submit(org.employee, unit_id=ward, counterpart_user_id=led.id),
    ]
    free = submit(org.employee, unit_id=ward, counterpart_user_id=org.employee.id)
    for case in (*conflicted, free):
        _share_with_rep(app, case.id, org)
    client = api(rep)

    def listed() -> tuple[list[int], int]:
        body = client.get("/api/v1/cases?state=all").get_json()
        return [c["id"] for c in body["cases"]], body["active_cases"]

    assert listed() == ([free.id], 1)
    # The other rep, in conflict with none of them, sees all five.
    other = api(org.safety_rep)
    assert len(other.get("/api/v1/cases?state=all").get_json()["cases"]) == 5
    with app.app_context():  # as if stored before version 2 of the index
        db.session.execute(delete(ReportPerson).where(ReportPerson.role != "exposed"))
        db.session.execute(update(Report).values(people_index=None))
        db.session.commit()
    assert listed() == ([free.id], 1)
    for ref in conflicted:
        assert client.get(f"/api/v1/cases/{ref.id}").status_code == 404
    result = runner.invoke(args=["retention", "index-people"])
    assert result.exit_code == 0, result.output
    assert listed() == ([free.id], 1)


@pytest.mark.parametrize("indexed", [True, False], ids=["by the index", "reports opened"])
def test_a_safety_rep_who_reported_a_colleagues_incident_does_not_see_it_shared(
    app, org, make, submit, api, indexed
):
    """The reporter's own account (role `reporter`, version 2 of the index) is a conflict
    by itself: a rep who reported what happened to a colleague is not the exposed
    employee, and is still kept out of the shared case (as `conflicts` decides)."""
    rep = make.user(
        Role.SAFETY_REP,
        Role.EMPLOYEE,
        name="Rita Rep",
        units=(org.emergency,),
        represents=(org.emergency,),
    )
    mine = submit(rep, unit_id=org.ward.id, exposed=[{"user_id": org.employee.id}])
    free = submit(org.employee, unit_id=org.ward.id)
    for case in (mine, free):
        _share_with_rep(app, case.id, org)
    if not indexed:
        with app.app_context():
            db.session.execute(delete(ReportPerson).where(ReportPerson.role != "exposed"))
            db.session.execute(update(Report).values(people_index=None))
            db.session.commit()
    client = api(rep)
    body = client.get("/api/v1/cases?state=all").get_json()
    assert [c["id"] for c in body["cases"]] == [free.id]
    assert body["active_cases"] == 1
    assert client.get(f"/api/v1/cases/{mine.id}").status_code == 404


def test_a_case_is_shared_while_consent_lasts_and_no_longer(app, org, submit, api):
    """Consent on a task shares the case with the unit's safety rep; withdrawn, it is no
    longer in their list; a debriefing's consent to share its summary shares it again.
    (The rep's queue seeks the shared cases by `case.shared_unit_id`.)"""
    case = submit(org.employee, unit_id=org.ward.id)
    rep = api(org.safety_rep)
    assert _listed(rep) == []
    task_id = _share_with_rep(app, case.id, org)
    assert _listed(rep) == [case.id]
    with app.app_context():
        row = get_case(case.id)
        task = next(t for t in row.tasks if t.id == task_id)
        service.update_task(row, task, actor=user_obj(org.handler), consent_to_share=False)
        db.session.commit()
        assert get_case(case.id).shared_unit_id is None
    assert _listed(rep) == []
    assert rep.get(f"/api/v1/cases/{case.id}").status_code == 404
    with app.app_context():
        service.record_debriefing(
            get_case(case.id), actor=user_obj(org.handler), held_on=date.today(),
            participant_roles=["exposed_employee"], support_offered=[],
            consent_to_share_summary=True,
        )  # fmt: skip
        db.session.commit()
        assert get_case(case.id).shared_unit_id == org.ward.id
    assert _listed(rep) == [case.id]


def test_a_rep_who_no_longer_represents_the_unit_no_longer_lists_its_case(app, org, submit, api):
    """The units a rep represents, read once per GET, are read again by the next GET."""
    case = submit(org.employee, unit_id=org.ward.id)
    _share_with_rep(app, case.id, org)
    rep = api(org.safety_rep)
    with app.app_context():
        assert _listed(rep) == [case.id]
        db.session.execute(
            update(Membership)
            .where(Membership.user_id == org.safety_rep.id)
            .values(is_safety_rep=False)
        )
        db.session.commit()
        assert _listed(rep) == []
        assert rep.get(f"/api/v1/cases/{case.id}").status_code == 404


def test_a_stale_shared_unit_never_widens_a_reps_list(app, org, submit, api):
    """`case.shared_unit_id` only narrows the rep's list: set where no consent was
    given, or to the rep's unit for another unit's consented case, it shows nothing;
    the consent and the report's unit are checked from their rows."""
    private = submit(org.employee, unit_id=org.ward.id)
    elsewhere = submit(org.employee, unit_id=org.psychiatry.id)
    _share_with_rep(app, elsewhere.id, org)
    with app.app_context():
        db.session.execute(
            update(Case)
            .where(Case.id.in_([private.id, elsewhere.id]))
            .values(shared_unit_id=org.ward.id)
        )
        db.session.commit()
    rep = api(org.safety_rep)
    assert rep.get("/api/v1/cases?state=all").get_json()["cases"] == []
    for case in (private, elsewhere):
        assert rep.get(f"/api/v1/cases/{case.id}").status_code == 404


def test_the_reps_consent_check_can_read_the_partial_indexes(app, org, submit, api):
    """The rep's list checks consent by `ix_follow_up_task_shared` and
    `ix_debriefing_shared`: on each engine the index's condition is the term the query
    writes (SQLite `IS 1`, PostgreSQL `IS true`), which a planner needs to use a partial
    index; on SQLite its query plan shows both read."""
    case = submit(org.employee, unit_id=org.ward.id)
    _share_with_rep(app, case.id, org)
    with app.app_context():
        engine = db.engine
    rep = api(org.safety_rep)
    seen: list[tuple[str, Any]] = []

    def before(conn, cursor, statement, params, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "consent_to_share" in statement:
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", before)
    try:
        assert rep.get("/api/v1/cases?state=all").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert seen
    with app.app_context():
        dialect = db.engine.dialect
        for column, index in (
            (FollowUpTask.consent_to_share, FollowUpTask.__table__.indexes),
            (Debriefing.consent_to_share_summary, Debriefing.__table__.indexes),
        ):
            term = str(column.is_(True).compile(dialect=dialect)).split(".", 1)[-1]
            (shared,) = [i for i in index if i.name.endswith("_shared")]
            where = shared.dialect_options[dialect.name]["where"]
            assert str(where).lower() == term.lower(), (str(where), term)
    if ENGINE != "sqlite":
        return
    with app.app_context():
        connection = db.session.connection()
        for statement, params in seen:
            plan = " ".join(
                row[-1]
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
            assert "USING INDEX ix_follow_up_task_shared" in plan, plan
            assert "USING INDEX ix_debriefing_shared" in plan, plan


def test_a_safety_rep_is_not_told_that_a_shared_tasks_responsible_person_was_excluded(
    app, org, submit, api
):
    """Why someone was excluded (a recusal, a conflict of interest: perhaps named in the
    report) is the handlers' to know: the shared task does not say it to the rep."""
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        task = service.add_task(
            get_case(case.id), actor=user_obj(org.handler), template="bht_offer",
            responsible_user_id=org.colleague.id, consent_to_share=True,
        )  # fmt: skip
        task_id = task.id
        service.recuse(get_case(case.id), user_obj(org.colleague), "Jeg kjenner den ansatte.")
        db.session.commit()
    handler = api(org.handler).get(f"/api/v1/cases/{case.id}").get_json()
    assert [t["responsible_excluded"] for t in handler["tasks"]] == [True]
    seen = api(org.safety_rep).get(f"/api/v1/cases/{case.id}")
    assert seen.status_code == 200
    (shared,) = seen.get_json()["tasks"]
    assert shared["id"] == task_id
    assert shared["responsible_excluded"] is None
