"""Answers worth asking once per reading request.

A GET or HEAD changes no one's access, memberships or units, so what a page asks about
them several times (may this handler handle the case, which units does this safety
representative represent, whom does this person lead) is computed once per request and
kept in `flask.g`. A POST may change them (recusal, assignment, a group's members), so
there, and outside a request, every question is computed afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import g, has_request_context, request

T = TypeVar("T")


def once_per_reading_request(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` for `key`, once per GET or HEAD request (kept under `name`)."""
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return compute()
    known: dict[Hashable, T] = g.setdefault(f"_reading_{name}", {})
    if key not in known:
        known[key] = compute()
    return known[key]
