"""Routing, the default track, conflict of interest, fallback and recusal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from handling import service
from handling.models import Case, CaseExclusion
from handling.states import AccessLevel, CaseState, Track
from reporting.models import Report
from tests.factories import user_obj
from tests.handling.conftest import get_case, reports_opened
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.roles import Role


@pytest.mark.parametrize(
    ("types", "counterpart", "track"),
    [
        (["bullying"], "colleague", Track.WHISTLEBLOWING),
        (["sexual_harassment"], "leader", Track.WHISTLEBLOWING),
        (["discriminatory_harassment", "verbal_abuse"], "colleague", Track.WHISTLEBLOWING),
        (["bullying"], "patient", Track.HMS_DEVIATION),
        (["threat"], "colleague", Track.HMS_DEVIATION),
        (["physical_violence"], "patient", Track.HMS_DEVIATION),
        (["verbal_abuse"], "customer", Track.HMS_DEVIATION),
        (["online_abuse"], "unknown", Track.HMS_DEVIATION),
    ],
)
def test_default_track_follows_types_and_counterpart(org, submit, types, counterpart, track):
    case = submit(
        org.employee, unit_id=org.ward.id, incident_types=types, counterpart_category=counterpart
    )
    assert case.track == track


@pytest.fixture
def routing(app, make, org):
    """Groups and rules of every kind of specificity, each group with its own handler."""
    names = ["Hospital", "Emergency", "Bullying", "Whistle", "PsychWhistle", "Default"]
    ids = {}
    outside = make.unit("Another employer")
    with app.app_context():
        for group in service.handler_groups():  # the org fixture's groups step aside
            service.save_group(
                actor="test", name=group.name, member_ids=group.member_ids, group=group
            )
        for rule in service.routing_rules():
            service.delete_rule(rule, actor="test")
        db.session.commit()
    for name in names:
        handler = make.user(Role.HANDLER, name=f"Handler {name}")
        with app.app_context():
            group = service.save_group(
                actor="test", name=name, member_ids=[handler.id], is_default=name == "Default"
            )
            db.session.commit()
            ids[name] = group.id
    with app.app_context():
        rule = service.create_rule
        rule(actor="test", group_id=ids["Hospital"], unit_id=org.hospital.id)
        rule(actor="test", group_id=ids["Emergency"], unit_id=org.emergency.id)
        rule(actor="test", group_id=ids["Bullying"], incident_type="bullying")
        rule(actor="test", group_id=ids["Whistle"], track=Track.WHISTLEBLOWING)
        rule(
            actor="test",
            group_id=ids["PsychWhistle"],
            track=Track.WHISTLEBLOWING,
            unit_id=org.psychiatry.id,
        )
        db.session.commit()
    return ids, outside


@pytest.mark.parametrize(
    ("unit", "types", "counterpart", "group"),
    [
        ("ward", ["threat"], "patient", "Emergency"),  # deepest unit subtree wins
        ("emergency", ["threat"], "patient", "Emergency"),
        ("psychiatry", ["threat"], "patient", "Hospital"),
        ("ward", ["bullying"], "patient", "Bullying"),  # incident type beats unit
        ("ward", ["bullying"], "colleague", "Whistle"),  # track beats incident type
        ("psychiatry", ["bullying"], "colleague", "PsychWhistle"),  # track, then unit
        ("outside", ["threat"], "patient", "Default"),  # nothing matches
    ],
)
def test_most_specific_rule_routes_the_case(
    app, org, submit, routing, unit, types, counterpart, group
):
    ids, outside = routing
    unit_id = outside.id if unit == "outside" else getattr(org, unit).id
    case = submit(
        org.employee, unit_id=unit_id, incident_types=types, counterpart_category=counterpart
    )
    assert case.group_id == ids[group]
    with app.app_context():  # a change of track routes with route(): the same choice
        report = db.session.get(Report, case.report_id)
        routed = service.route(report, case.track)
        assert routed is not None
        assert routed.id == ids[group]


def test_every_report_opens_exactly_one_case_in_the_right_group(app, org, submit):
    cases = [
        submit(org.employee, unit_id=org.ward.id),
        submit(org.employee, unit_id=org.psychiatry.id, incident_types=["physical_violence"]),
        submit(
            org.employee,
            unit_id=org.ward.id,
            incident_types=["bullying"],
            counterpart_category="colleague",
        ),
        submit(
            None,
            unit_id=org.ward.id,
            incident_types=["sexual_harassment"],
            counterpart_category="leader",
        ),
        submit(org.manager, unit_id=org.ward.id, on_behalf_of_user_id=org.employee.id),
    ]
    assert [c.group_id for c in cases] == [org.hms, org.hms, org.whistle, org.whistle, org.hms]
    with app.app_context():
        per_report = dict(
            db.session.execute(select(Case.report_id, func.count()).group_by(Case.report_id)).all()
        )
        assert per_report == {c.report_id: 1 for c in cases}
        assert db.session.scalar(select(func.count()).select_from(Report)) == len(cases)
        # Opening again (a re-sent signal) returns the same case.
        report = db.session.get(Report, cases[0].report_id)
        assert service.open_case(report, actor="test").id == cases[0].id
        assert all(get_case(c.id).state == CaseState.REPORTED for c in cases)


def _line_manager(make, org):
    boss = make.user(Role.HANDLER, name="Boss", manages=(org.psychiatry,))
    worker = make.user(Role.EMPLOYEE, name="Worker", units=(org.psychiatry,))
    return boss, {"counterpart_user_id": worker.id, "counterpart_category": "colleague"}


EXCLUSIONS = {
    "exposed": (lambda h: {"exposed": [{"user_id": h.id}]}, "involved"),
    "witness": (lambda h: {"witnesses": [{"user_id": h.id}]}, "involved"),
    "counterpart": (lambda h: {"counterpart_user_id": h.id}, "involved"),
    "must_not_handle": (lambda h: {"must_not_handle": [h.id]}, "named_by_reporter"),
}


@pytest.mark.parametrize("named_as", [*EXCLUSIONS, "line_manager", "reporter"])
def test_a_handler_with_a_conflict_of_interest_is_excluded(app, make, org, submit, named_as):
    if named_as == "line_manager":
        handler, fields = _line_manager(make, org)
        reason = "line_manager"
    else:
        handler = org.colleague
        fields = {}
        reason = "involved"
    with app.app_context():
        group = service.get_group(org.hms)
        service.save_group(
            actor="test",
            name="HMS",
            member_ids=[*group.member_ids, handler.id],
            group=group,
            is_default=True,
        )
        db.session.commit()
    if named_as in EXCLUSIONS:
        build, reason = EXCLUSIONS[named_as]
        fields = build(handler)
    reporter = handler if named_as == "reporter" else org.employee
    case = submit(reporter, unit_id=org.ward.id, **fields)
    assert case.group_id == org.hms
    with app.app_context():
        row = get_case(case.id)
        assert (handler.id, reason) in {(e.user_id, e.reason) for e in row.exclusions}
        user = user_obj(handler)
        assert service.access_level(user, row) in {None, "reporter"}
        assert not service.can_access(user, row) or named_as == "reporter"
        assert case.id not in [i.case.id for i in service.queue_for(user).items]
        assert handler.id not in [u.id for u in service.eligible_handlers(row)]
        # The colleague in the group without a conflict still has it.
        assert service.access_level(user_obj(org.handler), row) == AccessLevel.HANDLER
        logged = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "case.exclude", AuditEntry.object_id == str(case.id)
            )
        ).all()
        assert any(e.detail_dict() == {"user_id": handler.id, "reason": reason} for e in logged)


def test_named_counterpart_who_is_a_handler_never_sees_the_case(app, org, submit, api):
    case = submit(
        org.employee,
        unit_id=org.ward.id,
        incident_types=["bullying"],
        counterpart_category="patient",
        counterpart_user_id=org.colleague.id,
    )
    assert case.group_id == org.hms
    counterpart = api(org.colleague)
    assert case.id not in [
        c["id"] for c in counterpart.get("/api/v1/cases?state=all").get_json()["cases"]
    ]
    base = f"/api/v1/cases/{case.id}"
    assert counterpart.get(base).status_code == 404
    assert counterpart.get(base + "/messages").status_code == 404
    assert counterpart.post(base + "/messages", {"body": "hello"}).status_code == 404
    assert (
        counterpart.post(base + "/transitions", {"to": CaseState.ACKNOWLEDGED}).status_code == 404
    )
    assert (
        counterpart.post(base + "/assignment", {"handler_id": org.colleague.id}).status_code == 404
    )
    # An unknown case answers the same.
    assert counterpart.get("/api/v1/cases/999999").get_json() == counterpart.get(base).get_json()
    with app.app_context():
        denied = db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "case.access_denied", AuditEntry.object_id == str(case.id)
            )
        ).all()
        assert len(denied) == 6  # every refused call above, the repeated GET too
        assert {e.actor for e in denied} == {f"user:{org.colleague.id}"}
        # Nor can anyone make them responsible for a task on it.
        handler = user_obj(org.handler)
        row = get_case(case.id)
        with pytest.raises(service.CaseError):
            service.add_task(
                row, actor=handler, template="leader_contact", responsible_user_id=org.colleague.id
            )
        with pytest.raises(service.CaseError):
            service.assign(row, user_obj(org.colleague), "try", actor=handler)


def test_exclusion_emptying_the_group_sends_the_case_to_the_fallback_group(app, org, submit, api):
    with app.app_context():
        group = service.get_group(org.hms)
        service.save_group(
            actor="test", name="HMS", member_ids=[org.handler.id], group=group, is_default=True
        )
        db.session.commit()
    case = submit(org.employee, unit_id=org.ward.id, counterpart_user_id=org.handler.id)
    assert case.group_id == org.fallback
    admin = api(org.admin)
    warnings = admin.get("/api/v1/admin/routing-warnings").get_json()
    assert {"case_id": case.id, "warning": "fallback", "group_id": org.fallback} == {
        k: v for k, v in warnings[0].items() if k != "opened_at"
    }
    # The warning carries no content, and the admin still sees no case.
    assert admin.get(f"/api/v1/cases/{case.id}").status_code == 403
    with app.app_context():
        row = get_case(case.id)
        assert service.access_level(user_obj(org.fallback_handler), row) == AccessLevel.HANDLER
        assert service.access_level(user_obj(org.handler), row) is None


def test_no_eligible_handler_anywhere_is_flagged(app, org, submit):
    with app.app_context():
        fallback = service.get_group(org.fallback)
        service.save_group(
            actor="test", name="Reserve", member_ids=[], group=fallback, is_fallback=True
        )
        hms = service.get_group(org.hms)
        service.save_group(
            actor="test", name="HMS", member_ids=[org.handler.id], group=hms, is_default=True
        )
        db.session.commit()
    case = submit(org.employee, unit_id=org.ward.id, must_not_handle=[org.handler.id])
    with app.app_context():
        row = get_case(case.id)
        assert row.routing_warning == "no_handler"
        assert service.eligible_handlers(row) == []


def test_no_rule_and_no_default_group_is_flagged(app, org, submit):
    with app.app_context():
        for group in service.handler_groups():
            service.save_group(
                actor="test",
                name=group.name,
                member_ids=group.member_ids,
                group=group,
                is_fallback=group.is_fallback,
            )
        db.session.commit()
    case = submit(org.employee, unit_id=org.ward.id)
    assert case.group_id == org.fallback
    with app.app_context():
        assert get_case(case.id).routing_warning == "no_group"


def test_a_handler_added_to_the_group_later_is_excluded_from_cases_naming_them(
    app, make, org, submit
):
    newcomer = make.user(Role.HANDLER, name="New Handler")
    case = submit(org.employee, unit_id=org.ward.id, witnesses=[{"user_id": newcomer.id}])
    with app.app_context():
        row = get_case(case.id)
        # Stored at opening because the newcomer already holds the handler role.
        assert (newcomer.id, "involved") in {(e.user_id, e.reason) for e in row.exclusions}
        # As if the role had been given only after the report came in:
        db.session.execute(
            CaseExclusion.__table__.delete().where(CaseExclusion.user_id == newcomer.id)
        )
        db.session.commit()
    with app.app_context():
        group = service.get_group(org.hms)
        service.save_group(
            actor="test",
            name="HMS",
            member_ids=[*group.member_ids, newcomer.id],
            group=group,
            is_default=True,
        )
        db.session.commit()
        row = get_case(case.id)
        db.session.refresh(row)
        assert service.access_level(user_obj(newcomer), row) is None


def _join_hms(app, org, *user_ids):
    with app.app_context():
        group = service.get_group(org.hms)
        service.save_group(
            actor="test",
            name="HMS",
            member_ids=[*group.member_ids, *user_ids],
            group=group,
            is_default=True,
        )
        db.session.commit()


def _join_later(app, org, user_id: int, *, indexed: bool) -> set[tuple[int, str]]:
    """The user joins HMS as if given the handler role only after the reports came in
    (their exclusions recorded at opening removed; with `indexed` False, as if every
    report were from before the people index): their exclusions, (case, reason)."""
    with app.app_context():
        db.session.execute(CaseExclusion.__table__.delete().where(CaseExclusion.user_id == user_id))
        if not indexed:
            db.session.execute(Report.__table__.update().values(people_index=None))
        db.session.commit()
    _join_hms(app, org, user_id)
    with app.app_context():
        rows = db.session.scalars(select(CaseExclusion).where(CaseExclusion.user_id == user_id))
        return {(e.case_id, e.reason) for e in rows}


@pytest.mark.parametrize("indexed", [True, False], ids=["by the index", "reports opened"])
def test_a_handler_joining_a_group_is_excluded_for_every_reason_however_found(
    app, make, org, submit, indexed
):
    """Named as a witness, as someone who must not handle it, as the reporter, or line
    manager of the counterpart: excluded with that reason. The people index decides for
    reports stored since migration 0026; older ones (people_index NULL) are opened."""
    newcomer = make.user(
        Role.HANDLER,
        Role.EMPLOYEE,
        name="New Handler",
        units=(org.ward,),
        manages=(org.psychiatry,),
    )
    led = make.user(Role.EMPLOYEE, name="Lars Ledet", units=(org.psychiatry,))
    ward = org.ward.id
    expected = {
        submit(org.employee, unit_id=ward, witnesses=[{"user_id": newcomer.id}]).id: "involved",
        submit(org.employee, unit_id=ward, must_not_handle=[newcomer.id]).id: "named_by_reporter",
        submit(newcomer, unit_id=ward).id: "involved",
        submit(org.employee, unit_id=ward, counterpart_user_id=led.id).id: "line_manager",
        # The counterpart, who leads a unit they are in, is not their own line manager.
        submit(org.employee, unit_id=ward, counterpart_user_id=newcomer.id).id: "involved",
    }
    free = submit(org.employee, unit_id=ward)
    found = _join_later(app, org, newcomer.id, indexed=indexed)
    with app.app_context():
        assert found == set(expected.items())
        assert service.access_level(user_obj(newcomer), get_case(free.id)) is None  # joined later
        for case_id in expected:
            audited = db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "case.exclude", AuditEntry.object_id == str(case_id))
            )
            assert audited, case_id


def test_joining_a_group_opens_no_report_and_runs_as_many_statements_for_12_cases_as_for_2(
    app, make, org, submit, monkeypatch
):
    """The conflicts of a new member are found by the people index, not by opening each
    of the group's reports: none is opened (a spy counts the openings and lets them
    through), and the statements do not grow with the group's cases."""
    from sqlalchemy import event

    opened = reports_opened(monkeypatch, "involved_user_ids")

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_c, _cur, statement, *_a) -> None:
        seen.append(statement)

    def join_counted() -> int:
        newcomer = make.user(Role.HANDLER, name=f"Newcomer {len(seen)}")
        with app.app_context():  # the group as it was: the same members told of the join
            group = service.get_group(org.hms)
            kept = [m for m in group.member_ids if m in members]
            service.save_group(
                actor="test", name="HMS", member_ids=kept, group=group, is_default=True
            )
            db.session.commit()
        seen.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            _join_hms(app, org, newcomer.id)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len([s for s in seen if "SAVEPOINT" not in s])

    with app.app_context():
        members = set(service.get_group(org.hms).member_ids)
    for _ in range(2):
        submit(org.employee, unit_id=org.ward.id)
    small = join_counted()
    for _ in range(10):
        submit(org.employee, unit_id=org.ward.id)
    large = join_counted()
    assert large == small, (small, large)
    assert opened == []


