"""Helpers for the kernel's tests: reading the audit log and changing it with SQL."""

from __future__ import annotations

from sqlalchemy import select, text

from trygg.audit import AuditEntry
from trygg.extensions import db

NEW_PASSWORD = "a brand new passphrase"


def entries(app) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def sql(app, statement: str, **params) -> None:
    with app.app_context():
        db.session.execute(text(statement), params)
        db.session.commit()
