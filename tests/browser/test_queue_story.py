"""A handler's working day in the queue, in a real browser (issue 15): find a case by
part of its reference, take it, find it again under "Mine", sort by a column; the whole
table in view on a 1,280 px laptop; and the queue on a 390 px phone in both languages,
axe-clean and without sideways scrolling.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from handling import service
from handling.models import Case
from handling.service.deadlines import refresh_next_due
from tests.browser.conftest import PHONE
from tests.browser.helpers import Login, assert_accessible, assert_path, click_and_wait, navigation
from tests.factories import Factory, UnitInfo
from trygg import org
from trygg.accounts import service as accounts
from trygg.extensions import db
from trygg.roles import Role

pytestmark = pytest.mark.browser

EN = "en-GB"


@dataclass
class Cases:
    references: list[str]
    handler_name: str


@pytest.fixture(scope="module")
def cases(live_app: Flask, demo_logins: dict[str, Login]) -> Cases:
    """Three reports from the demo employee, routed to the demo handler's group."""
    with live_app.app_context():
        employee = accounts.find_user(demo_logins[Role.EMPLOYEE].email)
        handler = accounts.find_user(demo_logins[Role.HANDLER].email)
        unit = org.find_unit("Akuttmottaket")
        assert employee is not None
        assert handler is not None
        assert unit is not None
        employee_id, unit_id, handler_name = employee.id, unit.id, handler.name
    references = [
        Factory(live_app)
        .report(
            employee_id,
            unit_id=unit_id,
            occurred_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            severity=severity,
            narrative="Pasienten truet meg i korridoren.",
        )
        .reference
        for severity in (1, 4, 2)
    ]
    return Cases(references, handler_name)


# A unit name as long as real ones get (the column holds 120 characters), and a report of
# several kinds of incident at once.
LONG_UNIT = "Klinikk for psykisk helse og rusbehandling, døgnavdeling for unge voksne, post 3"
MANY_TYPES = ["physical_violence", "discriminatory_harassment", "sexual_harassment", "damage"]
MANY_TYPE_WORDS = {
    "nb-NO": [
        "Fysisk vold",
        "Trakassering på diskrimineringsgrunnlag",
        "Seksuell trakassering",
        "Skadeverk eller utagering",
    ],
    "en-GB": [
        "Physical violence",
        "Harassment on discriminatory grounds",
        "Sexual harassment",
        "Damage or acting out",
    ],
}


@dataclass
class Busy:
    taken: str  # assigned to the demo handler
    waiting: str  # nobody's yet: "Take this case"


@pytest.fixture(scope="module")
def busy(live_app: Flask, demo_logins: dict[str, Login]) -> Busy:
    """Two reports the way a real queue has them: a long unit name, four kinds of incident,
    an open deadline; one owned by the demo handler, one waiting in the group."""
    with live_app.app_context():
        employee = accounts.find_user(demo_logins[Role.EMPLOYEE].email)
        parent = org.find_unit("Psykiatrisk avdeling")
        assert employee is not None
        assert parent is not None
        employee_id = employee.id
        parent_info = UnitInfo(parent.id, parent.name, parent.parent_id, parent.headcount)
        db.session.remove()
    factory = Factory(live_app)
    unit = factory.unit(LONG_UNIT, parent=parent_info)
    refs = [
        factory.report(
            employee_id,
            unit_id=unit.id,
            incident_types=MANY_TYPES,
            occurred_at=(datetime.now(UTC) - timedelta(hours=2)).isoformat(),
            severity=3,
            counterpart_category="patient",
            narrative="Pasienten kastet en stol mot meg og kalte meg stygge ting.",
        )
        for _ in range(2)
    ]
    with live_app.app_context():
        handler = accounts.find_user(demo_logins[Role.HANDLER].email)
        case = db.session.get(Case, refs[0].id)
        assert handler is not None
        assert case is not None
        service.take(case, handler)
        db.session.commit()
        db.session.remove()
    return Busy(taken=refs[0].reference, waiting=refs[1].reference)


# What the story reads, in each language; each language takes its own case.
WORDS = {
    "nb-NO": {
        "search": "Søk",
        "unassigned": "Ikke tildelt",
        "take": "Ta saken",
        "taken": "Du er nå saksbehandler for {}.",
        "severity": "Hvor alvorlig",
        "case": 1,
    },
    "en-GB": {
        "search": "Search",
        "unassigned": "Unassigned",
        "take": "Take this case",
        "taken": "You are now the case handler of {}.",
        "severity": "How serious",
        "case": 2,
    },
}


