"""The language a user chooses follows their account to every browser; until someone
chooses, pages are in the installation's default_locale whatever the browser asks for."""

from __future__ import annotations

from flask import Flask

from tests.factories import choose_language, csrf_token, form_login
from tests.kernel.test_pages import html_lang
from trygg.accounts.models import User
from trygg.extensions import db
from trygg.roles import Role

ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}


def _log_out(client) -> None:
    assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 302


def test_a_chosen_language_follows_the_user_to_another_browser(app: Flask, make) -> None:
    user = make.user(Role.EMPLOYEE, email="ola@example.org")
    first = app.test_client()
    form_login(first, user)
    assert html_lang(first.get("/")) == "nb"
    choose_language(first, "en")
    assert html_lang(first.get("/")) == "en"
    _log_out(first)

    other = app.test_client()  # another browser, which asks for nothing
    assert html_lang(other.get("/login")) == "nb"  # nobody has logged in here yet
    form_login(other, user)
    assert html_lang(other.get("/")) == "en"
    assert "My reports" in other.get("/").get_data(as_text=True)
    # Back to Norwegian there, and the first browser follows at the next login.
    choose_language(other, "nb")
    form_login(first, user)
    assert html_lang(first.get("/")) == "nb"


def test_a_language_picked_on_the_login_page_is_kept_on_the_account(app: Flask, make) -> None:
    user = make.user(Role.EMPLOYEE, email="kari@example.org")
    first = app.test_client()
    choose_language(first, "en")
    assert html_lang(first.get("/login")) == "en"
    form_login(first, user)
    assert html_lang(first.get("/")) == "en"
    other = app.test_client()
    form_login(other, user)
    assert html_lang(other.get("/")) == "en"


def test_an_anonymous_visitor_gets_the_default_whatever_the_browser_asks(
    app: Flask, make_app
) -> None:
    visitor = app.test_client()
    assert html_lang(visitor.get("/login", headers=ENGLISH_BROWSER)) == "nb"
    assert "Logg inn" in visitor.get("/login", headers=ENGLISH_BROWSER).get_data(as_text=True)
    choose_language(visitor, "en")
    assert html_lang(visitor.get("/login", headers={"Accept-Language": "nb"})) == "en"
    english_install = make_app(default_locale="en").test_client()
    assert html_lang(english_install.get("/login", headers={"Accept-Language": "nb"})) == "en"


def test_a_user_who_never_chose_gets_the_default_not_the_browser(app: Flask, make) -> None:
    user = make.user(Role.EMPLOYEE, email="per@example.org")
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    form_login(client, user)
    assert html_lang(client.get("/")) == "nb"


def test_a_choice_on_the_login_page_survives_the_second_step(app: Flask, make) -> None:
    """A two-factor login starts a new session between its steps; the choice made on
    the login page is still the one kept on the account."""
    handler = make.user(Role.HANDLER, email="hanne@example.org")
    with app.app_context():
        db.session.get(User, handler.id).locale = "nb"  # chosen earlier, elsewhere
        db.session.commit()
    other = app.test_client()
    choose_language(other, "en")
    form_login(other, handler)  # password, then the code: two sessions
    assert html_lang(other.get("/account")) == "en"
    with app.app_context():
        assert db.session.get(User, handler.id).locale == "en"


def test_templates_follow_a_forced_locale_and_return_to_the_pages_own(app: Flask) -> None:
    """Templates look their translations up once per locale (trygg.i18n.translations);
    an e-mail rendered in its recipient's language mid-request still gets that language,
    and the page's own language comes back after it."""
    from flask import render_template_string
    from flask_babel import force_locale, refresh

    page = '{{ _("Choose your password") }} {{ ngettext("%(num)s case", "%(num)s cases", 2) }}'
    with app.test_request_context("/"):
        assert render_template_string(page).startswith("Velg passord")
        with force_locale("en"):
            assert render_template_string(page) == "Choose your password 2 cases"
        assert render_template_string(page).startswith("Velg passord")
        refresh()
        assert render_template_string(page).startswith("Velg passord")


