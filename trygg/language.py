"""Which language a request is in, and templates' gettext.

nb (the default) or en: the user's choice on their account or in this browser, never
the browser's own setting (see `_chosen_language`); babel formats English as en_GB.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context

from trygg import i18n

LANGUAGES = {"nb": "Norsk bokmål", "en": "English"}


def current_lang() -> str:
    locale = get_locale()
    return str(locale.language) if locale else "nb"


# English as it is written in Norway: dates day first and a 24-hour clock ("06/12/2026,
# 18:33"), not the US "12/6/26, 6:33 PM" that reads as 12 June here. The catalogue is
# still "en" (gettext falls back from en_GB to en).
BABEL_LOCALES = {"en": "en_GB"}


def select_locale() -> str:
    """The babel locale for the user's language: see `_chosen_language`."""
    chosen = _chosen_language()
    return BABEL_LOCALES.get(chosen, chosen)


def _chosen_language() -> str:
    """The language the user chose (on their account, else in this browser), else the
    installation's `default_locale`.

    Pages never follow the browser's Accept-Language: a shared or borrowed computer
    set to English must not decide for the employer. API clients (no language switch
    to press) are answered in the language their `?lang=` names, where the endpoint
    takes it (a page's link to a download gives its own), else the one their
    Accept-Language asks for.
    """
    if not has_request_context():
        # The command line speaks English, like click's own messages around it.
        return "en"
    if current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    if request.path.startswith("/api/"):
        # A download linked from a page says the page's language (`?lang=`): a user who
        # never chose one reads the page in the default, while their browser may ask
        # for English.
        asked = request.args.get("lang")
        if asked in LANGUAGES:
            return str(asked)
        for tag, _quality in request.accept_languages:
            primary = tag.lower().split("-")[0]
            if primary in {"nb", "no", "nn"}:
                return "nb"
            if primary == "en":
                return "en"
    return str(current_app.config["TRYGG"]["default_locale"])


def install_template_gettext(app: Flask) -> None:
    """Templates' gettext through `trygg.i18n.translations` (after flask_babel's own
    set-up): looked up once per locale and request."""
    translations = i18n.translations
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined] # the i18n extension's
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    wrapped: Callable[..., str] = app.jinja_env.globals["gettext"]  # type: ignore[assignment] # Jinja's newstyle gettext (`_` too)

    @pass_context
    def gettext(context: Context, string: str, **variables: Any) -> str:
        """Jinja's gettext; a string without variables is translated once per locale
        (a list asks for "Edit" and "Active" on every row: about 20 µs each)."""
        if variables:
            return wrapped(context, string, **variables)
        done = _TEMPLATE_STRINGS.setdefault(translations(), {})
        key = (string, context.eval_ctx.autoescape)
        text = done.get(key)
        if text is None:
            text = done[key] = wrapped(context, string)
        return text

    app.jinja_env.globals["gettext"] = gettext


# Template strings already translated, per translations object (a locale's catalogue:
# refresh() or a new process brings a new one, and its strings with it).
_TEMPLATE_STRINGS: weakref.WeakKeyDictionary[Any, dict[tuple[str, bool], str]] = (
    weakref.WeakKeyDictionary()
)
