"""Answers worth asking once per reading request.

A GET or HEAD changes no one's access, memberships or units, so what a page asks about
them several times (may this handler handle the case, which units does this safety
representative represent, whom does this person lead) is computed once per request and
kept with that request (its WSGI environ). A POST may change them (recusal, assignment,
a group's members), so there, and outside a request, every question is computed afresh.

Not in `flask.g`: `g` belongs to the app context, and a request pushes its own only
when none is pushed yet, so requests made inside one app context (a test, a script
with the test client) would share each other's answers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import has_request_context, request

T = TypeVar("T")

_KEPT = "trygg.reading"


def once_per_reading_request(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` for `key`, once per GET or HEAD request (kept under `name`)."""
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return compute()
    kept: dict[str, dict[Hashable, Any]] = request.environ.setdefault(_KEPT, {})
    known = kept.setdefault(name, {})
    if key not in known:
        known[key] = compute()
    return known[key]