def test_an_assignment_sent_unchanged_is_refused_on_the_api_too(app, org, submit, api):
    # The page refused it; the API recorded an "assigned" event each time, to no one new.
    case = submit(org.employee, unit_id=org.ward.id)
    handler = api(org.handler)
    base = f"/api/v1/cases/{case.id}"
    assert handler.post(base + "/assignment", {"handler_id": org.handler.id}).status_code == 200

    def events() -> int:
        return len(handler.get(base).get_json()["events"])

    before = events()
    for same in (
        {"handler_id": org.handler.id},
        {"handler_id": org.handler.id, "group_id": org.hms},
    ):
        r = handler.post(base + "/assignment", same)
        assert r.status_code == 400, r.get_json()
        assert "Ingenting å lagre" in r.get_json()["errors"]["handler_id"][0]
    assert events() == before
    # With a reason it is a note on the assignment, and kept.
    r = handler.post(base + "/assignment", {"handler_id": org.handler.id, "reason": "Still mine"})
    assert r.status_code == 200
    assert events() > before


def test_recusal_excludes_the_handler_and_reassigns_the_case(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id)
    handler = api(org.handler)
    base = f"/api/v1/cases/{case.id}"
    r = handler.post(base + "/assignment", {"handler_id": org.handler.id, "reason": "Mine"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["assigned_user_id"] == org.handler.id
    assert handler.post(base + "/assignment", {"recuse": True}).status_code == 400
    r = handler.post(base + "/assignment", {"recuse": True, "reason": "I know the patient"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {
        "case_id": case.id,
        "group_id": org.hms,
        "assigned_user_id": org.colleague.id,
        "recused": True,
    }
    assert handler.get(base).status_code == 404
    colleague = api(org.colleague)
    detail = colleague.get(base).get_json()
    notes = [m for m in detail["messages"] if m["internal"]]
    assert [n["body"] for n in notes] == ["Mine", "I know the patient"]
    assert "recused" in [e["kind"] for e in detail["events"]]


def test_recusal_of_the_last_handler_moves_the_case_to_the_fallback_group(app, org, submit):
    with app.app_context():
        group = service.get_group(org.hms)
        service.save_group(
            actor="test", name="HMS", member_ids=[org.handler.id], group=group, is_default=True
        )
        db.session.commit()
    case = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        row = get_case(case.id)
        handler = user_obj(org.handler)
        service.assign(row, handler, None, actor=handler)
        service.recuse(row, handler, "Conflict")
        db.session.commit()
        assert row.group_id == org.fallback
        assert row.routing_warning == "fallback"
        assert row.assigned_user_id == org.fallback_handler.id


def test_reassignment_to_another_group_and_refusals(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id)
    handler = api(org.handler)
    base = f"/api/v1/cases/{case.id}"
    r = handler.post(base + "/assignment", {"handler_id": org.fallback_handler.id})
    assert r.status_code == 400
    assert "handler_id" in r.get_json()["errors"]
    r = handler.post(base + "/assignment", {"handler_id": 999999})
    assert r.status_code == 400
    r = handler.post(
        base + "/assignment",
        {
            "group_id": org.whistle,
            "handler_id": org.whistle_handler.id,
            "reason": "Belongs to whistleblowing",
        },
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["group_id"] == org.whistle
    assert handler.get(base).status_code == 404


@pytest.mark.parametrize("indexed", [True, False], ids=["by the index", "reports opened"])
def test_a_handler_joining_a_group_is_excluded_from_a_report_they_filed_about_someone_else(
    app, make, org, submit, indexed
):
    """The reporter role alone (the reporter is not the exposed employee) is a conflict."""
    newcomer = make.user(Role.HANDLER, Role.EMPLOYEE, name="New Handler", units=(org.ward,))
    filed = submit(newcomer, unit_id=org.ward.id, exposed=[{"user_id": org.employee.id}])
    assert _join_later(app, org, newcomer.id, indexed=indexed) == {(filed.id, "involved")}
