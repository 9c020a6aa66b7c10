"""The admin's routing rules, handler groups and deadline policies."""

from __future__ import annotations

from sqlalchemy import select

from handling import service
from handling.states import Track
from trygg.audit import AuditEntry
from trygg.extensions import db


def test_admin_manages_groups_rules_and_policies(app, org, submit, api):
    admin = api(org.admin)
    groups = admin.get("/api/v1/admin/handler-groups").get_json()
    assert {g["name"] for g in groups} == {"HMS", "Varsling", "Reserve"}

    created = admin.post(
        "/api/v1/admin/handler-groups",
        {
            "name": "Psykiatri",
            "member_ids": [org.colleague.id],
            "is_default": True,
            "escalation_ids": [org.admin.id],
        },
    )
    assert created.status_code == 201, created.get_json()
    group = created.get_json()
    assert group["is_default"] is True
    # The answer carries what the schema documents, escalation contacts included.
    assert group["member_ids"] == [org.colleague.id]
    assert group["escalation_ids"] == [org.admin.id]
    listed = admin.get("/api/v1/admin/handler-groups").get_json()
    assert next(g for g in listed if g["id"] == group["id"])["escalation_ids"] == [org.admin.id]
    groups = admin.get("/api/v1/admin/handler-groups").get_json()
    assert [g["name"] for g in groups if g["is_default"]] == ["Psykiatri"]  # only one default

    refused = admin.post(
        "/api/v1/admin/handler-groups", {"name": "Bad", "member_ids": [org.employee.id]}
    )
    assert refused.status_code == 400
    assert "member_ids" in refused.get_json()["errors"]
    assert admin.post("/api/v1/admin/handler-groups", {"name": "HMS"}).status_code == 400
    assert admin.post("/api/v1/admin/handler-groups", {"name": "X", "extra": 1}).status_code == 400

    rule = admin.post(
        "/api/v1/admin/routing-rules", {"group_id": group["id"], "unit_id": org.psychiatry.id}
    )
    assert rule.status_code == 201, rule.get_json()
    assert (
        admin.post(
            "/api/v1/admin/routing-rules", {"group_id": group["id"], "incident_type": "weather"}
        ).status_code
        == 400
    )
    assert admin.post("/api/v1/admin/routing-rules", {"group_id": 999999}).status_code == 400
    case = submit(org.employee, unit_id=org.psychiatry.id)
    assert case.group_id == group["id"]
    assert admin.delete(f"/api/v1/admin/routing-rules/{rule.get_json()['id']}").status_code == 200
    assert admin.delete("/api/v1/admin/routing-rules/999999").status_code == 404

    updated = admin.put(
        f"/api/v1/admin/handler-groups/{group['id']}",
        {"name": "Psykiatri", "member_ids": [org.colleague.id, org.handler.id]},
    )
    assert updated.status_code == 200
    assert updated.get_json()["member_ids"] == sorted([org.colleague.id, org.handler.id])
    assert admin.put("/api/v1/admin/handler-groups/999999", {"name": "Z"}).status_code == 404

    policies = admin.get("/api/v1/admin/deadline-policies").get_json()["policies"]
    assert len(policies) == len(service.DEFAULT_POLICIES)
    new = [
        {"kind": "acknowledge", "amount": 2, "unit": "days"},
        {"kind": "leader_contact", "unit": "same_day", "track": Track.HMS_DEVIATION},
    ]
    r = admin.put("/api/v1/admin/deadline-policies", {"policies": new})
    assert r.status_code == 200, r.get_json()
    assert [p["kind"] for p in r.get_json()["policies"]] == ["acknowledge", "leader_contact"]
    bad = admin.put(
        "/api/v1/admin/deadline-policies",
        {"policies": [{"kind": "acknowledge", "amount": 0, "unit": "days"}]},
    )
    assert bad.status_code == 400
    bad = admin.put(
        "/api/v1/admin/deadline-policies",
        {"policies": [{"kind": "coffee", "amount": 1, "unit": "days"}]},
    )
    assert bad.status_code == 400
    # Two switched-on rows for the same step and cases: the later would never apply.
    twice = admin.put(
        "/api/v1/admin/deadline-policies",
        {
            "policies": [
                {"kind": "acknowledge", "amount": 2, "unit": "days"},
                {"kind": "acknowledge", "amount": 5, "unit": "days", "active": False},
                {"kind": "acknowledge", "amount": 7, "unit": "days"},
            ]
        },
    )
    assert twice.status_code == 400
    assert "Another switched-on row" not in str(twice.get_json())  # nb by default
    assert "samme steget for de samme sakene" in str(twice.get_json()["errors"]["policies.2.kind"])
    empty = admin.put("/api/v1/admin/deadline-policies", {"policies": []})
    assert empty.status_code == 400
    assert "Behold minst én fristregel slått på" in str(empty.get_json()["errors"])
    later = submit(org.employee, unit_id=org.ward.id)
    with app.app_context():
        kinds = {d.kind for d in service.get_case(later.id).deadlines}
        assert kinds == {"acknowledge", "leader_contact"}
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {
            "handler_group.create",
            "handler_group.update",
            "routing_rule.create",
            "routing_rule.delete",
            "deadline_policy.replace",
        } <= actions


def test_admin_endpoints_are_for_admins_only(org, api):
    handler = api(org.handler)
    for path in (
        "/api/v1/admin/handler-groups",
        "/api/v1/admin/routing-rules",
        "/api/v1/admin/deadline-policies",
        "/api/v1/admin/routing-warnings",
    ):
        assert handler.get(path).status_code == 403
    assert handler.post("/api/v1/admin/handler-groups", {"name": "Mine"}).status_code == 403


def test_a_group_refuses_members_and_contacts_without_the_role_in_one_lookup(app, org, make, api):
    """Members must be case handlers, escalation contacts handlers or admins, and an id
    that is no account is refused alike; the check is one statement however many people
    the group has (it was three per person)."""
    from sqlalchemy import event

    from trygg.roles import Role

    admin = api(org.admin)
    for body, field in (
        ({"member_ids": [org.colleague.id, org.employee.id]}, "member_ids"),
        ({"member_ids": [org.colleague.id, 999999]}, "member_ids"),
        ({"escalation_ids": [org.employee.id]}, "escalation_ids"),
        ({"escalation_ids": [org.manager.id, org.admin.id]}, "escalation_ids"),
    ):
        refused = admin.post("/api/v1/admin/handler-groups", {"name": "Ny", **body})
        assert refused.status_code == 400, body
        assert field in refused.get_json()["errors"], body
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_c, _cur, statement, *_a) -> None:
        if "user_role" in statement:
            seen.append(statement)

    def saved(member_ids: list[int]) -> int:
        seen.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            with app.app_context():
                group = service.get_group(org.hms)
                service.save_group(
                    actor="test",
                    name="HMS",
                    member_ids=member_ids,
                    group=group,
                    is_default=True,
                    escalation_ids=member_ids,
                )
                db.session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(seen)

    with app.app_context():
        members = list(service.get_group(org.hms).member_ids)
    saved(members)  # the members become leads (told), then the same group saved again:
    few = saved(members)
    many = members + [make.user(Role.HANDLER, name=f"Handler {n}").id for n in range(10)]
    saved(many)  # the new members join (their access changes are told)
    assert saved(many) == few
