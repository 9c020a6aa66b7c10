"""The check that the trends rollup equals a hand GROUP BY over the base tables."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask

from risk import base, data
from risk.dimensions import DIMENSIONS
from trygg.extensions import db

ALL_TIME = (date(2000, 1, 1), date(2100, 12, 1))


def differences(app: Flask) -> dict[str, Any]:
    """Per figure, what the rollup says where it differs from the base tables."""
    out: dict[str, Any] = {}
    with app.app_context():
        db.session.expire_all()
        pairs = {"total": (data.totals(*ALL_TIME), base.totals(*ALL_TIME))}
        for code, dimension in DIMENSIONS.items():
            pairs[code] = (data.counts(dimension, *ALL_TIME), base.counts(dimension, *ALL_TIME))
        close = base.close_histogram(*ALL_TIME)
        pairs["close"] = (data.close_counts(*ALL_TIME), close)
        org: dict[Any, int] = {}
        for (_u, _a, month, tenths), n in close.items():
            org[None, False, month, tenths] = org.get((None, False, month, tenths), 0) + n
        pairs["close_org"] = (data.close_counts(*ALL_TIME, dimension=data.CLOSE_ORG), org)
        for name, (rolled, counted) in pairs.items():
            rolled = {k: n for k, n in rolled.items() if n}
            counted = {k: n for k, n in counted.items() if n}
            if rolled != counted:
                keys = set(rolled) | set(counted)
                out[name] = {
                    k: (rolled.get(k), counted.get(k))
                    for k in keys
                    if rolled.get(k) != counted.get(k)
                }
    return out
