"""Separation of duties, case side: access to existing cases is granted by those who have it.

A handler added to a group sees the cases that come to it after they joined; older ones
only when a handler with access (or the group's lead) grants them, with a reason, or by
the break-glass command on the server. Each widening is on the access-changes page and
told to the handlers it concerns. The queue (SQL) and the per-case check are one rule.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from handling import access
from handling.erasure import erase_case
from handling.models import Case, CaseGrant
from handling.service.access import handler_reach
from handling.states import GrantKind
from notifications.models import Notification
from tests.factories import form_login, form_token
from tests.handling.conftest import get_case
from trygg.access_changes import AccessChange
from trygg.accounts.models import User
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role

REASON = "Hanna is away for a month; Nils takes over the follow-up."


@pytest.fixture
def as_user(api):
    """as_user(user) → that user's logged-in API client (one login per user and test: a
    TOTP code works once)."""
    clients: dict[int, object] = {}

    def get(user):
        if user.id not in clients:
            clients[user.id] = api(user)
        return clients[user.id]

    return get


def set_members(api, org, member_ids, escalation_ids=None):
    body = {"name": "HMS", "member_ids": member_ids, "is_default": True}
    if escalation_ids is not None:
        body["escalation_ids"] = escalation_ids
    response = api(org.admin).put(f"/api/v1/admin/handler-groups/{org.hms}", body)
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def newcomer(make):
    return make.user(Role.HANDLER, name="Nils Ny")


@pytest.fixture
def old_case(org, submit):
    return submit(org.employee, unit_id=org.ward.id)


@pytest.fixture
def joined(as_user, org, newcomer, old_case):
    """Nils joins HMS after `old_case` came to it."""
    set_members(as_user, org, [org.handler.id, org.colleague.id, newcomer.id])
    return newcomer


def queue_ids(client) -> set[int]:
    return {c["id"] for c in client.get("/api/v1/cases?state=all").get_json()["cases"]}


def test_a_new_member_sees_new_cases_but_not_old_ones(app, as_user, org, submit, joined, old_case):
    new_case = submit(org.employee, unit_id=org.ward.id)
    nils = app.test_client()
    form_login(nils, joined)
    assert queue_ids(nils) == {new_case.id}
    assert nils.get(f"/api/v1/cases/{old_case.id}").status_code == 404
    assert nils.get(f"/api/v1/cases/{new_case.id}").status_code == 200
    assert nils.get(f"/cases/{old_case.id}").status_code == 404
    assert nils.get(f"/cases/{new_case.id}").status_code == 200
    assert f"/cases/{old_case.id}" not in nils.get("/cases").get_data(as_text=True)
    hanna = as_user(org.handler)
    assert {old_case.id, new_case.id} <= queue_ids(hanna)


def test_joining_is_an_access_change_told_to_the_groups_handlers(app, org, joined):
    with app.app_context():
        change = db.session.scalars(
            select(AccessChange).where(AccessChange.kind == "group.member_added")
        ).all()[-1]
        assert change.user_id == joined.id
        assert change.actor == f"user:{org.admin.id}"
        told = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    Notification.kind == "access_change",
                    Notification.dedupe_key.like(f"access:{change.id}:%"),
                )
            )
        )
    assert told == {org.handler.id, org.colleague.id}  # the group's handlers, not the admin


def test_a_handler_with_access_grants_an_old_case_with_a_reason(
    app, as_user, org, joined, old_case
):
    hanna = as_user(org.handler)
    no_reason = hanna.post(f"/api/v1/cases/{old_case.id}/grants", {"user_id": joined.id})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.get_json()["errors"]
    done = hanna.post(
        f"/api/v1/cases/{old_case.id}/grants", {"user_id": joined.id, "reason": REASON}
    )
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["user_id"] == joined.id
    nils = as_user(joined)
    assert old_case.id in queue_ids(nils)
    assert nils.get(f"/api/v1/cases/{old_case.id}").status_code == 200
    history = hanna.get(f"/api/v1/cases/{old_case.id}").get_json()["access_history"]
    grants = [a for a in history if a["action"] == "case.grant"]
    assert grants[0]["user_id"] == joined.id
    assert grants[0]["actor"] == f"user:{org.handler.id}"
    with app.app_context():
        row = db.session.scalar(select(CaseGrant).where(CaseGrant.case_id == old_case.id))
        assert REASON.encode() not in row.reason_sealed  # sealed
        kinds = [c.kind for c in db.session.scalars(select(AccessChange))]
        assert "case.granted" in kinds


def test_the_case_page_grants_and_shows_it_in_the_access_history(app, org, joined, old_case):
    hanna = app.test_client()
    form_login(hanna, org.handler)
    page = hanna.get(f"/cases/{old_case.id}").get_data(as_text=True)
    assert "Nils Ny" in page  # offered as a colleague to give access to
    response = hanna.post(
        f"/cases/{old_case.id}/grants",
        data={
            "csrf_token": form_token(hanna, f"/cases/{old_case.id}"),
            "user_id": str(joined.id),
            "reason": REASON,
        },
    )
    assert response.status_code == 303
    html = hanna.get(f"/cases/{old_case.id}").get_data(as_text=True)
    history = html[html.index('id="h-access"') :]
    assert re.search(r"Ga tilgang til[^<]*Nils Ny", history)


def test_no_one_without_access_can_grant(app, as_user, org, joined, old_case, make):
    stranger = make.user(Role.HANDLER, name="Other Group")
    for user in (joined, stranger, org.whistle_handler):
        response = as_user(user).post(
            f"/api/v1/cases/{old_case.id}/grants", {"user_id": joined.id, "reason": REASON}
        )
        assert response.status_code == 404
    assert (
        as_user(org.admin)
        .post(f"/api/v1/cases/{old_case.id}/grants", {"user_id": joined.id, "reason": REASON})
        .status_code
        == 403
    )


def test_only_members_of_the_group_can_be_granted(as_user, org, joined, old_case):
    hanna = as_user(org.handler)
    for target in (org.whistle_handler.id, org.colleague.id, org.admin.id, 2**40):
        response = hanna.post(
            f"/api/v1/cases/{old_case.id}/grants", {"user_id": target, "reason": REASON}
        )
        assert response.status_code == 400, target
        assert "user_id" in response.get_json()["errors"]


def test_the_groups_lead_grants_but_not_to_themselves(app, as_user, org, make, old_case):
    lead = make.user(Role.HANDLER, name="Lise Leder")
    other = make.user(Role.HANDLER, name="Ola Ny")
    set_members(as_user, org, [org.handler.id, org.colleague.id, lead.id, other.id], [lead.id])
    lise = as_user(lead)
    assert lise.get(f"/api/v1/cases/{old_case.id}").status_code == 404
    to_self = lise.post(
        f"/api/v1/cases/{old_case.id}/grants", {"user_id": lead.id, "reason": REASON}
    )
    assert to_self.status_code == 400
    done = lise.post(f"/api/v1/cases/{old_case.id}/grants", {"user_id": other.id, "reason": REASON})
    assert done.status_code == 201
    assert as_user(other).get(f"/api/v1/cases/{old_case.id}").status_code == 200
    with app.app_context():
        kinds = [c.kind for c in db.session.scalars(select(AccessChange))]
    assert "group.lead_added" in kinds


def test_a_lead_excluded_from_the_case_cannot_grant_it_nor_learn_it_exists(
    app, as_user, org, make, submit
):
    """The lead grants a case they do not see, but never one they are excluded from (a
    report naming them): they would choose who reads the case about them, and the
    answer (a refusal of the form, not "not found") told them it exists."""
    lead = make.user(Role.HANDLER, name="Lise Leder")
    other = make.user(Role.HANDLER, name="Ola Ny")
    case = submit(org.employee, unit_id=org.ward.id, must_not_handle=[lead.id])
    set_members(as_user, org, [org.handler.id, org.colleague.id, lead.id, other.id], [lead.id])
    lise = as_user(lead)
    path = f"/api/v1/cases/{case.id}/grants"
    assert lise.post(path, {"user_id": other.id, "reason": REASON}).status_code == 404
    assert lise.post(path, {}).status_code == 404
    assert as_user(other).get(f"/api/v1/cases/{case.id}").status_code == 404
    form = {"csrf_token": form_token(lise.client, "/cases"), "user_id": other.id, "reason": REASON}
    assert lise.client.post(f"/cases/{case.id}/grants", data=form).status_code == 404
    with app.app_context():
        assert not db.session.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id)).all()


def test_reassignment_by_a_handler_keeps_working(as_user, org, joined, old_case):
    hanna = as_user(org.handler)
    response = hanna.post(
        f"/api/v1/cases/{old_case.id}/assignment", {"handler_id": joined.id, "reason": "Ferie"}
    )
    assert response.status_code == 200, response.get_json()
    assert as_user(joined).get(f"/api/v1/cases/{old_case.id}").status_code == 200


def test_a_case_moved_by_a_handler_is_seen_by_the_new_groups_members(as_user, org, old_case):
    hanna = as_user(org.handler)
    moved = hanna.post(
        f"/api/v1/cases/{old_case.id}/assignment", {"group_id": org.fallback, "reason": "Flytt"}
    )
    assert moved.status_code == 200, moved.get_json()
    assert as_user(org.fallback_handler).get(f"/api/v1/cases/{old_case.id}").status_code == 200


def test_leaving_the_group_ends_a_grant(as_user, org, joined, old_case):
    as_user(org.handler).post(
        f"/api/v1/cases/{old_case.id}/grants", {"user_id": joined.id, "reason": REASON}
    )
    set_members(as_user, org, [org.handler.id, org.colleague.id])
    assert as_user(joined).get(f"/api/v1/cases/{old_case.id}").status_code == 404


def test_a_routing_rule_is_an_access_change_told_to_the_target_group(app, as_user, org):
    response = as_user(org.admin).post(
        "/api/v1/admin/routing-rules", {"group_id": org.fallback, "unit_id": org.ward.id}
    )
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        change = db.session.scalars(
            select(AccessChange).where(AccessChange.kind == "routing_rule.created")
        ).all()[-1]
        told = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    Notification.dedupe_key.like(f"access:{change.id}:%")
                )
            )
        )
    assert told == {org.fallback_handler.id}


def test_the_queue_and_the_case_check_are_one_rule(
    app, runner, as_user, org, submit, make, joined, old_case
):
    """For every handler and case, the queue lists it exactly when the case opens, and
    the queue's rule (`Reach.sees`, the handler's part read as values) says what
    `handler_sees` says: a member from the start, one who joined later with and without
    a grant, a case moved to another group, a recusal, break-glass for one case and a
    handler made inactive."""
    new_case = submit(org.employee, unit_id=org.ward.id)
    moved = submit(org.employee, unit_id=org.ward.id)
    recused = submit(org.employee, unit_id=org.ward.id)
    as_user(org.handler).post(
        f"/api/v1/cases/{moved.id}/assignment", {"group_id": org.whistle, "reason": "Varsel"}
    )
    as_user(org.handler).post(
        f"/api/v1/cases/{old_case.id}/grants", {"user_id": joined.id, "reason": REASON}
    )
    response = as_user(org.colleague).post(
        f"/api/v1/cases/{recused.id}/assignment", {"recuse": True, "reason": "Min nabo"}
    )
    assert response.status_code == 200, response.get_json()
    outsider = make.user(Role.HANDLER, name="Olga Utenfor")
    result = runner.invoke(
        args=["break-glass", outsider.email, "--case", str(new_case.id), "--reason", "Tilsyn"]
    )
    assert result.exit_code == 0, result.output
    cases = [old_case.id, new_case.id, moved.id, recused.id]
    people = (org.handler, org.colleague, joined, org.whistle_handler, org.fallback_handler)
    seen: dict[str, set[int]] = {}
    for person in (*people, outsider):
        client = as_user(person)
        listed = queue_ids(client) & set(cases)
        opens = {c for c in cases if client.get(f"/api/v1/cases/{c}").status_code == 200}
        assert listed == opens, person.email
        assert _by_both_rules(app, person.id, cases) == (opens, opens), person.email
        seen[person.email] = opens
    assert recused.id not in seen[org.colleague.email]
    assert recused.id in seen[org.handler.email]
    assert seen[outsider.email] == {new_case.id}
    assert old_case.id in seen[joined.email]
    # Who is told of a case's events (its group's members who see it) reads the rule
    # with the member as a column: the same answer (a break-glass outsider is no member).
    assert _members_seeing(app, cases, people) == {
        (person.id, c) for person in people for c in seen[person.email]
    }
    # And with the user as a column of a query over every user and case.
    everyone = (*people, outsider)
    assert _users_seeing(app, cases, everyone) == {
        (person.id, c) for person in everyone for c in seen[person.email]
    }
    # Made inactive: no reading of the rule lets them see anything.
    with app.app_context():
        db.session.get(User, org.handler.id).active = False
        db.session.commit()
    assert _by_both_rules(app, org.handler.id, cases) == (set(), set())
    assert not {c for uid, c in _members_seeing(app, cases, people) if uid == org.handler.id}
    assert not {c for uid, c in _users_seeing(app, cases, everyone) if uid == org.handler.id}


def _users_seeing(app, cases, people) -> set[tuple[int, int]]:
    """(user, case) pairs where `handler_sees(User.id)` holds, over all users and cases."""
    ids = [person.id for person in people]
    with app.app_context():
        pairs = db.session.execute(
            select(User.id, Case.id)
            .join(Case, Case.id.in_(cases))
            .where(User.id.in_(ids), access.handler_sees(User.id))
        )
        found = {(uid, cid) for uid, cid in pairs}
        db.session.remove()
    return found


def _members_seeing(app, cases, people) -> set[tuple[int, int]]:
    """(user, case) for each of `people` whom `seeing_by_case` counts as seeing it."""
    ids = {person.id for person in people}
    with app.app_context():
        by_case = access.seeing_by_case(cases)
        db.session.remove()
    return {(uid, c) for c, users in by_case.items() for uid in users if uid in ids}


def _by_both_rules(app, user_id, cases) -> tuple[set[int], set[int]]:
    """The cases `handler_sees` lets the user see, and those `Reach.sees` does."""
    with app.app_context():
        user = db.session.get(User, user_id)
        out = tuple(
            set(db.session.scalars(select(Case.id).where(Case.id.in_(cases), rule)))
            for rule in (access.handler_sees(user_id), handler_reach(user).sees())
        )
        db.session.remove()
    return out  # type: ignore[return-value]


# -- break-glass --------------------------------------------------------------------------


def test_break_glass_gives_one_handler_a_groups_cases_and_tells_everyone(
    app, runner, org, make, as_user, old_case
):
    nils = make.user(Role.HANDLER, name="Nils Ny")
    result = runner.invoke(
        args=["break-glass", nils.email, "--group", "HMS", "--reason", "Alle i HMS har sluttet"]
    )
    assert result.exit_code == 0, result.output
    assert "1 case(s)" in result.output
    assert as_user(nils).get(f"/api/v1/cases/{old_case.id}").status_code == 200
    for reader in (org.handler, org.whistle_handler, org.safety_rep):
        client = app.test_client()
        form_login(client, reader)
        html = client.get("/access-changes").get_data(as_text=True)
        first = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1]
        assert "Nils Ny" in first
        assert "Alle i HMS har sluttet" in first
    with app.app_context():
        change = db.session.scalars(
            select(AccessChange).where(AccessChange.kind == GrantKind.BREAK_GLASS)
        ).one()
        told = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    Notification.dedupe_key.like(f"access:{change.id}:%")
                )
            )
        )
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "access.break_glass")
        ).one()
    assert {org.handler.id, org.colleague.id, org.whistle_handler.id, org.safety_rep.id} <= told
    assert entry.actor == "cli"


def test_break_glass_for_a_group_passes_over_a_case_retention_deleted(
    app, runner, org, make, as_user, old_case, submit
):
    """A deleted case keeps its codes, not its people: nothing to check for conflicts
    (its shredded key cannot be opened: the command failed with a traceback)."""
    gone = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        erase_case(get_case(gone.id), month=date.today().replace(day=1))
        db.session.commit()
    nils = make.user(Role.HANDLER, name="Nils Ny")
    result = runner.invoke(
        args=["break-glass", nils.email, "--group", "HMS", "--reason", "Alle i HMS har sluttet"]
    )
    assert result.exit_code == 0, result.output
    assert "1 case(s)" in result.output  # the deleted one is not granted
    assert as_user(nils).get(f"/api/v1/cases/{old_case.id}").status_code == 200


def test_break_glass_for_one_case(runner, org, make, as_user, old_case, submit):
    other = submit(org.employee, unit_id=org.ward.id)
    nils = make.user(Role.HANDLER, name="Nils Ny")
    result = runner.invoke(
        args=["break-glass", nils.email, "--case", str(old_case.id), "--reason", "Tilsyn"]
    )
    assert result.exit_code == 0, result.output
    client = as_user(nils)
    assert client.get(f"/api/v1/cases/{old_case.id}").status_code == 200
    assert client.get(f"/api/v1/cases/{other.id}").status_code == 404


def test_break_glass_for_one_case_names_the_case_only_to_those_who_may_handle_it(
    app, runner, org, make, submit
):
    """Break-glass is shown to, and told to, every handler and the safety representative:
    no one is let in silently. The case it opened is named as a grant's is: to the
    handlers who may handle it (the one let in among them) and the safety
    representative. A handler excluded from the case (here named as one who must not
    handle it) or of another group reads that one case they do not handle was opened,
    by whom, to whom and why, but not which: they must not learn that it exists."""
    nils = make.user(Role.HANDLER, name="Nils Ny")
    case = submit(org.employee, unit_id=org.ward.id, must_not_handle=[org.colleague.id])
    result = runner.invoke(
        args=["break-glass", nils.email, "--case", str(case.id), "--reason", "Tilsyn"]
    )
    assert result.exit_code == 0, result.output
    readers = (
        (org.handler, True),
        (nils, True),
        (org.safety_rep, True),
        (org.colleague, False),
        (org.whistle_handler, False),
    )
    for reader, named in readers:
        client = app.test_client()
        form_login(client, reader)
        html = client.get("/access-changes").get_data(as_text=True)
        [row] = [r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if "Tilsyn" in r]
        assert "Nils Ny" in row
        what = re.findall(r"<td>(.*?)</td>", row, re.S)[-1]
        assert (f"sak {case.id}," in what) is named, (reader.email, what)
        if not named:
            assert not re.search(r"\d", what), what


def test_break_glass_for_one_case_keeps_a_conflict_of_interest_out(
    app, runner, org, make, as_user, submit
):
    """A handler named in the report (here as the one who must not handle it) is not let
    in by break-glass either: the conflict is recorded, the case stays closed to them."""
    nils = make.user(Role.HANDLER, name="Nils Ny")
    case = submit(org.employee, unit_id=org.ward.id, must_not_handle=[nils.id])
    result = runner.invoke(
        args=["break-glass", nils.email, "--case", str(case.id), "--reason", "Tilsyn"]
    )
    assert result.exit_code != 0
    assert "conflict of interest" in result.output
    assert as_user(nils).get(f"/api/v1/cases/{case.id}").status_code == 404
    with app.app_context():
        assert not db.session.scalars(
            select(AccessChange).where(AccessChange.kind == GrantKind.BREAK_GLASS)
        ).all()


@pytest.mark.parametrize(
    ("who", "extra", "says"),
    [
        (Role.ADMIN, ["--group", "HMS", "--reason", "x"], "Only an active case handler"),
        (Role.HANDLER, ["--group", "HMS"], "Missing option '--reason'"),
        (Role.HANDLER, ["--group", "HMS", "--reason", "   "], "Write a reason"),
        (Role.HANDLER, ["--reason", "x"], "Name either a handler group or a case"),
        (Role.HANDLER, ["--group", "Finnes ikke", "--reason", "x"], "no handler group"),
        (Role.HANDLER, ["--case", str(2**40), "--reason", "x"], "no case"),
    ],
)
def test_break_glass_refuses(app, runner, org, make, who, extra, says):
    person = make.user(who)
    result = runner.invoke(args=["break-glass", person.email, *extra])
    assert result.exit_code != 0
    assert says in result.output
    with app.app_context():
        assert not db.session.scalars(
            select(AccessChange).where(AccessChange.kind == GrantKind.BREAK_GLASS)
        ).all()


# -- every response with sealed content is audited (item 6) --------------------------------

SEALED_FIELDS = {"body", "note", "outcome", "further_needs", "report", "closing_note", "feedback"}


def reads(app, case_id: int) -> int:
    with app.app_context():
        return len(
            [
                e
                for e in db.session.scalars(
                    select(AuditEntry).where(
                        AuditEntry.object_type == "case",
                        AuditEntry.object_id == str(case_id),
                        AuditEntry.action == "case.read",
                    )
                )
            ]
        )


def test_every_api_answer_with_sealed_content_is_audited(app, as_user, org, old_case):
    hanna = as_user(org.handler)
    base = f"/api/v1/cases/{old_case.id}"
    task = hanna.post(f"{base}/tasks", {"template": "leader_contact", "note": "Ringt"})
    calls = [
        ("GET", base, None),
        ("GET", f"{base}/messages", None),
        ("POST", f"{base}/messages", {"body": "Takk for meldingen", "internal": False}),
        ("POST", f"{base}/messages", {"body": "Intern merknad", "internal": True}),
        ("POST", f"{base}/tasks", {"template": "leader_contact", "note": "Notat"}),
        ("PATCH", f"{base}/tasks/{task.get_json()['id']}", {"note": "Nytt notat"}),
        ("POST", f"{base}/debriefing", {"held_on": date.today().isoformat(), "outcome": "Lært"}),
    ]
    for method, path, body in calls:
        before = reads(app, old_case.id)
        response = hanna._send(method, path, body) if body is not None else hanna.get(path)
        assert response.status_code in {200, 201}, (path, response.get_json())
        assert reads(app, old_case.id) == before + 1, (method, path)
    reporter = as_user(org.employee)
    before = reads(app, old_case.id)
    posted = reporter.post(f"/api/v1/reports/{old_case.report_id}/messages", {"body": "Svar"})
    assert posted.status_code == 201
    assert reads(app, old_case.id) == before + 1
    assert reporter.get(f"/api/v1/reports/{old_case.report_id}/messages").status_code == 200
    assert reads(app, old_case.id) == before + 2


def test_every_api_route_that_returns_sealed_fields_is_in_the_walk(app):
    """A new route answering with sealed fields must join the walk above."""
    walked = {
        ("GET", "/api/v1/cases/<id:case_id>"),
        ("GET", "/api/v1/cases/<id:case_id>/messages"),
        ("POST", "/api/v1/cases/<id:case_id>/messages"),
        ("POST", "/api/v1/cases/<id:case_id>/tasks"),
        ("PATCH", "/api/v1/cases/<id:case_id>/tasks/<id:task_id>"),
        ("POST", "/api/v1/cases/<id:case_id>/debriefing"),
        ("POST", "/api/v1/reports/<id:report_id>/messages"),
        ("GET", "/api/v1/reports/<id:report_id>/messages"),
        # The anonymous follow-up's and the reporter's own report: audited as in
        # tests/handling/test_anonymous.py and tests/reporting.
        ("GET", "/api/v1/anonymous/messages"),
        ("POST", "/api/v1/anonymous/session"),
        ("POST", "/api/v1/anonymous/messages"),
        ("GET", "/api/v1/anonymous/report"),
        ("GET", "/api/v1/reports/<id:report_id>"),
    }
    # Same field names, no case content: a retention policy's `outcome` is the outcome
    # code it applies to; a risk assessment's comment `body` is the commenter's own text.
    not_case_content = {
        ("GET", "/api/v1/retention/policies"),
        ("PUT", "/api/v1/retention/policies/<id:policy_id>"),
        ("POST", "/api/v1/risk/assessments/<id:assessment_id>/comments"),
    }
    found = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "_trygg_api_doc", None)
        if doc is None or doc.response is None:
            continue
        schema = doc.response() if isinstance(doc.response, type) else doc.response
        names = _field_names(schema)
        if names & SEALED_FIELDS:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found.add((method, rule.rule))
    assert found - not_case_content <= walked, found - not_case_content - walked


def _field_names(schema) -> set[str]:
    names = set()
    for name, declared in schema.fields.items():
        names.add(name)
        inner = getattr(declared, "inner", None) or declared
        nested = getattr(inner, "schema", None)
        if nested is not None and hasattr(nested, "fields"):
            names |= _field_names(nested)
    return names


# -- item 8b: the reporter's message ids tell nothing of internal notes --------------------


def test_reporter_message_ids_do_not_reveal_internal_notes(as_user, org, old_case, submit):
    hanna = as_user(org.handler)
    base = f"/api/v1/cases/{old_case.id}"
    hanna.post(f"{base}/messages", {"body": "Første", "internal": False})
    hanna.post(f"{base}/messages", {"body": "Intern", "internal": True})
    hanna.post(f"{base}/messages", {"body": "Andre", "internal": False})
    handler_ids = [m["id"] for m in hanna.get(f"{base}/messages").get_json()]
    seen = as_user(org.employee).get(f"/api/v1/reports/{old_case.report_id}/messages").get_json()
    ids = [m["id"] for m in seen["messages"]]
    assert [m["body"] for m in seen["messages"]] == ["Første", "Andre"]
    assert not set(ids) & set(handler_ids)
    assert abs(ids[1] - ids[0]) > 10_000  # no gap to count notes by


def test_an_admins_reset_of_a_handler_is_told_to_their_groups_handlers(app, org, make):
    admin = make.user(Role.ADMIN, name="Anne Admin")
    client = app.test_client()
    form_login(client, admin)
    page = f"/admin/users/{org.handler.id}"
    response = client.post(f"{page}/password-code", data={"csrf_token": form_token(client, page)})
    assert response.status_code == 200
    with app.app_context():
        change = db.session.scalars(
            select(AccessChange).where(AccessChange.kind == "password.reset")
        ).all()[-1]
        assert change.user_id == org.handler.id
        told = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    Notification.dedupe_key.like(f"access:{change.id}:%")
                )
            )
        )
    assert told == {org.colleague.id}  # HMS's other handler; not the admin, not Hanna


def test_a_new_member_is_told_of_an_old_case_only_once_granted(app, as_user, org, joined, old_case):
    def told(kind: str) -> set[int]:
        with app.app_context():
            return set(
                db.session.scalars(select(Notification.user_id).where(Notification.kind == kind))
            )

    reporter = as_user(org.employee)
    path = f"/api/v1/reports/{old_case.report_id}/messages"
    assert reporter.post(path, {"body": "Et spørsmål"}).status_code == 201
    assert told("case_message") == {org.handler.id, org.colleague.id}
    as_user(org.handler).post(
        f"/api/v1/cases/{old_case.id}/grants", {"user_id": joined.id, "reason": REASON}
    )
    assert reporter.post(path, {"body": "Et spørsmål til"}).status_code == 201
    assert joined.id in told("case_message")


def test_an_excluded_handler_is_not_told_of_a_grant_of_the_case(
    app, as_user, org, submit, newcomer
):
    """A grant is an access change about one case: the group's handlers who may handle
    it hear of it, never one excluded from it (who must not learn that the case exists,
    and by it that a report names them)."""
    case = submit(org.employee, unit_id=org.ward.id, must_not_handle=[org.colleague.id])
    set_members(as_user, org, [org.handler.id, org.colleague.id, newcomer.id])
    done = as_user(org.handler).post(
        f"/api/v1/cases/{case.id}/grants", {"user_id": newcomer.id, "reason": REASON}
    )
    assert done.status_code == 201, done.get_json()
    with app.app_context():
        change = db.session.scalars(
            select(AccessChange).where(AccessChange.kind == "case.granted")
        ).one()
        told = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    Notification.dedupe_key.like(f"access:{change.id}:%")
                )
            )
        )
    assert org.colleague.id not in told


def test_an_excluded_handler_does_not_find_the_grant_on_the_access_changes_page(
    app, as_user, org, submit, newcomer
):
    """The page lists a grant of a case to those who may handle the case (and to the
    safety representative): a handler excluded from it would read that a case they do
    not see was given to a member of their group."""
    case = submit(org.employee, unit_id=org.ward.id, must_not_handle=[org.colleague.id])
    set_members(as_user, org, [org.handler.id, org.colleague.id, newcomer.id])
    done = as_user(org.handler).post(
        f"/api/v1/cases/{case.id}/grants", {"user_id": newcomer.id, "reason": REASON}
    )
    assert done.status_code == 201, done.get_json()
    granted = f"Fikk tilgang til sak {case.id}"  # the page is in Norwegian
    for reader, sees in ((org.handler, True), (org.safety_rep, True), (org.colleague, False)):
        html = as_user(reader).get("/access-changes").get_data(as_text=True)
        assert (granted in html) is sees, reader.email
