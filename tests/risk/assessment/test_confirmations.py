"""Every form of the assessment pages confirms what it saved, on the page it leads to,
where that page lands (the top, an item, the comments), in a status message that a
screen reader announces; once, not again on the next visit."""

from __future__ import annotations

import re
from datetime import timedelta

from risk.assessment import triggers
from tests.factories import choose_language, form_login, form_token
from tests.risk.assessment.conftest import today
from trygg.extensions import db

EN = {"Accept-Language": "en"}


def confirmations(html: str) -> list[str]:
    """The status messages of a page, in order."""
    return re.findall(r'role="status"[^>]*><p class="ds-paragraph">([^<]*)</p>', html)


def _client(app, who):
    client = app.test_client()
    form_login(client, who)
    choose_language(client, "en")
    return client


def _send(client, url, token, expect=None, **data):
    """Post a page's form and follow the answer, as a browser would: the page it leads
    to (where the answer's address points into) and its confirmations."""
    sent = client.post(url, data={"csrf_token": token, **data})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:3000]
    location = sent.headers["Location"]
    if expect is not None:
        assert location.endswith(expect), location
    html = client.get(location, headers=EN).get_data(as_text=True)
    return location, html, confirmations(html)


def _before(html: str, message: str, anchor: str) -> None:
    """The confirmation is shown after the anchor the page lands on, not above it."""
    assert html.index(f'id="{anchor}"') < html.index(message), anchor


def test_the_leaders_forms_each_confirm_what_was_saved(app, ra):
    client = _client(app, ra.manager)
    token = form_token(client, "/risk/assessments")
    start, end = today(), today() + timedelta(days=365)
    url, html, said = _send(
        client,
        "/risk/assessments",
        token,
        unit_id=ra.emergency.id,
        title="Hjemmebesøk",
        period_start=start.isoformat(),
        period_end=end.isoformat(),
        next_review=(start + timedelta(days=90)).isoformat(),
    )
    assert said == ["The risk assessment is started."]
    page = url.split("#")[0]
    base = page
    # Reloading does not confirm again.
    assert confirmations(client.get(page, headers=EN).get_data(as_text=True)) == []

    item = {"hazard": "Alene hjemme hos bruker", "likelihood": "3", "consequence": "4"}
    url, html, said = _send(client, f"{base}/items/new", token, "#item-1", **item)
    assert said == ["R1 is added."]
    _before(html, "R1 is added.", "item-1")
    url, html, said = _send(
        client, f"{base}/items/1", token, "#item-1", **{**item, "consequence": "5"}
    )
    assert said == ["R1 is saved."]
    _before(html, "R1 is saved.", "item-1")

    version = {
        "title": "Hjemmebesøk kveld",
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "next_review": (start + timedelta(days=100)).isoformat(),
        "p_leader": "Lars Leder",
    }
    _, _, said = _send(client, f"{base}/version", token, **version)
    assert said == ["The dates, notes and participants are saved."]
    _, _, said = _send(client, f"{base}/status", token, status="review")
    assert said == ["The version is sent for review."]
    _, _, said = _send(client, f"{base}/status", token, status="draft")
    assert said == ["The version is back to draft."]

    measure = {
        "item_ref": "1",
        "goal": "Ingen alene",
        "what": "To og to",
        "responsible_id": str(ra.manager.id),
        "deadline": today().isoformat(),
        "status": "done",
    }
    _, html, said = _send(client, f"{base}/measures", token, "/plan", **measure)
    assert said == ["The measure is added to the action plan."]
    assert "Ingen alene" in html
    mid = int(re.search(r"/measures/(\d+)\"", html).group(1))
    _, _, said = _send(
        client, f"{base}/measures/{mid}", token, "/plan", **{**measure, "goal": "Par"}
    )
    assert said == ["The measure is saved."]
    _, _, said = _send(
        client, f"{base}/measures/{mid}/evaluations", token, f"/measures/{mid}", result="worked"
    )
    assert said == ["The evaluation is recorded."]

    _, _, said = _send(client, f"{base}/status", token, status="approved")
    assert said == ["Version 1 is approved."]
    summary = {"summary_risks": "Alene", "summary_routines": "Alarm", "summary_contact": "Lars"}
    _, _, said = _send(client, f"{base}/publish", token, **summary)
    assert said == ["The summary is published: employees of its units see it on their start page."]
    _, _, said = _send(client, f"{base}/new-version", token)
    assert said == ["Version 2 is started as a draft."]
    # R1 has a measure, so an item without one is removed (R1 would be refused).
    _send(client, f"{base}/items/new", token, "#item-2", **item)
    _, html, said = _send(client, f"{base}/items/2/delete", token, confirm="on")
    assert said == ["R2 is removed."]


