"""Reminder lead times per deadline kind (admin-editable; defaults in kinds.py).

The deadline kinds and their labels belong to handling, which registers them at set-up
(`register_deadline_kinds`), so this package shows and stores lead times without
knowing what a deadline is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from flask_babel import LazyString
from sqlalchemy import select

from notifications.kinds import DEFAULT_LEAD_MINUTES, FALLBACK_LEAD_MINUTES
from notifications.models import ReminderPolicy
from notifications.preferences import PreferenceError
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

# Up to 90 days before a deadline.
MAX_LEAD_MINUTES = 90 * 24 * 60

_KINDS: dict[str, LazyString] = {}


def register_deadline_kinds(kinds: Mapping[str, LazyString]) -> None:
    """The deadline kinds (code → label) whose reminders admins may tune."""
    _KINDS.update(kinds)


def deadline_kinds() -> dict[str, LazyString]:
    return dict(_KINDS)


def lead_minutes() -> dict[str, int]:
    """Every registered kind's lead time in minutes: stored, else the default."""
    stored = dict(
        db.session.execute(select(ReminderPolicy.kind, ReminderPolicy.lead_minutes)).all()
    )
    kinds = set(_KINDS) | set(stored)
    return {
        kind: int(stored.get(kind, DEFAULT_LEAD_MINUTES.get(kind, FALLBACK_LEAD_MINUTES)))
        for kind in sorted(kinds)
    }


def lead_times() -> dict[str, timedelta]:
    return {kind: timedelta(minutes=m) for kind, m in lead_minutes().items()}


def save_lead_minutes(values: Mapping[str, int]) -> dict[str, int]:
    """Store lead times; PreferenceError naming the kind when one is out of range."""
    for kind, minutes in values.items():
        if kind not in _KINDS:
            raise PreferenceError(_l("This field is not expected here."), kind)
        if not 0 <= minutes <= MAX_LEAD_MINUTES:
            raise PreferenceError(
                _l("Give a time from 0 to %(n)s hours.", n=MAX_LEAD_MINUTES // 60), kind
            )
    for kind, minutes in values.items():
        row = db.session.get(ReminderPolicy, kind)
        if row is None:
            db.session.add(ReminderPolicy(kind=kind, lead_minutes=minutes))
        else:
            row.lead_minutes = minutes
    db.session.flush()
    return lead_minutes()
