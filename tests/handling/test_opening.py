"""Opening a case: everything written when a report arrives, compared in full.

Each scenario sets up routing, conflicts of interest or an unusual group, submits one
report and records all that the opening wrote (the case's columns, exclusions, events,
deadlines, § 5-2 row and audit entries, in order), named rather than numbered, and
compares it with test_opening.json. Rerun with TRYGG_WRITE_GOLDEN=1 to rewrite that
file after a deliberate change, and review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from handling import service
from handling.models import (
    Case,
    CaseEvent,
    CaseExclusion,
    Deadline,
    DeadlinePolicy,
    HandlerGroup,
    RoutingRule,
    Section52Check,
)
from tests.handling.conftest import Org
from trygg.accounts import service as accounts
from trygg.accounts.models import User, UserRole
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.privacy import RANDOM_ID_MIN
from trygg.roles import Role

GOLDEN = Path(__file__).with_suffix(".json")


def _snapshot(case_id: int) -> dict[str, Any]:
    case = db.session.get(Case, case_id)
    assert case is not None
    report = case.report
    users = {u.id: u.name for u in db.session.scalars(select(User))}
    groups = {g.id: g.name for g in db.session.scalars(select(HandlerGroup))}
    anonymous = report.anonymous

    def ordered(rows: list[Any]) -> list[Any]:
        # Random ids (anonymous) carry no order; sequential ones are the insertion order.
        if anonymous:
            assert all(r.id >= RANDOM_ID_MIN for r in rows)
            return rows
        assert all(r.id < RANDOM_ID_MIN for r in rows)
        return sorted(rows, key=lambda r: r.id)

    def codes(values: dict[str, Any]) -> dict[str, Any]:
        out = dict(values)
        if "group" in out:
            out["group"] = groups.get(out["group"])
        if "user_id" in out:
            out["user_id"] = users.get(out["user_id"])
        return out

    def actor(label: str) -> str:
        kind, _, number = label.partition(":")
        return f"user:{users[int(number)]}" if kind == "user" else label

    exclusions = ordered(
        list(db.session.scalars(select(CaseExclusion).where(CaseExclusion.case_id == case.id)))
    )
    events = ordered(
        list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)))
    )
    deadlines = ordered(
        list(db.session.scalars(select(Deadline).where(Deadline.case_id == case.id)))
    )
    section52 = db.session.get(Section52Check, case.id)
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "case", AuditEntry.object_id == str(case.id))
        .order_by(AuditEntry.seq)
    ).all()
    opened = report.created_at if anonymous else events[0].at
    if anonymous:
        assert case.id >= RANDOM_ID_MIN
        assert all(e.at == report.created_at for e in events)
        assert all(d.created_at == report.created_at for d in deadlines)
        assert all(e.at == report.created_at.replace(microsecond=0) for e in entries)
    return {
        "track": case.track,
        "state": case.state,
        "group": groups.get(case.group_id) if case.group_id else None,
        "routing_warning": case.routing_warning,
        "assigned": case.assigned_user_id,  # vocabulary: fact name
        "section_5_2": case.section_5_2,
        "follow_up_duty": case.follow_up_duty,
        "opened_at_is_report_time": case.opened_at == report.created_at,
        "updated_at_is_open_time": case.updated_at == opened,
        "exclusions": [
            [users[e.user_id], e.reason, e.created_at == opened]
            for e in (
                sorted(exclusions, key=lambda e: (e.user_id, e.reason)) if anonymous else exclusions
            )
        ],
        "events": [
            [e.kind, codes(e.codes), actor(e.actor), e.at == opened]
            for e in (sorted(events, key=lambda e: e.kind != "opened") if anonymous else events)
        ],
        "deadlines": sorted(
            [d.kind, (d.due_at - report.created_at).total_seconds() > 0, d.created_at == opened]
            for d in deadlines
        ),
        "section52": None
        if section52 is None
        else [section52.required, section52.updated_at == opened],
        "audit": [[e.action, actor(e.actor), codes(e.detail_dict())] for e in entries],
        "eligible": [users[u.id] for u in service.eligible_handlers(case)],
    }


def _drop_role(user_id: int) -> None:
    db.session.execute(
        delete(UserRole).where(UserRole.user_id == user_id, UserRole.role == Role.HANDLER)
    )


def _set_flags(group_id: int, **flags: bool) -> None:
    group = db.session.get(HandlerGroup, group_id)
    assert group is not None
    for name, value in flags.items():
        setattr(group, name, value)


Scenario = Callable[[Any, Any, Org], tuple[Any, dict[str, Any]]]


def plain(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    return org.employee, {}


def colleague_named_twice(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    return org.employee, {
        "witnesses": [{"user_id": org.colleague.id}],
        "must_not_handle": [org.colleague.id, org.whistle_handler.id],
    }


def whole_group_excluded(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    return org.employee, {
        "exposed": [{"user_id": org.handler.id}],
        "witnesses": [{"user_id": org.colleague.id}, {"name": "Someone outside"}],
    }


def everyone_excluded(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    return org.employee, {
        "exposed": [{"user_id": org.handler.id}],
        "witnesses": [{"user_id": org.colleague.id}],
        "must_not_handle": [org.fallback_handler.id],
    }


def no_default_group(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    with app.app_context():
        _set_flags(org.hms, is_default=False)
        db.session.commit()
    return org.employee, {}


def no_group_at_all(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    with app.app_context():
        _set_flags(org.hms, is_default=False)
        _set_flags(org.fallback, is_fallback=False)
        db.session.commit()
    return org.employee, {}


def members_who_may_not_handle(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    gone = make.user(Role.HANDLER, name="Gone Handler", active=False)
    with app.app_context():
        group = service.get_group(org.hms)
        service.save_group(
            actor="test",
            name="HMS",
            member_ids=[*group.member_ids, gone.id],
            group=group,
            is_default=True,
        )
        _drop_role(org.handler.id)
        db.session.commit()
    # The remaining handler is excluded: nobody eligible is left in the group. The member
    # who lost the handler role is named too: as a member, the exclusion is still kept.
    return org.employee, {"must_not_handle": [org.colleague.id, org.handler.id]}


def line_manager(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    make.user(Role.HANDLER, name="Boss", manages=(org.psychiatry,))
    worker = make.user(Role.EMPLOYEE, name="Worker", units=(org.psychiatry,))
    return org.employee, {
        "counterpart_user_id": worker.id,
        "counterpart_category": "colleague",
        "incident_types": ["bullying"],
    }


def reporter_is_a_handler(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    return org.handler, {"severity": 3, "incident_types": ["physical_violence", "threat"]}


def anonymous_serious(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    return None, {
        "severity": 4,
        "incident_types": ["physical_violence"],
        "witnesses": [{"user_id": org.handler.id}],
        "counterpart_category": "colleague",
    }


def anonymous_whistle(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    return None, {"incident_types": ["sexual_harassment"], "counterpart_category": "leader"}


def unit_rules(app: Any, make: Any, org: Org) -> tuple[Any, dict[str, Any]]:
    with app.app_context():
        ward_group = service.save_group(
            actor="test", name="Ward", member_ids=[org.fallback_handler.id]
        )
        service.create_rule(actor="test", group_id=ward_group.id, unit_id=org.emergency.id)
        service.create_rule(actor="test", group_id=org.whistle, unit_id=org.hospital.id)
        db.session.commit()
    return org.employee, {}


SCENARIOS: list[Scenario] = [
    plain,
    colleague_named_twice,
    whole_group_excluded,
    everyone_excluded,
    no_default_group,
    no_group_at_all,
    members_who_may_not_handle,
    line_manager,
    reporter_is_a_handler,
    anonymous_serious,
    anonymous_whistle,
    unit_rules,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_opening_writes_what_it_always_wrote(app, make, org, submit, scenario):
    reporter, fields = scenario(app, make, org)
    case = submit(reporter, unit_id=org.ward.id, **fields)
    with app.app_context():
        got = _snapshot(case.id)
    name = scenario.__name__
    if os.environ.get("TRYGG_WRITE_GOLDEN"):
        golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
        golden[name] = got
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        return
    assert got == json.loads(GOLDEN.read_text())[name]


def test_each_opening_reads_the_configuration_as_it_is_now(app, make, org, submit):
    """Rules, groups, handlers and policies changed between two reports apply at once."""

    def opened() -> tuple[int | None, str | None, set[str]]:
        case = submit(org.employee, unit_id=org.ward.id)
        with app.app_context():
            row = db.session.get(Case, case.id)
            assert row is not None
            return row.group_id, row.routing_warning, {d.kind for d in row.deadlines}

    group_id, warning, kinds = opened()
    assert (group_id, warning) == (org.hms, None)
    assert "acknowledge" in kinds
    with app.app_context():
        rule = service.create_rule(actor="test", group_id=org.whistle, unit_id=org.emergency.id)
        for policy in db.session.scalars(
            select(DeadlinePolicy).where(DeadlinePolicy.kind == "acknowledge")
        ):
            policy.active = False
        db.session.commit()
        rule_id = rule.id
    group_id, warning, kinds = opened()
    assert (group_id, warning) == (org.whistle, None)
    assert "acknowledge" not in kinds
    with app.app_context():
        handler = db.session.get(User, org.whistle_handler.id)
        assert handler is not None
        accounts.deactivate_user(handler, actor="test")
        db.session.commit()
    assert opened()[:2] == (org.fallback, "fallback")
    with app.app_context():
        rule = db.session.get(RoutingRule, rule_id)
        assert rule is not None
        service.delete_rule(rule, actor="test")
        db.session.commit()
    assert opened()[:2] == (org.hms, None)
