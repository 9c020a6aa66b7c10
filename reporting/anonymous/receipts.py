"""Receipt codes: issued once with a report, the only key back to it.

The receipt is kept only as a 16-bit hint, an argon2id verifier and a sealed link
(models.AnonymousReceipt), so stored data cannot confirm a guessed code quickly.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import date, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlalchemy import select

from reporting.models import AnonymousReceipt, Report
from trygg import crypto, keys, privacy, sealing, typed_codes
from trygg.extensions import db, utcnow

RECEIPT_LENGTH = 20  # 20 × 5 bits = 100 bits of entropy
HINT_HEX = 4  # 16 bits: narrows the rows to try, confirms nothing


class ReceiptInvalid(Exception):
    """The receipt code does not open a report. Deliberately says no more than that."""


def _cfg(key: str) -> int:
    return int(current_app.config["TRYGG"][key])


def new_receipt() -> str:
    """A fresh receipt code: 20 characters of Crockford base32 (100 bits)."""
    return typed_codes.new_code(RECEIPT_LENGTH)


def format_receipt(code: str) -> str:
    """The code in groups of four for reading and writing: K7M2-QX9P-..."""
    return typed_codes.format_code(code)


def normalise_receipt(text: str) -> str | None:
    """The canonical code from what a person typed, or None if it cannot be one.

    Case, spaces and dashes do not matter; O reads as 0 and I or L as 1.
    """
    return typed_codes.normalise_code(text, RECEIPT_LENGTH)


def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=_cfg("argon2_time_cost"),
        memory_cost=_cfg("argon2_memory_kib"),
        parallelism=_cfg("argon2_parallelism"),
    )


def _derive(code: str, purpose: str) -> bytes:
    # The keyring's pepper: without the keyring file, not even this step can be redone.
    return crypto.key_from_secret(code, purpose, salt=keys.keyring().derive("receipt"))


def hint(code: str) -> str:
    """The 16-bit hint stored beside a receipt: which rows to try, and nothing more."""
    return crypto.keyed_hash(keys.keyring().derive("receipt-hint"), code)[:HINT_HEX]


def report_tag(report_id: int) -> str:
    """The keyed hash that lets retention find a report's receipt (the database alone
    cannot compute it, so it links nothing for someone holding only the database)."""
    return crypto.keyed_hash(keys.keyring().derive("receipt-report"), str(report_id))


def month_of(moment: date | datetime) -> date:
    return date(moment.year, moment.month, 1)


def _unlock_key(code: str, kdf: str, salt: bytes) -> crypto.DataKey:
    name, params = kdf.split(":", 1)
    if name != "argon2id":
        raise crypto.CryptoError("unknown receipt key derivation")
    costs = dict(part.split("=", 1) for part in params.split(","))
    return crypto.stretched_key(
        _derive(code, "receipt:unlock"),
        salt=salt,
        time_cost=int(costs["t"]),
        memory_kib=int(costs["m"]),
        parallelism=int(costs["p"]),
    )


def issue_receipt(report: Report) -> str:
    """Create the receipt that opens `report`; return the code (never stored)."""
    code = new_receipt()
    kdf = "argon2id:m={},t={},p={}".format(
        _cfg("argon2_memory_kib"), _cfg("argon2_time_cost"), _cfg("argon2_parallelism")
    )
    salt = secrets.token_bytes(16)
    row = AnonymousReceipt(
        id=privacy.random_row_id(AnonymousReceipt),
        hint=hint(code),
        verifier=_hasher().hash(_derive(code, "receipt:verify")),
        unlock_kdf=kdf,
        unlock_salt=salt,
        report_link=b"",
        report_tag=report_tag(report.id),
        used_month=month_of(utcnow()),
    )
    db.session.add(row)
    db.session.flush()
    row.report_link = sealing.seal(_unlock_key(code, kdf, salt), row, "report_link", str(report.id))
    db.session.flush()
    return code


def _dummy_verifier() -> str:
    """A verifier no code matches, to spend the same time when no row has the hint."""
    cache: dict[str, str] = current_app.extensions.setdefault("trygg.receipt_dummy", {})
    params = "{}:{}:{}".format(
        _cfg("argon2_memory_kib"), _cfg("argon2_time_cost"), _cfg("argon2_parallelism")
    )
    if params not in cache:
        cache[params] = _hasher().hash(secrets.token_bytes(32))
    return cache[params]


def open_receipt(text: str) -> Report:
    """The anonymous report a typed receipt code opens; ReceiptInvalid otherwise."""
    code = normalise_receipt(text)
    if code is None:
        raise ReceiptInvalid()
    verify = _derive(code, "receipt:verify")
    hasher = _hasher()
    candidates = list(
        db.session.scalars(select(AnonymousReceipt).where(AnonymousReceipt.hint == hint(code)))
    )
    if not candidates:
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_verifier(), verify)
        raise ReceiptInvalid()
    for row in candidates:
        try:
            hasher.verify(row.verifier, verify)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            continue
        try:
            link = sealing.open_text(
                _unlock_key(code, row.unlock_kdf, row.unlock_salt),
                row,
                "report_link",
                row.report_link,
            )
        except crypto.CryptoError:
            raise ReceiptInvalid() from None
        report = db.session.get(Report, int(link))
        if report is None or not report.anonymous or report.erased_month is not None:
            raise ReceiptInvalid()  # the report was deleted (retention)
        if row.used_month != month_of(utcnow()):
            row.used_month = month_of(utcnow())
        return report
    raise ReceiptInvalid()
