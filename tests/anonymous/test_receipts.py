"""Receipt codes: forgiving to type, never stored, and not cheaply confirmable."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from sqlalchemy import select

from reporting import anonymous
from reporting.anonymous import receipts
from reporting.models import AnonymousReceipt
from tests.factories import submit_anonymous as submit
from trygg import crypto, keys, typed_codes
from trygg.extensions import db


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("K7M2-QX9P-0000-1111-ZZZZ", "K7M2QX9P00001111ZZZZ"),
        ("k7m2 qx9p oooo iiii zzzz", "K7M2QX9P00001111ZZZZ"),
        ("K7M2QX9PO0O0lLlLZZZZ", "K7M2QX9P00001111ZZZZ"),
        ("  K7M2–QX9P–0000–1111–ZZZZ\n", "K7M2QX9P00001111ZZZZ"),
        ("K7M2-QX9P-0000-1111-ZZZ", None),  # too short
        ("K7M2-QX9P-0000-1111-ZZZZU", None),  # too long, and U is not in the alphabet
        ("K7M2-QX9P-0000-1111-ZZZU", None),
        ("", None),
    ],
)
def test_normalise(typed, expected):
    assert anonymous.normalise_receipt(typed) == expected


def test_new_receipts_have_100_bits_in_groups_of_four():
    code = anonymous.new_receipt()
    assert len(code) == 20
    assert set(code) <= set(typed_codes.ALPHABET)
    assert len(typed_codes.ALPHABET) == 32  # 20 × 5 = 100 bits
    groups = anonymous.format_receipt(code).split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4, 4]


def _cheap_derivations(code: str) -> list[bytes]:
    """Values an attacker could compute quickly from a guess, in text and raw form."""
    ring = keys.keyring()
    pepper = ring.derive("receipt")
    values = [
        hashlib.sha256(code.encode()).digest(),
        hmac.new(ring.derive("receipt-hint"), code.encode(), hashlib.sha256).digest(),
        crypto.key_from_secret(code, "receipt:verify", salt=pepper),
        crypto.key_from_secret(code, "receipt:unlock", salt=pepper),
    ]
    out: list[bytes] = [code.encode(), anonymous.format_receipt(code).encode()]
    for value in values:
        out += [value, value.hex().encode()]
    return out


def test_only_a_short_hint_a_slow_verifier_and_a_sealed_link_are_stored(anon_app, anon_client):
    code = anonymous.normalise_receipt(submit(anon_client).get_json()["receipt"])
    with anon_app.app_context():
        row = db.session.scalars(select(AnonymousReceipt)).one()
        assert len(row.hint) == 4  # 16 bits: a hint narrows, it cannot confirm
        assert row.verifier.startswith("$argon2id$")
        assert row.unlock_kdf.startswith("argon2id:")
        assert len(row.unlock_salt) == 16
        stored = b"|".join(
            [row.hint.encode(), row.verifier.encode(), row.unlock_kdf.encode(), row.report_link]
        )
        for value in _cheap_derivations(code):
            # No stored value equals (or contains) something computable quickly from a guess.
            assert value not in stored
        # The link does not open with the quickly derived unlock value: it needs argon2id.
        quick = crypto.DataKey(
            crypto.key_from_secret(code, "receipt:unlock", salt=keys.keyring().derive("receipt"))
        )
        with pytest.raises(crypto.CryptoError):
            quick.open(row.report_link, table="anonymous_receipt", column="report_link", row=row.id)


def test_a_wrong_code_with_the_same_hint_is_refused(anon_app, anon_client):
    code = anonymous.normalise_receipt(submit(anon_client).get_json()["receipt"])
    with anon_app.app_context():
        hint = receipts.hint(code)  # the test needs a colliding guess
        while True:
            guess = anonymous.new_receipt()
            if receipts.hint(guess) == hint and guess != code:
                break
        with pytest.raises(anonymous.ReceiptInvalid):
            anonymous.open_receipt(guess)
        assert anonymous.open_receipt(code).anonymous
