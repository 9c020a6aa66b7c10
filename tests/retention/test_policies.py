"""Retention policies: rows with the documented defaults, changed by admins only."""

from __future__ import annotations

import pytest

from retention import service
from tests.handling.conftest import Api
from tests.retention.support import build_world
from trygg.extensions import db


@pytest.fixture
def world(app):
    return build_world(app)


def test_the_migration_seeds_the_documented_defaults(app):
    with app.app_context():
        stored = {(p.scope, p.track, p.outcome): p.months for p in service.policies()}
    assert stored == service.DEFAULTS


def test_the_readme_documents_every_default(app):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Retention", 1)[1].split("\n## ", 1)[0]
    for (scope, track, outcome), months in service.DEFAULTS.items():
        rule = ":".join(p for p in (scope, track, outcome) if p)
        assert f"`{rule}` | {months}" in section, rule


def test_an_admin_changes_a_policy_and_it_is_audited(app, world):
    admin = Api(app, world.admin)
    rows = admin.get("/api/v1/retention/policies").get_json()
    target = next(p for p in rows if p["rule"] == "case:whistleblowing:dropped")
    r = admin.put(f"/api/v1/retention/policies/{target['id']}", {"months": 6})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["months"] == 6
    with app.app_context():
        from sqlalchemy import select

        from trygg.audit import AuditEntry

        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "retention.policy")
        ).one()
        assert entry.detail_dict() == {"rule": "case:whistleblowing:dropped", "from": 12, "to": 6}


@pytest.mark.parametrize("months", [0, 601, "12", None, 1.5])
def test_months_out_of_range_are_refused_with_a_message(app, world, months):
    admin = Api(app, world.admin)
    target = admin.get("/api/v1/retention/policies").get_json()[0]
    r = admin.put(f"/api/v1/retention/policies/{target['id']}", {"months": months})
    assert r.status_code == 400
    assert r.get_json()["errors"]["months"]
    assert admin.get("/api/v1/retention/policies").get_json()[0]["months"] == target["months"]


def test_only_admins_see_or_change_policies(app, world):
    handler = Api(app, world.handler)
    assert handler.get("/api/v1/retention/policies").status_code == 403
    assert handler.put("/api/v1/retention/policies/1", {"months": 1}).status_code == 403
    assert (
        Api(app, world.admin).put("/api/v1/retention/policies/999", {"months": 1}).status_code
        == 404
    )