@pytest.mark.parametrize("locale", list(WORDS))
def test_a_handler_finds_a_case_by_its_number_and_takes_it(logged_in, cases, locale):
    words = WORDS[locale]
    page = logged_in(Role.HANDLER, locale=locale)
    page.goto("/cases")
    assert page.locator("html").get_attribute("lang") == locale[:2]
    reference = cases.references[words["case"]]
    serial = reference.rsplit("-", 1)[-1]

    page.get_by_label(words["search"], exact=True).fill(serial)
    click_and_wait(page, "form.case-filters button[type=submit]")
    assert_path(page, "/cases")
    assert f"q={serial}" in page.url  # the search is in the address: it can be bookmarked
    row = page.get_by_role("row", name=reference)
    assert words["unassigned"] in row.inner_text()
    assert_accessible(page, f"the queue with a search, {locale}")

    with navigation(page):
        row.get_by_role("button", name=words["take"]).click()
    assert f"q={serial}" in page.url  # back to the same search
    assert words["taken"].format(reference) in page.locator(".case-flash").inner_text()
    row = page.get_by_role("row", name=reference)
    assert cases.handler_name in row.inner_text()
    assert words["take"] not in row.inner_text()

    click_and_wait(page, ".case-counts a[href='/cases?assigned=me']")
    assert page.get_by_role("row", name=reference).is_visible()
    assert page.get_by_role("row", name=cases.references[0]).count() == 0

    # Sort by how serious, then the other way; the filter stays.
    sort = f"thead a:has-text('{words['severity']}')"
    click_and_wait(page, sort)
    assert "assigned=me" in page.url
    assert "sort=severity" in page.url
    header = page.locator("thead th[aria-sort]")
    assert header.get_attribute("aria-sort") == "ascending"
    click_and_wait(page, sort)
    assert page.locator("thead th[aria-sort]").get_attribute("aria-sort") == "descending"
    assert_accessible(page, f"the sorted queue, {locale}")


# A laptop's screen, the handler's whole working day, and a tablet's.
LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 1024, "height": 768}
# What reaches past the right edge of the screen or of the table's region (what to fix).
PAST_THE_EDGE = """() => {
  const wrap = document.querySelector('.case-queue-wrap');
  const edge = Math.min(window.innerWidth, wrap.getBoundingClientRect().right);
  const past = e => e.getBoundingClientRect().right > edge + 0.5;
  return [...document.querySelectorAll('.case-queue *')]
    .filter(e => past(e) && ![...e.children].some(past))
    .slice(0, 5).map(e => `${e.tagName}.${e.className} "${e.textContent.trim().slice(0, 30)}"`
      + ` ${Math.round(e.getBoundingClientRect().right)}`).join(', ');
}"""


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("nb-NO", {"you": "deg", "take": "Ta saken", "left": "igjen"}),
        ("en-GB", {"you": "you", "take": "Take this case", "left": "left"}),
    ],
)
def test_the_whole_queue_fits_a_laptop_screen(logged_in, busy, demo_logins, locale, words):
    """At 1280 × 800 every column of the queue is in view at once: nothing to scroll
    sideways, neither the page nor the table, with a long unit name, four kinds of
    incident, a deadline and a case handler in a row; and nothing of it is left out."""
    page = logged_in(Role.HANDLER, viewport=LAPTOP, locale=locale)
    page.goto("/cases?state=all")
    taken = page.get_by_role("row", name=busy.taken)
    assert taken.is_visible()
    text = " ".join(taken.inner_text().split())
    for shown in (LONG_UNIT, demo_logins[Role.HANDLER].name, words["you"]):
        assert shown in text, f"{shown!r} is not in the row: {text}"
    for kind in MANY_TYPE_WORDS[locale]:
        assert kind in text, f"{kind!r} is not in the row: {text}"
    assert words["left"] in text  # the nearest deadline's time left
    waiting = page.get_by_role("row", name=busy.waiting)
    assert waiting.get_by_role("button", name=words["take"]).is_visible()

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= LAPTOP["width"], f"the queue page is {width} px wide at {LAPTOP['width']} px"
    wrap = page.locator(".case-queue-wrap")
    sideways = wrap.evaluate("e => e.scrollWidth - e.clientWidth")
    assert sideways <= 0, (
        f"the table scrolls {sideways} px sideways at {LAPTOP['width']} px: "
        + page.evaluate(PAST_THE_EDGE)
    )
    # Each of the ten values is still there to sort by, its link in view.
    sorts = page.locator("table.case-queue thead a")
    assert sorts.count() == 10
    for index in range(10):
        box = sorts.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= LAPTOP["width"], sorts.nth(index).inner_text()
    assert_accessible(page, f"the queue at {LAPTOP['width']} px, {locale}")


