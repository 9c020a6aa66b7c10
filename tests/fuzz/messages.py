"""Is an error message a Norwegian translation from the catalogue?

The fuzzer asks in Norwegian (the default). A message that is no catalogue entry's
translation (with its placeholders filled in) is an English msgid that skipped gettext,
or an exception's own text leaking to the client.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).parents[2] / "trygg/translations/nb/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")


@functools.cache
def _patterns() -> re.Pattern[str]:
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    alternatives = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if text:
                parts = PLACEHOLDER.split(text)
                alternatives.append(".+?".join(re.escape(part) for part in parts))
    return re.compile("|".join(f"(?:{a})" for a in sorted(alternatives, key=len, reverse=True)))


def untranslated(messages: Iterable[object]) -> list[object]:
    """The messages that are not a translation from the Norwegian catalogue."""
    pattern = _patterns()
    return [m for m in messages if not isinstance(m, str) or not pattern.fullmatch(m)]
