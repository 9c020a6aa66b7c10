"""The case page: "to be deleted on …" in the last 30 days, and the legal hold form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from handling.service import add_duration
from tests.factories import form_login, form_token
from tests.handling.conftest import Api
from tests.retention.support import build_world, marked_case
from trygg.extensions import utcnow


@pytest.fixture
def world(app):
    return build_world(app)


def test_the_case_page_warns_in_the_last_30_days_and_takes_a_hold(app, world):
    handler, reporter = Api(app, world.handler), Api(app, world.employee)
    case_id, _, _ = marked_case(app, world, "PAGE", handler=handler, reporter=reporter)
    due = add_duration(utcnow(), 120, "months")
    path = f"/cases/{case_id}"
    # Each login at its own moment: a TOTP code is used once.
    with time_machine.travel(due - timedelta(days=40), tick=False):
        page = app.test_client()
        form_login(page, world.handler)
        assert 'id="retention-note"' not in page.get(path).get_data(as_text=True)
    with time_machine.travel(due - timedelta(days=10), tick=False):
        page = app.test_client()
        form_login(page, world.handler)
        html = page.get(path).get_data(as_text=True)
        assert 'id="retention-note"' in html
        assert "Slettes " in html
        token = form_token(page, path)
        refused = page.post(f"{path}/hold", data={"csrf_token": token, "reason": "whim"})
        assert refused.status_code == 303
        assert "Velg hvorfor saken må beholdes." in page.get(path).get_data(as_text=True)
        placed = page.post(f"{path}/hold", data={"csrf_token": token, "reason": "police"})
        assert placed.status_code == 303
        assert placed.headers["Location"] == path  # no fragment: the confirmation takes focus
        html = page.get(path).get_data(as_text=True)
        assert re.search(
            r'role="status" tabindex="-1" autofocus><p class="ds-paragraph">Saken', html
        )
        assert "Slettestopp" in html
        assert "Politietterforskning" in html
        lifted = page.post(f"{path}/hold/lift", data={"csrf_token": token})
        assert lifted.status_code == 303
        assert "Opphev slettestoppen" not in page.get(path).get_data(as_text=True)
    assert page.post(f"{path}/hold", data={"reason": "police"}).status_code == 400  # no CSRF
