"""Limits on the anonymous link, counted per client network, never per address.

Counters are kept per network under a keyed hash that changes daily (so a stored tag
cannot be matched to a network for longer than the rows are kept), in minute buckets
for receipt guesses and clock-hour buckets for submissions; rows older than a day are
deleted as new ones are written.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from reporting.models import AnonymousThrottle
from trygg import crypto, keys
from trygg.database import lock_until_commit
from trygg.extensions import db, utcnow

RECEIPT_KIND = "receipt"
SUBMIT_KIND = "submit"
WINDOW = timedelta(hours=1)
RECENT = timedelta(minutes=1)
KEEP = timedelta(days=1)


class Throttled(Exception):
    """Too many attempts from this network; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = max(1, int(retry_after))


def _cfg(key: str) -> int:
    return int(current_app.config["TRYGG"][key])


# -- client networks --------------------------------------------------------------------


def client_network(address: str | None) -> str:
    """The network an address belongs to: IPv4 /24 or IPv6 /48 ("unknown" if none)."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _network_tag(network: str, day: datetime) -> str:
    key = keys.keyring().derive("throttle:" + day.date().isoformat())
    return crypto.keyed_hash(key, network)


def _lock_network(kind: str, address: str | None) -> None:
    """Hold the network's counters of one kind until commit (see begin_receipt_attempt).

    Under a keyed hash that does not change at midnight, so attempts either side of it
    wait for each other too; nothing of it is stored.
    """
    network = client_network(address)
    lock_until_commit(
        "anonymous:" + kind, crypto.keyed_hash(keys.keyring().derive("lock"), network)
    )


def network_tags(address: str | None, now: datetime) -> list[str]:
    """Today's keyed hash of the client's network first, then yesterday's.

    The key changes every (UTC) day, so a stored tag cannot be matched to a network
    for longer than the rows are kept; windows that span midnight look up both.
    """
    network = client_network(address)
    return [_network_tag(network, now), _network_tag(network, now - timedelta(days=1))]


# -- throttle counters ------------------------------------------------------------------


def _minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def _hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def _purge(now: datetime) -> None:
    db.session.execute(delete(AnonymousThrottle).where(AnonymousThrottle.bucket < now - KEEP))


def _bump(kind: str, network: str, bucket: datetime, delta: int) -> None:
    """Add `delta` to one counter, creating it when missing (safe under concurrency)."""
    where = (
        AnonymousThrottle.kind == kind,
        AnonymousThrottle.network == network,
        AnonymousThrottle.bucket == bucket,
    )
    bump = update(AnonymousThrottle).where(*where).values(count=AnonymousThrottle.count + delta)
    if db.session.execute(bump).rowcount == 0:  # type: ignore[attr-defined]
        # In a savepoint: a concurrent creator's unique-key win must not abort us.
        try:
            with db.session.begin_nested():
                db.session.execute(
                    insert(AnonymousThrottle).values(
                        kind=kind, network=network, bucket=bucket, count=delta
                    )
                )
        except IntegrityError:
            db.session.execute(bump)


def _counts(kind: str, since: datetime, networks: list[str] | None) -> list[tuple[datetime, int]]:
    """(bucket, count) of one kind after `since`, oldest first; all networks if None."""
    query = (
        select(AnonymousThrottle.bucket, func.sum(AnonymousThrottle.count))
        .where(AnonymousThrottle.kind == kind, AnonymousThrottle.bucket > since)
        .group_by(AnonymousThrottle.bucket)
        .order_by(AnonymousThrottle.bucket)
    )
    if networks is not None:
        query = query.where(AnonymousThrottle.network.in_(networks))
    return [(bucket, int(count or 0)) for bucket, count in db.session.execute(query)]


def _seconds_until(moment: datetime, now: datetime) -> int:
    return math.ceil((moment - now).total_seconds()) + 1


def _wait_for_window(rows: list[tuple[datetime, int]], limit: int, now: datetime) -> int:
    """Seconds until the count in the hour window falls below `limit` again."""
    remaining = sum(count for _, count in rows)
    for bucket, count in rows:
        remaining -= count
        if remaining < limit:
            return _seconds_until(bucket + WINDOW, now)
    return _seconds_until(now + WINDOW, now)


@dataclass(frozen=True)
class Attempt:
    """A receipt attempt counted in advance; `succeeded()` takes it back."""

    network: str
    bucket: datetime

    def succeeded(self) -> None:
        """Take the attempt back, and the row with it when nothing else is counted in
        it: a row at 0 would say, to the minute, that someone of this network followed
        up their report (the network's counters are locked until commit)."""
        _bump(RECEIPT_KIND, self.network, self.bucket, -1)
        db.session.execute(
            delete(AnonymousThrottle).where(
                AnonymousThrottle.kind == RECEIPT_KIND,
                AnonymousThrottle.network == self.network,
                AnonymousThrottle.bucket == self.bucket,
                AnonymousThrottle.count <= 0,
            )
        )


def begin_receipt_attempt(address: str | None, now: datetime | None = None) -> Attempt:
    """Count a receipt attempt as failed in advance, or raise Throttled.

    Limits: `receipt_failures_per_hour` per network. When all networks together have
    failed `receipt_flood_failures_per_hour` times in the hour (a distributed attack), a
    network that failed within the last minute or two must also wait; a network with no
    recent failure (someone with their real code) is never held up by others.

    A refused attempt writes nothing and is not counted. An accepted one is counted
    before the code is checked. The network's counters are locked before they are read
    (trygg.database.lock_until_commit) until the request commits, so guesses from one
    network are checked one after the other: parallel guesses cannot all pass the check
    before any is counted, also when they fall in different minutes' counter rows.
    """
    now = now or utcnow()
    _lock_network(RECEIPT_KIND, address)
    tags = network_tags(address, now)
    bucket = _minute(now)
    limit = _cfg("receipt_failures_per_hour")
    mine = _counts(RECEIPT_KIND, now - WINDOW, tags)
    if sum(count for _, count in mine) >= limit:
        raise Throttled(_wait_for_window(mine, limit, now))
    flood = sum(count for _, count in _counts(RECEIPT_KIND, now - WINDOW, None))
    if flood >= _cfg("receipt_flood_failures_per_hour"):
        recent = [(b, c) for b, c in mine if b >= bucket - RECENT and c > 0]
        if recent:
            raise Throttled(_seconds_until(recent[-1][0] + 2 * RECENT, now))
    _purge(now)
    _bump(RECEIPT_KIND, tags[0], bucket, 1)
    return Attempt(tags[0], bucket)


def count_submission(address: str | None, now: datetime | None = None) -> None:
    """Count one anonymous report from this network, or raise Throttled.

    Counted per clock hour: a finer bucket would date the report more precisely than
    the day, for as long as the row is kept. Locked like receipt attempts.
    """
    now = now or utcnow()
    _lock_network(SUBMIT_KIND, address)
    tags = network_tags(address, now)
    bucket = _hour(now)
    limit = _cfg("anonymous_submissions_per_hour")
    since = bucket - timedelta(seconds=1)
    if sum(count for _, count in _counts(SUBMIT_KIND, since, tags)) >= limit:
        raise Throttled(_seconds_until(bucket + WINDOW, now))
    _purge(now)
    _bump(SUBMIT_KIND, tags[0], bucket, 1)
