"""A case handler links a case to a risk item in the learning review; the item shows the
links only as a count, and small counts are hidden."""

from __future__ import annotations

from flask import Flask

from handling import service as handling
from tests.factories import case_of
from tests.handling.conftest import Api
from tests.risk.assessment.conftest import report
from trygg.extensions import db
from trygg.roles import Role


def _group(app: Flask, *handlers) -> None:
    with app.app_context():
        group = handling.save_group(
            actor="test",
            name="HMS",
            member_ids=[h.id for h in handlers],
            is_default=True,
            is_fallback=True,
        )
        handling.create_rule(actor="test", group_id=group.id)
        db.session.commit()


def test_a_handler_links_a_case_and_the_item_shows_only_a_count(app, ra, make, approved):
    _group(app, ra.handler)
    aid = approved()["id"]
    case_id = case_of(app, report(app, ra.employee, ra.ward, place_type="front_desk"))
    handler = Api(app, ra.handler)
    choices = handler.get(f"/api/v1/risk/cases/{case_id}/items").get_json()["items"]
    assert [(c["assessment_id"], c["ref"], c["linked"]) for c in choices] == [(aid, 1, False)]
    linked = handler.post(
        f"/api/v1/risk/cases/{case_id}/links", {"assessment_id": aid, "item_ref": 1}
    )
    assert linked.status_code == 201
    assert linked.get_json()["items"][0]["linked"] is True
    again = handler.post(
        f"/api/v1/risk/cases/{case_id}/links", {"assessment_id": aid, "item_ref": 1}
    )
    assert again.status_code == 409
    wrong = handler.post(
        f"/api/v1/risk/cases/{case_id}/links", {"assessment_id": aid, "item_ref": 7}
    )
    assert wrong.status_code == 400
    item = Api(app, ra.manager).get(f"/api/v1/risk/assessments/{aid}").get_json()["items"][0]
    assert item["linked_cases"] == {"count": None, "mark": "primary"}


def test_a_handler_outside_the_case_cannot_list_or_link(app, ra, make, approved):
    _group(app, ra.handler)
    outsider = make.user(Role.HANDLER, name="Utenfor")
    aid = approved()["id"]
    case_id = case_of(app, report(app, ra.employee, ra.ward))
    client = Api(app, outsider)
    assert client.get(f"/api/v1/risk/cases/{case_id}/items").status_code == 404
    refused = client.post(
        f"/api/v1/risk/cases/{case_id}/links", {"assessment_id": aid, "item_ref": 1}
    )
    assert refused.status_code == 404
    assert Api(app, ra.manager).get(f"/api/v1/risk/cases/{case_id}/items").status_code == 403