def test_a_resolved_trigger_is_confirmed(app, ra, approved):
    aid = approved()["id"]
    with app.app_context():
        triggers.check_reviews(today() + timedelta(days=200))
        db.session.commit()
    client = _client(app, ra.manager)
    page = client.get(f"/risk/assessments/{aid}", headers=EN).get_data(as_text=True)
    action = re.search(r'action="([^"]+/resolve)"', page).group(1)
    _, html, said = _send(client, action, form_token(client, f"/risk/assessments/{aid}"))
    assert said == ["The reason to assess again is marked as dealt with."]


def test_comments_and_statements_are_confirmed_by_the_comments(app, ra, approved):
    aid = approved()["id"]
    client = _client(app, ra.safety_rep)
    token = form_token(client, f"/risk/assessments/{aid}")
    url = f"/risk/assessments/{aid}/comments?version=1"
    _, html, said = _send(client, url, token, "#h-comments", body="Enig")
    assert said == ["Your comment is added."]
    _before(html, "Your comment is added.", "h-comments")
    _, html, said = _send(client, url, token, "#h-comments", body="Vi støtter", kind="statement")
    assert said == ["Your statement is added."]


def test_saved_matrix_levels_are_confirmed(app, ra):
    client = _client(app, ra.admin)
    form = {"csrf_token": form_token(client, "/admin/risk/matrix"), "size": "3"}
    for rank, (name, low, colour) in enumerate([("Grønn", 1, "#ccffcc"), ("Rød", 4, "#ffcccc")]):
        form |= {
            f"l{rank}-name_nb": name,
            f"l{rank}-name_en": name,
            f"l{rank}-min_score": str(low),
            f"l{rank}-colour": colour,
        }
    saved = client.post("/admin/risk/matrix", data=form, headers=EN)
    assert saved.status_code == 200
    assert confirmations(saved.get_data(as_text=True)) == [
        "The levels of the 3 × 3 matrix are saved."
    ]


def test_a_new_assessment_shows_no_key_to_figures_it_does_not_have(app, ra):
    # The key to the hidden-number marks explains the items' incident figures; a new
    # assessment has no items, so no figures and no key (it stood alone under the empty
    # table), on the page and in its print version.
    client = _client(app, ra.manager)
    token = form_token(client, "/risk/assessments")
    start = today()
    url, html, _said = _send(
        client,
        "/risk/assessments",
        token,
        unit_id=ra.emergency.id,
        title="Hjemmebesøk",
        period_start=start.isoformat(),
        period_end=(start + timedelta(days=365)).isoformat(),
        next_review=(start + timedelta(days=90)).isoformat(),
    )
    page = url.split("#")[0]
    assert "No items yet." in html
    assert "risk-legend" not in html
    printed = client.get(f"{page}/print?version=1", headers=EN)
    assert printed.status_code == 200
    assert "risk-legend" not in printed.get_data(as_text=True)
    _send(
        client,
        f"{page}/items/new",
        token,
        "#item-1",
        hazard="Alene",
        likelihood="3",
        consequence="4",
    )
    assert "risk-legend" in client.get(page, headers=EN).get_data(as_text=True)
