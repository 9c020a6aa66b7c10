"""Codes that people copy by hand: Crockford's base32, shown in groups of four.

No I, L, O or U, so a code read aloud or written on paper survives; case, spaces and
dashes do not matter when it is typed back, and O reads as 0, I and L as 1. Used for
the anonymous link's receipts and for set-password codes.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # 32 symbols: 5 bits each
GROUP = 4
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Typed or pasted between the symbols: spaces and dashes of every kind, and the invisible
# characters a copy from an e-mail or a PDF brings along (soft hyphen, zero-width space,
# word joiner, byte-order mark, narrow no-break space).
_SEPARATORS = str.maketrans(
    "",
    "",
    " -_.\t\r\n\u00a0\u00ad\u2009\u200b\u200c\u200d\u2010\u2011\u2012\u2013\u2014"
    "\u2060\u202f\u2212\u3000\ufeff",
)


def new_code(length: int) -> str:
    """A fresh random code of `length` symbols (5 bits each)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def format_code(code: str) -> str:
    """The code in groups of four for reading and writing: K7M2-QX9P-..."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def typed_length(text: str) -> int:
    """How many symbols a person typed, not counting the spaces and dashes."""
    return len(text.translate(_SEPARATORS))


def normalise_code(text: str, length: int) -> str | None:
    """The canonical code from what a person typed, or None if it cannot be one."""
    code = text.translate(_SEPARATORS).upper().translate(_CONFUSABLE)
    if len(code) != length or any(ch not in ALPHABET for ch in code):
        return None
    return code
