"""Who sees statistics for which unit, on the page and in the API; refusals explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from handling import service as handling
from handling.models import Deadline
from reporting.service import start_of_day_utc
from tests.factories import Factory, choose_language, form_login, form_token
from tests.handling.conftest import Api
from trygg.extensions import db
from trygg.roles import Role


def _token(client):
    return form_token(client, "/")


def _units(client: Api) -> set[int]:
    body = client.get("/api/v1/trends/dimensions").get_json()
    return {u["id"] for u in body["units"]}


def test_scopes_by_role(app, trends_org):
    o = trends_org
    assert _units(Api(app, o.amu)) == {0, o.root.id, o.big.id, o.outside.id}
    assert _units(Api(app, o.admin)) == {0, o.root.id, o.big.id, o.outside.id}
    assert _units(Api(app, o.manager)) == {o.root.id, o.big.id}
    assert _units(Api(app, o.safety_rep)) == {o.big.id}


# role → units it may ask for (others in the list answer 404; small ones 400)
MATRIX = {
    Role.AMU: {"org", "root", "big", "outside"},
    Role.ADMIN: {"org", "root", "big", "outside"},
    Role.MANAGER: {"root", "big"},
    Role.SAFETY_REP: {"big"},
}


@pytest.mark.parametrize(
    "role", [Role.AMU, Role.ADMIN, Role.MANAGER, Role.SAFETY_REP, Role.HANDLER, Role.EMPLOYEE]
)
def test_api_answers_only_inside_the_scope(app, trends_org, role):
    o = trends_org
    client = Api(app, getattr(o, role))
    ids = {"org": 0, "root": o.root.id, "big": o.big.id, "outside": o.outside.id}
    for name, unit_id in ids.items():
        response = client.get("/api/v1/trends", query_string={"unit": unit_id})
        if role not in MATRIX:
            assert response.status_code == 403, (role, name)
        elif name in MATRIX[role]:
            assert response.status_code == 200, (role, name, response.get_json())
        else:
            assert response.status_code == 404, (role, name)


@pytest.mark.parametrize("role", [Role.HANDLER, Role.EMPLOYEE])
def test_the_page_is_forbidden_to_roles_without_statistics(app, trends_org, role):
    client = app.test_client()
    form_login(client, getattr(trends_org, role))
    assert client.get("/trends").status_code == 403
    assert client.get("/trends/export.csv").status_code == 403


def test_a_manager_cannot_open_another_unit_on_the_page(app, trends_org):
    client = app.test_client()
    form_login(client, trends_org.manager)
    page = client.get(f"/trends?unit={trends_org.outside.id}")
    assert page.status_code == 404
    assert "Andre" not in page.get_data(as_text=True)
    assert client.get(f"/trends/export.csv?unit={trends_org.outside.id}").status_code == 404


def test_a_small_unit_is_refused_with_the_reason(app, trends_org):
    client = Api(app, trends_org.manager)
    # Seks (6 people) is in the manager's subtree but merged: the rest of Tjenesten
    # would be Fire's 4 people.
    response = client.get(
        "/api/v1/trends",
        query_string={"unit": trends_org.six.id},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    message = response.get_json()["errors"]["unit"][0]
    assert "shown only as part of the unit above it" in message
    assert "Tjenesten" in message
    small = Api(app, trends_org.small_manager)
    refused = small.get(
        "/api/v1/trends",
        query_string={"unit": trends_org.four.id},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 400
    assert "too few people" in refused.get_json()["errors"]["unit"][0]
    assert small.get("/api/v1/trends/dimensions").get_json()["units"] == []
    # A unit outside the scope is not found, small or not.
    assert client.get("/api/v1/trends", query_string={"unit": 999999}).status_code == 404


def test_the_small_units_manager_is_told_why_on_the_page(app, trends_org):
    client = app.test_client()
    form_login(client, trends_org.small_manager)
    client.post("/language", data={"lang": "en", "csrf_token": _token(client)})
    page = client.get("/").get_data(as_text=True)
    assert "Fire" in page
    assert "too few people for its own statistics" in page


def test_bad_parameters_are_400_with_a_message_per_field(app, trends_org):
    client = Api(app, trends_org.amu)
    cases = {
        "period": {"period": "week"},
        "from": {"from": "2020-13"},
        "by": {"by": "narrative"},
        "unit": {"unit": "x"},
        "surprise": {"surprise": "1"},
    }
    for field, args in cases.items():
        response = client.get("/api/v1/trends", query_string=args)
        assert response.status_code == 400, (field, response.get_json())
        assert field in response.get_json()["errors"], response.get_json()
    too_early = client.get("/api/v1/trends", query_string={"from": "1999-01"})
    assert too_early.status_code == 400
    assert "from" in too_early.get_json()["errors"]


def _routed(app, trends_org) -> None:
    with app.app_context():
        group = handling.save_group(
            actor="test", name="HMS", member_ids=[trends_org.handler.id], is_default=True
        )
        handling.create_rule(actor="test", group_id=group.id)
        db.session.commit()


def _overdue(app, trends_org, per_unit: dict[int, int], due_at: datetime | None = None) -> None:
    """Reports in these units, each with one follow-up deadline past due (since the day
    before yesterday, or `due_at`)."""
    make = Factory(app)
    for unit_id, count in per_unit.items():
        for _n in range(count):
            case = make.report(trends_org.employee, unit_id=unit_id)
            with app.app_context():
                first = db.session.scalars(
                    select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id)
                ).first()
                assert first is not None
                first.due_at = due_at or datetime.now(UTC) - timedelta(days=2)
                db.session.commit()


def _glance(app, user) -> str:
    client = app.test_client()
    form_login(client, user)
    choose_language(client, "en")
    page = client.get("/").get_data(as_text=True)
    return page.split('id="h-glance"', 1)[1]


def test_overdue_follow_up_on_the_start_page_keeps_small_numbers_hidden(app, trends_org):
    """The start page's count of overdue follow-up steps is a statistic like any other:
    under k it says "fewer than k", and a unit too small to be shown gets no count."""
    o = trends_org  # k = 5, the default
    _routed(app, o)
    _overdue(app, o, {o.big.id: 1, o.four.id: 1})
    rep = _glance(app, o.safety_rep)
    assert "Fewer than 5 follow-up steps are past their deadlines." in rep
    assert "1 follow-up step" not in rep
    small = _glance(app, o.small_manager)
    assert "too few people for its own statistics" in small
    assert "past" not in small
    _overdue(app, o, {o.big.id: 4})
    at_k = _glance(app, o.safety_rep)
    assert "<strong>5 follow-up steps are past their deadlines.</strong>" in at_k
    assert "Fewer than" not in at_k


def test_overdue_follow_up_on_the_start_page_changes_by_the_day_only(app, trends_org):
    """A deadline is due a fixed time after the report was sent (72 hours, three
    months): a count that grew the minute one passed would tell a manager watching the
    page when a report from their unit was sent, and so who sent it. The count is of the
    steps past their deadline before today (Oslo): one passed today counts tomorrow."""
    o = trends_org
    _routed(app, o)
    _overdue(app, o, {o.big.id: 5})
    assert "<strong>5 follow-up steps are past their deadlines.</strong>" in _glance(app, o.amu)
    _overdue(app, o, {o.big.id: 1}, due_at=start_of_day_utc())
    for who in (o.safety_rep, o.amu):
        glance = _glance(app, who)
        assert "<strong>5 follow-up steps are past their deadlines.</strong>" in glance, who


def test_the_committee_and_the_admins_see_the_whole_organisation_on_the_start_page(app, trends_org):
    """The working environment committee (AMU) and the admins see the whole
    organisation's statistics; their start page had no overview of it at all."""
    o = trends_org
    _routed(app, o)
    _overdue(app, o, {o.big.id: 3, o.outside.id: 3})
    for who in (o.amu, o.admin):
        glance = _glance(app, who)
        assert glance.startswith(">The organisation at a glance</h2>")
        assert "The whole organisation" in glance
        assert "Incidents in the last 12 months of ended quarters" in glance
        # Follow-up past deadline in every unit, the counts of two units together.
        assert "<strong>6 follow-up steps are past their deadlines.</strong>" in glance
        assert 'href="/trends?unit=0"' in glance
    # A manager still sees their own units, not the organisation.
    own = _glance(app, o.manager)
    assert own.startswith(">Your units at a glance</h2>")
    assert "The whole organisation" not in own
    # A committee member who also leads a unit sees the organisation, then the unit.
    both = Factory(app).user(Role.AMU, Role.MANAGER, name="Both", manages=(o.big,))
    glance = _glance(app, both)
    assert glance.startswith(">The organisation and your units at a glance</h2>")
    assert glance.index("The whole organisation") < glance.index(f'unit={o.big.id}"')