@pytest.fixture(scope="module")
def long_deadline(live_app: Flask, demo_logins: dict[str, Login]) -> str:
    """A case whose nearest deadline has the longest kind there is ("Individual talk and
    offer of occupational health service"), due within the hour; its reference."""
    ref = Factory(live_app).report(
        _user_id(live_app, demo_logins[Role.EMPLOYEE].email),
        unit_id=_unit_id(live_app, "Akuttmottaket"),
        occurred_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        severity=1,
        narrative="Pasienten truet meg i korridoren.",
    )
    with live_app.app_context():
        case = db.session.get(Case, ref.id)
        assert case is not None
        talk = next(d for d in case.deadlines if d.kind == "individual_talk" and d.is_open)
        talk.due_at = datetime.now(UTC) + timedelta(minutes=50)
        refresh_next_due(case)
        db.session.commit()
        db.session.remove()
    return ref.reference


def _user_id(app: Flask, email: str) -> int:
    with app.app_context():
        user = accounts.find_user(email)
        assert user is not None
        return user.id


def _unit_id(app: Flask, name: str) -> int:
    with app.app_context():
        unit = org.find_unit(name)
        assert unit is not None
        return unit.id


# A row's nearest deadline: how high its cell's content is, the tag of time left in it,
# and a line of small text (0.875rem, 1.35 high).
DEADLINE_CELL = """cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  return {
    content: range.getBoundingClientRect().height,
    tag: cell.querySelector('.ds-tag').getBoundingClientRect().height,
    line: parseFloat(getComputedStyle(document.documentElement).fontSize) * 0.875 * 1.35,
  };
}"""


@pytest.mark.parametrize(
    ("locale", "kind"),
    [
        ("nb-NO", "Individuell samtale og tilbud om bedriftshelsetjeneste"),
        ("en-GB", "Individual talk and offer of occupational health service"),
    ],
)
def test_a_long_deadline_keeps_its_row_low_on_a_laptop(logged_in, long_deadline, locale, kind):
    """At 1280 × 800 a row's nearest deadline is its time left, then its date and kind in
    one run of smaller text: the longest kind of deadline with its date takes at most four
    small lines under the tag (it took three lines of body text and a line for the date),
    the whole kind and the date still there, and the column still sorts."""
    page = logged_in(Role.HANDLER, viewport=LAPTOP, locale=locale)
    page.goto("/cases")
    row = page.get_by_role("row", name=long_deadline)
    cell = row.locator("td").nth(4)
    text = " ".join(cell.inner_text().split())
    assert kind in text, text
    assert re.search(r"\d\d[./]\d\d[./]20\d\d, \d\d:\d\d", text), text
    sizes = cell.evaluate(DEADLINE_CELL)
    most = sizes["tag"] + 0.25 * 16 + 4 * sizes["line"] + 3
    assert sizes["content"] <= most, (
        f"the deadline cell is {sizes['content']:.0f} px high, more than the tag and four"
        f" small lines ({most:.0f} px): {text}"
    )
    assert page.locator("table.case-queue thead a[href*='deadline']").count() == 1
    assert_accessible(page, f"the queue with a long deadline at {LAPTOP['width']} px, {locale}")


@pytest.mark.parametrize(("locale", "filters"), [("nb-NO", "Filtre"), ("en-GB", "Filters")])
def test_a_laptop_shows_the_first_cases_without_scrolling(logged_in, busy, locale, filters):
    """The queue is a handler's working page: at 1280 × 800 the first case is in view
    under the header, the counts and the search as the page opens. The filters fold away
    until one is used; a view with one set opens them and says how many are set."""
    page = logged_in(Role.HANDLER, viewport=LAPTOP, locale=locale)
    page.goto("/cases")
    first = page.locator("table.case-queue tbody tr").first
    box = first.bounding_box()
    assert box is not None
    assert box["y"] + min(box["height"], 48) <= LAPTOP["height"], (
        f"the first case starts {box['y']:.0f} px down, below a {LAPTOP['height']} px screen"
    )
    folded = page.locator("details.case-filters__more")
    assert folded.get_attribute("open") is None
    assert not page.locator("#f-filter-state").is_visible()
    page.locator("details.case-filters__more > summary").click()
    assert page.locator("#f-filter-state").is_visible()
    page.goto("/cases?assigned=none")
    assert folded.get_attribute("open") is not None
    assert " ".join(folded.locator("summary").inner_text().split()) == f"{filters} (1)"
    assert page.locator("#f-filter-assigned").input_value() == "none"
    assert_accessible(page, f"the queue with its filters open at {LAPTOP['width']} px, {locale}")


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
def test_on_a_tablet_the_table_scrolls_not_the_page(logged_in, busy, locale):
    """Narrower than a laptop (1024 px), eight columns may not fit: the table scrolls in
    its own region, which a keyboard can reach, and the header, counts and filters stay."""
    page = logged_in(Role.HANDLER, viewport=TABLET, locale=locale)
    page.goto("/cases?state=all")
    assert page.get_by_role("row", name=busy.taken).is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"the queue page is {width} px wide at {TABLET['width']} px"
    region = page.get_by_role("region", name=page.locator("table.case-queue caption").inner_text())
    assert region.get_attribute("tabindex") == "0"
    assert region.locator("table.case-queue").count() == 1
    assert_accessible(page, f"the queue at {TABLET['width']} px, {locale}")


