"""The handler links a case to a risk item from the case page, in a real browser, in
Norwegian and English (issue 14): the case page's risk section offers the items of the
emergency department's assessment; after the link it names the item and offers to
remove the link; the assessment shows the links only as a count, hidden while small.
The case page, the assessment and the admin's matrix page pass axe-core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from risk.assessment.models import Assessment
from tests.browser.helpers import assert_accessible, click_and_wait, show_section
from tests.factories import Factory
from trygg.accounts.models import User
from trygg.extensions import db
from trygg.roles import Role

pytestmark = pytest.mark.browser
OSLO = ZoneInfo("Europe/Oslo")


def _reported_case(app, reporter_email: str) -> tuple[int, int]:
    """A threat in the waiting room, reported through the intake service: (case, the
    emergency department's assessment)."""
    with app.app_context():
        reporter = db.session.scalar(select(User).where(User.email == reporter_email))
        reporter_id, unit_id = reporter.id, reporter.units[0].id
        aid = db.session.scalar(select(Assessment.id).order_by(Assessment.id))
    case = Factory(app).report(
        reporter_id,
        unit_id=unit_id,
        occurred_at=(datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        place_type="front_desk",
        narrative="En pårørende truet meg i skranken.",
    )
    return case.id, aid


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_a_handler_links_a_case_to_a_risk_item_from_the_case_page(
    live_app, demo_logins, logged_in, locale
):
    en = locale.startswith("en")
    case_id, aid = _reported_case(live_app, demo_logins[Role.EMPLOYEE].email)

    handler = logged_in(Role.HANDLER, locale=locale)
    handler.goto(f"/cases/{case_id}")
    show_section(handler, "h-tasks")  # the follow-up section holds the risk items
    section = handler.locator("section:has(#h-risk-items)")
    assert section.locator("select[name=item] option").count() >= 1
    assert_accessible(handler, f"case page with the risk section ({locale})")
    section.locator("select[name=item]").select_option(f"{aid}:1")
    click_and_wait(handler, "form[action$='/risk-links'] button[type=submit]")
    linked = "The case is linked to the risk item." if en else "Saken er koblet til risikopunktet."
    assert linked in handler.locator("main").inner_text()
    remove = "Remove the link to R1" if en else "Fjern koblingen til R1"
    assert remove in section.inner_text()
    assert_accessible(handler, f"case page after linking ({locale})")

    leader = logged_in(Role.MANAGER, locale=locale)
    leader.goto(f"/risk/assessments/{aid}")
    # Linked cases show only as a count, and a small one is hidden: never the case.
    assert "truet meg" not in leader.content()
    assert leader.locator(f"a[href^='/risk/assessments/{aid}/pdf']").count() == 1
    assert_accessible(leader, f"assessment with the PDF link ({locale})")

    click_and_wait(handler, "form[action$='/risk-links/remove'] button[type=submit]")
    assert section.locator("form[action$='/risk-links/remove']").count() == 0

    admin = logged_in(Role.ADMIN, locale=locale)
    admin.goto("/admin/risk/matrix")
    assert admin.locator("#f-5-l3-name_en").input_value() == "Very high"
    assert admin.locator("#f-5-l3-name_nb").input_value() == "Svært høy"
    assert_accessible(admin, f"matrix levels in two languages ({locale})")