def test_numbers_in_pages_are_written_as_babel_writes_them_in_both_languages(
    app: Flask,
) -> None:
    """Whole numbers take a short way (trygg.formatting.format_number): the same text as
    babel's, with the language's thousands separator; other numbers go to babel."""
    from babel.numbers import format_decimal
    from flask import render_template_string
    from flask_babel import force_locale

    values = [0, 7, 999, 1000, 12345, 999999, 1234567, 10**12, -1234, 2.5, 1234.75]
    with app.test_request_context("/"):
        for language in ("nb", "en"):
            with force_locale(language):
                shown = render_template_string(
                    "{% for v in values %}{{ v|format_number }}|{% endfor %}", values=values
                )
            assert shown.split("|")[:-1] == [format_decimal(v, locale=language) for v in values], (
                language
            )
    with app.test_request_context("/"):
        assert render_template_string("{{ 12345|format_number }}") == "12\xa0345"
        with force_locale("en"):
            assert render_template_string("{{ 12345|format_number }}") == "12,345"


def test_python_strings_follow_the_locale_of_the_moment_they_are_shown(app: Flask) -> None:
    """trygg.i18n: a lazy string is translated when shown, in the language of that
    moment (a forced one too), and outside an app context it stays in English."""
    from flask_babel import force_locale

    from trygg import i18n

    label = i18n.lazy_gettext("Choose your password")
    assert str(label) == "Choose your password"  # no app context
    with app.test_request_context("/"):
        assert str(label) == "Velg passord"
        assert i18n.gettext("Choose your password") == "Velg passord"
        with force_locale("en"):
            assert str(label) == "Choose your password"
            assert i18n.ngettext("%(num)s case", "%(num)s cases", 3) == "3 cases"
        assert str(label) == "Velg passord"
        assert i18n.ngettext("%(num)s case", "%(num)s cases", 1) == "1 sak"


def test_dates_in_pages_are_written_as_babel_writes_them_in_both_languages(
    app: Flask,
) -> None:
    """The named formats take a short way (trygg.formatting.format_datetime): the same text as
    flask_babel's, in the installation's time zone, across both of Oslo's clock changes,
    for stored (naive UTC) and aware moments; a pattern of one's own goes to babel."""
    from datetime import UTC, datetime, timedelta

    import flask_babel
    from flask import render_template_string
    from flask_babel import force_locale

    start = datetime(2026, 3, 29, 0, 30)  # an hour before summer time, naive UTC
    moments = [start + timedelta(minutes=37 * n) for n in range(8)]
    moments += [
        datetime(2026, 10, 25, 0, 15, tzinfo=UTC) + timedelta(minutes=29 * n) for n in range(6)
    ]
    moments += [datetime(2026, 12, 31, 23, 59, 59), datetime(2027, 1, 1, 0, 0, tzinfo=UTC)]
    # Every hour of the day (am/pm, 12 and 0), single-digit days and months.
    moments += [datetime(2027, 2, 3, 0, 7, 9) + timedelta(minutes=61 * n) for n in range(25)]
    formats = ["short", "medium", "long", "full", None, "d. MMMM y 'kl.' HH:mm"]
    page = "{% for m in moments %}{{ m|format_datetime(f) }}|{% endfor %}"
    with app.test_request_context("/"):
        for language in ("nb", "en"):
            with force_locale(language):
                for f in formats:
                    shown = render_template_string(page, moments=moments, f=f)
                    expected = [flask_babel.format_datetime(m, f) for m in moments]
                    assert shown.split("|")[:-1] == expected, (language, f)
        # In Oslo's time, in the page's language (one the test can read).
        summer = datetime(2026, 6, 1, 10, 5)
        assert render_template_string("{{ m|format_datetime('short') }}", m=summer) == (
            "01.06.2026, 12:05"
        )
        with force_locale("en"):
            shown = render_template_string("{{ m|format_datetime('short') }}", m=summer)
            assert shown == "6/1/26, 12:05\u202fPM"