@pytest.mark.parametrize("locale", ["nb-NO", "en-US"])
def test_the_queue_fits_a_390_px_phone(logged_in, cases, locale):
    page = logged_in(Role.HANDLER, viewport=PHONE, locale=locale)
    page.goto("/cases?state=all")
    assert page.locator("html").get_attribute("lang") == locale[:2]
    assert page.get_by_role("row", name=cases.references[2]).is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the queue is {width} px wide at {PHONE['width']} px"
    assert_accessible(page, f"the queue at {PHONE['width']} px, {locale}")
    # A bad sort is reported on the page, which still lists the cases.
    page.goto("/cases?sort=nonsense")
    assert page.locator("#error-summary").is_visible()
    assert page.get_by_role("row", name=cases.references[2]).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page, f"the queue with an error at {PHONE['width']} px, {locale}")


# A count on a phone: its number, then its name, as one link.
COUNT = re.compile(r"^\d+ \S.*$")
PHONE_COUNTS = {
    "nb-NO": ["Aktive saker", "Mine", "Ikke tildelt", "Over fristen", "Frist innen 24 timer"],
    "en-GB": ["Active cases", "Mine", "Unassigned", "Past a deadline", "Due within 24 hours"],
}


@pytest.mark.parametrize("locale", list(PHONE_COUNTS))
def test_a_phone_shows_the_first_case_on_the_first_screen(logged_in, cases, locale):
    """A handler on call opens the queue on a 390 × 844 phone to see what is burning: the
    first case's reference is on the first screen, under the counts and the search (they
    took the whole screen, the first case 1,351 px down). Each count is still a link
    that names its number and what it counts, in view; the search and the folded filters
    are still there."""
    from playwright.sync_api import expect

    page = logged_in(Role.HANDLER, viewport=PHONE, locale=locale)
    page.goto("/cases")
    assert page.locator("html").get_attribute("lang") == locale[:2]
    first = page.locator("table.case-queue tbody tr").first
    box = first.bounding_box()
    reference = first.locator("th a").bounding_box()
    assert box is not None
    assert reference is not None
    assert reference["y"] + reference["height"] <= PHONE["height"], (
        f"the first case starts {box['y']:.0f} px down, its reference below a"
        f" {PHONE['height']} px screen"
    )
    counts = page.locator(".case-counts a")
    assert counts.count() == len(PHONE_COUNTS[locale])
    for index, name in enumerate(PHONE_COUNTS[locale]):
        text = " ".join(counts.nth(index).inner_text().split())
        assert COUNT.match(text), text
        assert text.endswith(f" {name}"), text
        expect(page.get_by_role("link", name=text, exact=True)).to_be_in_viewport()
    assert page.locator("#filter-q").is_visible()
    assert page.locator("form.case-filters button[type=submit]").is_visible()
    assert page.locator("details.case-filters__more > summary").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the queue is {width} px wide at {PHONE['width']} px"
    assert_accessible(page, f"the queue's first screen at {PHONE['width']} px, {locale}")


def test_the_queue_prints_without_forms_or_navigation(logged_in, cases):
    page = logged_in(Role.HANDLER, locale=EN)
    page.goto("/cases?assigned=none")
    assert page.locator("form.case-filters").is_visible()
    page.emulate_media(media="print")
    for hidden in ("header.app-header", "form.case-filters", ".case-take-row", "footer"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.get_by_role("row", name=cases.references[0]).is_visible()
    assert page.locator("table.case-queue thead").is_visible()
