"""Settings an admin changes at run time, stored in the database.

A few settings (such as whether the anonymous link is open) belong to the organisation
rather than to the deployment: an admin switches them in a page, and the choice must hold
for every process and host. `effective()` gives the stored value when there is one, else
the configured default (config/defaults.toml → TRYGG_CONFIG → TRYGG_* environment).
Every change is written to the audit log.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trygg import audit
from trygg.extensions import db

# Settings that may be stored here; anything else is a programming error.
ADJUSTABLE = frozenset({"anonymous_enabled"})


class SiteSetting(db.Model):  # type: ignore[name-defined]
    """One stored setting: its key and its JSON value."""

    __tablename__ = "site_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def _check(key: str) -> None:
    if key not in ADJUSTABLE:
        raise KeyError(f"{key} is not a setting that can be changed at run time")


def stored(key: str) -> Any | None:
    """The value stored in the database, or None when none is stored."""
    _check(key)
    row = db.session.get(SiteSetting, key)
    return None if row is None else json.loads(row.value)


def effective(key: str) -> Any:
    """The stored value when set, else the configured default."""
    value = stored(key)
    return current_app.config["TRYGG"][key] if value is None else value


def change(key: str, value: Any, *, actor: str) -> None:
    """Store a value (in the current transaction) and audit the change."""
    _check(key)
    like = current_app.config["TRYGG"][key]
    if type(value) is not type(like):
        raise TypeError(f"{key} must be {type(like).__name__}")
    before = effective(key)
    row = db.session.get(SiteSetting, key)
    encoded = json.dumps(value)
    if row is None:
        db.session.add(SiteSetting(key=key, value=encoded))
    else:
        row.value = encoded
    db.session.flush()
    audit.record(
        "setting.change",
        actor=actor,
        object_type="setting",
        object_id=key,
        detail={"before": before, "after": value},
    )


def forget(key: str, *, actor: str) -> None:
    """Remove the stored value, so the configured default applies again."""
    _check(key)
    row = db.session.get(SiteSetting, key)
    if row is None:
        return
    before = json.loads(row.value)
    db.session.delete(row)
    db.session.flush()
    audit.record(
        "setting.reset",
        actor=actor,
        object_type="setting",
        object_id=key,
        detail={"before": before, "after": current_app.config["TRYGG"][key]},
    )
