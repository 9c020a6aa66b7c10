"""gettext for Python code and templates, through the current locale's translations
looked up once per locale and context.

flask_babel's `gettext` (and every lazy string's `str()`) walks several context proxies
to find the translations on each call: about 30 µs, and a page asks for hundreds of
strings (the queue's 50 rows: incident types, states, tracks, severities, deadline
names, about 400). Here the translations flask_babel chose are kept beside the locale
object it chose, so `refresh()` and `force_locale` (an e-mail in its recipient's
language) still take effect; outside an app context flask_babel answers itself.

Use `from trygg.i18n import gettext as _` and `lazy_gettext as _l` (the names the
catalogue's extraction looks for).
"""

from __future__ import annotations

from typing import Any

import flask_babel
from flask import g, has_app_context
from flask_babel import LazyString, get_translations


def translations() -> Any:
    """The current locale's translations (in an app context)."""
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    cached = g.get("_trygg_translations")
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    found = get_translations()
    g._trygg_translations = (getattr(g.get("_flask_babel"), "babel_locale", None), found)
    return found


def gettext(string: str, **variables: Any) -> str:
    """flask_babel's `gettext`: the translation, formatted with `variables`."""
    if not has_app_context():
        return flask_babel.gettext(string, **variables)
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """flask_babel's `ngettext` (`num` is available to the format as %(num)s)."""
    if not has_app_context():
        return flask_babel.ngettext(singular, plural, num, **variables)
    variables.setdefault("num", num)
    return str(translations().ungettext(singular, plural, num) % variables)


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """flask_babel's `lazy_gettext`: translated when used, through `gettext` above."""
    return LazyString(gettext, string, **variables)


def pgettext(context: str, string: str, **variables: Any) -> str:
    """The translation of `string` in `context`: for a word that English spells the same
    in two senses ("Report": the verb on a short menu label, the noun elsewhere)."""
    if not has_app_context():
        return flask_babel.pgettext(context, string, **variables)
    text = translations().upgettext(context, string)
    return text % variables if variables else text


def lazy_pgettext(context: str, string: str, **variables: Any) -> LazyString:
    """`pgettext`, translated when used."""
    return LazyString(pgettext, context, string, **variables)
