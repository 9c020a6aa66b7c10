"""Reading what was notified: rows per user, and the kinds each user got."""

from __future__ import annotations

from collections import defaultdict

from flask import Flask
from sqlalchemy import select

from notifications.models import Notification
from trygg.extensions import db


def rows(app: Flask) -> list[Notification]:
    with app.app_context():
        found = list(db.session.scalars(select(Notification).order_by(Notification.id)))
        db.session.remove()
        return found


def kinds_by_user(app: Flask) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for row in rows(app):
        out[row.user_id].append(row.kind)
    return {user: sorted(kinds) for user, kinds in out.items()}
