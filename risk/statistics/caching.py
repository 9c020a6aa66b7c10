"""The per-process cache of protected quarters and the way a quarter's protection is
found: in this process (CACHE), in a `Stored` (risk/patterns.py, by the SHA-256 keys of
stored.py), or protected afresh. risk.statistics.publish walks each quarter through it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from threading import Lock
from typing import TypeVar

from risk.statistics.stored import Marks, Stored, dimension_key, totals_key

R = TypeVar("R")
# A quarter's counts as publish() reads them: (unit, anonymous, month, category) -> n.
RawCounts = Mapping[tuple[int | None, bool, date, str], int]


def digest(*parts: object) -> int:
    """A cache key for what a quarter's protection depends on (its counts and shape)."""
    return hash(tuple(frozenset(p.items()) if isinstance(p, dict) else p for p in parts))


def check(*parts: object) -> int:
    """A second, independent 64-bit digest: with the key, 128 bits must match for a hit."""
    return hash(
        tuple(
            frozenset((v, k) for k, v in p.items()) if isinstance(p, dict) else (p, len(str(p)))
            for p in parts
        )
    )


class Cache:
    """Per-process cache of protected quarters, keyed by everything they depend on.

    A hit needs a second, independent digest of the counts to match as well, so another
    quarter's pattern is never returned by chance (two 64-bit hashes; storing the counts
    themselves would cost a worker tens of megabytes).
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.items: OrderedDict[int, tuple[object, object]] = OrderedDict()
        self.lock = Lock()

    def get(self, key: int, basis: object) -> object | None:
        with self.lock:
            found = self.items.get(key)
            if found is None or found[0] != basis:
                return None
            self.items.move_to_end(key)
            return found[1]

    def put(self, key: int, basis: object, value: object) -> None:
        with self.lock:
            self.items[key] = (basis, value)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


CACHE = Cache()


def plan_totals(
    quarter: date,
    raw: Mapping[tuple[int, int, str], int],
    shape: int,
    basis: list[object],
    stored: Stored | None,
) -> Plan:
    """A quarter's totals: their in-process keys, what this process has, and (with a
    `stored`) the stored key when this process has nothing."""
    t_counts = {(b, m): n for (b, m, _c), n in raw.items()}
    plan = Plan(quarter, t_counts, digest(shape, t_counts), check(shape, t_counts))
    plan.t_found, plan.t_key = cached(plan.t_hash, plan.t_check)
    if stored is not None and plan.t_key is None:
        plan.t_key = totals_key(basis, 3, t_counts)
    return plan


def plan_dimension(
    plan: Plan,
    dimension: tuple[str, list[str], bool, RawCounts],
    cells: Mapping[tuple[int, int, str], int],
    stored: Stored | None,
) -> None:
    """The same for a quarter's breakdown by the dimension."""
    code, cols, multi, _raw = dimension
    plan.cells = dict(cells)
    plan.d_hash = digest(plan.t_hash, code, tuple(cols), multi, plan.cells)
    plan.d_check = check(plan.t_check, code, tuple(cols), multi, plan.cells)
    plan.d_found, plan.d_key = cached(plan.d_hash, plan.d_check)
    if stored is not None and plan.d_key is None and plan.t_key is not None:
        plan.d_key = dimension_key(plan.t_key, code, cols, multi, plan.cells)


def lookup(plans: list[Plan], stored: Stored | None) -> Mapping[str, Marks]:
    """The stored marks of every result this process does not have, in one lookup."""
    if stored is None:
        return {}
    missing = [p.t_key for p in plans if p.t_found is None and p.t_key]
    missing += [p.d_key for p in plans if p.d_found is None and p.d_key]
    return stored.lookup(missing) if missing else {}


def resolve(
    found: object | None,
    kind: type[R],
    digest: int,
    check: int,
    key: str | None,
    kept: Mapping[str, Marks],
    stored: Stored | None,
    protect: Callable[[], R],
    encode: Callable[[R], Marks],
    decode: Callable[[Marks], R],
) -> R:
    """One protection result (a quarter's totals or its breakdown): this process's own
    (marked used in `stored`), else the stored one, else protected now and stored; kept
    in this process either way. The marks are the same whichever way they came."""
    if isinstance(found, kind):
        if stored is not None and key is not None:
            stored.touch(key, partial(encode, found))
        return found
    if key is not None and key in kept:
        result = decode(kept[key])
    else:
        result = protect()
        if stored is not None and key is not None:
            stored.store(key, encode(result))
    CACHE.put(digest, check, (result, key))
    return result


def cached(key: int, check: int) -> tuple[object | None, str | None]:
    """A result this process has (with its stored key, if it had one), or (None, None)."""
    found = CACHE.get(key, check)
    if isinstance(found, tuple):
        return found[0], found[1]
    return None, None


@dataclass
class Plan:
    """One quarter on its way through publish(): its counts, keys and what was found."""

    quarter: date
    t_counts: dict[tuple[int, int], int]
    t_hash: int
    t_check: int
    t_found: object | None = None
    t_key: str | None = None
    cells: dict[tuple[int, int, str], int] = field(default_factory=dict)
    d_hash: int | None = None
    d_check: int | None = None
    d_found: object | None = None
    d_key: str | None = None