def test_a_day_alone_is_written_in_the_users_language_on_oslos_calendar(app: Flask) -> None:
    """What keeps only its day (a discreet notification) reads as the day in Oslo, in
    the page's language: not a Norwegian pattern on an English page."""
    from datetime import UTC, datetime

    from flask import render_template_string
    from flask_babel import force_locale

    late = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # already the 7th in Oslo
    with app.test_request_context("/"):
        assert render_template_string("{{ m|format_day }}", m=late) == "7. des. 2026"
        with force_locale("en_GB"):  # what an English page formats with (trygg.language)
            assert render_template_string("{{ m|format_day }}", m=late) == "7 Dec 2026"


def test_of_several_confirmations_the_first_takes_the_focus(app: Flask) -> None:
    """One element with autofocus on a page: the first confirmation at the top; one for a
    section is shown under that section's heading, without it."""
    from flask import flash, render_template_string

    with app.test_request_context("/"):
        flash("one", "success")
        flash("two", "info")
        flash("three", "success#h-tasks")
        page = '{% import "macros.html" as m %}{{ m.flashes() }}|{{ m.flashes("", "h-tasks") }}'
        top, section = render_template_string(page).split("|")
    assert top.count("autofocus") == 1
    assert "one" in top
    assert "two" in top
    assert "three" not in top
    assert "three" in section
    assert "autofocus" not in section


def test_template_strings_are_kept_per_language_and_variables_escaped_once(app: Flask) -> None:
    """trygg.language.install_template_gettext keeps a string without variables once per
    language's catalogue: a page in one language never gets the other's, and a string
    with variables is formatted (and escaped) on each use, as Jinja does."""
    from flask import render_template_string
    from flask_babel import force_locale

    page = (
        "{% autoescape true %}{{ _('Edit') }}|{{ _('Edit') }}|"
        "{{ _('No users match “%(search)s”.', search=who) }}{% endautoescape %}"
    )
    with app.test_request_context("/"):
        first = render_template_string(page, who="A & <b>")
        with force_locale("en"):
            english = render_template_string(page, who="C & D")
        again = render_template_string(page, who="E")
    assert first == "Rediger|Rediger|Ingen brukere passer med «A &amp; &lt;b&gt;»."
    assert english == "Edit|Edit|No users match “C &amp; D”."
    assert again == "Rediger|Rediger|Ingen brukere passer med «E»."


def test_a_select_shows_each_choice_escaped_and_the_chosen_one_selected(app: Flask) -> None:
    """macros.html `select` (its options written by trygg.formatting.option_tags): a unit
    named with markup shows as text, the value given (a number or its text, as a form
    sends it back) is the one selected, and nothing is selected without one."""
    from flask import render_template_string

    page = (
        "{% import 'macros.html' as m %}"
        "{{ m.select('unit_id', 'Enhet', options, value=value, empty_label='Alle') }}"
    )
    options = [(1, "Akutt & <b>mottak</b>"), (12, "Post 2"), (2, 'Sitat "x"')]
    with app.test_request_context("/"):
        for value in (12, "12"):
            html = render_template_string(page, options=options, value=value)
            assert '<option value="12" selected>Post 2</option>' in html
            assert html.count(" selected") == 1
        html = render_template_string(page, options=options, value=None)
    assert " selected" not in html
    assert '<option value="1">Akutt &amp; &lt;b&gt;mottak&lt;/b&gt;</option>' in html
    assert '<option value="2">Sitat &#34;x&#34;</option>' in html
    assert '<option value="">Alle</option>' in html


def test_english_pages_write_dates_day_first_with_a_24_hour_clock(app: Flask, make) -> None:
    """English as written in Norway (en_GB): "01/06/2026, 12:05", never the US
    "6/1/26, 12:05 PM", which a reader here takes for 6 January."""
    from datetime import datetime

    from flask import render_template_string, session
    from flask_babel import refresh

    summer = datetime(2026, 6, 1, 10, 5)  # naive UTC: 12:05 in Oslo
    with app.test_request_context("/"):
        session["lang"] = "en"
        refresh()
        shown = render_template_string("{{ m|format_datetime('short') }}", m=summer)
        assert shown == "01/06/2026, 12:05"
    user = make.user(Role.EMPLOYEE)
    client = app.test_client()
    form_login(client, user)
    choose_language(client, "en")
    assert html_lang(client.get("/")) == "en"  # the page's language stays "en"
