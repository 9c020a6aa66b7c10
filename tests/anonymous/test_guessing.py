"""Guessing receipt codes is slowed per network, without locking anyone else out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from reporting import anonymous
from reporting.models import AnonymousThrottle
from tests.anonymous.conftest import follow
from tests.factories import csrf_token
from tests.factories import submit_anonymous as submit
from trygg.extensions import db, utcnow


def _guesses(client, count: int, remote: str) -> list[int]:
    token = csrf_token(client)
    codes = []
    for _ in range(count):
        response = client.post(
            "/api/v1/anonymous/session",
            json={"receipt": anonymous.format_receipt(anonymous.new_receipt())},
            headers={"X-CSRFToken": token},
            environ_base={"REMOTE_ADDR": remote},
        )
        codes.append(response.status_code)
        if response.status_code == 429:
            assert 0 < int(response.headers["Retry-After"]) <= 3601
    return codes


def test_a_thousand_guesses_are_cut_off_after_a_hundred_and_others_still_get_in(
    anon_app, anon_client
):
    receipt = submit(anon_client, remote="192.0.2.50").get_json()["receipt"]
    codes = _guesses(anon_client, 1000, remote="203.0.113.66")
    assert codes[:100] == [401] * 100
    assert codes[100:] == [429] * 900
    # The same network, from another address in its /24, is held up too, even with
    # the right code...
    assert follow(anon_client, receipt, remote="203.0.113.200").status_code == 429
    # ...but someone with the right code on another network gets in at once.
    other = anon_app.test_client()
    assert follow(other, receipt, remote="198.51.100.20").status_code == 200
    assert other.get("/api/v1/anonymous/report").status_code == 200


def test_a_flood_from_many_networks_holds_up_only_networks_that_failed(make_app):
    app = make_app(anonymous_enabled=True, receipt_flood_failures_per_hour=20)
    client = app.test_client()
    receipt = submit(client).get_json()["receipt"]
    for n in range(25):
        assert _guesses(client, 1, remote=f"10.{n}.0.1") == [401]
    # One of the attacking networks tries again within the minute: it must wait.
    assert _guesses(client, 1, remote="10.3.0.9") == [429]
    # A network that has not failed may still try, and the right code still works.
    assert _guesses(client, 1, remote="10.200.0.1") == [401]
    assert follow(app.test_client(), receipt, remote="172.16.5.5").status_code == 200


def test_successes_are_not_counted_as_failures(make_app):
    client = make_app(anonymous_enabled=True, receipt_failures_per_hour=3).test_client()
    receipt = submit(client).get_json()["receipt"]
    for _ in range(5):
        assert follow(client, receipt, remote="192.0.2.77").status_code == 200
    # A follow-up leaves no counter behind: a row at 0 would date the visit to the minute.
    with client.application.app_context():
        receipts = select(AnonymousThrottle).where(AnonymousThrottle.kind == "receipt")
        assert db.session.scalars(receipts).all() == []
    assert _guesses(client, 4, remote="192.0.2.77") == [401, 401, 401, 429]


def test_the_limit_lifts_after_the_hour_and_old_counters_are_deleted(anon_app):
    with anon_app.test_request_context():
        start = utcnow() - timedelta(hours=30)
        for _ in range(100):
            anonymous.begin_receipt_attempt("192.0.2.1", now=start)
        with pytest.raises(anonymous.Throttled) as refused:
            anonymous.begin_receipt_attempt("192.0.2.1", now=start + timedelta(minutes=30))
        assert 1740 <= refused.value.retry_after <= 1802  # to the minute
        anonymous.begin_receipt_attempt("192.0.2.1", now=start + timedelta(minutes=61))
        assert db.session.scalars(select(AnonymousThrottle)).all()
        anonymous.begin_receipt_attempt("192.0.2.1", now=start + timedelta(hours=26))
        rows = db.session.scalars(select(AnonymousThrottle)).all()
        assert [row.count for row in rows] == [1]  # a day's old rows went with this write


def test_the_counters_hold_no_addresses(anon_app, anon_client):
    submit(anon_client, remote="203.0.113.44")
    _guesses(anon_client, 3, remote="203.0.113.44")
    with anon_app.app_context():
        rows = db.session.scalars(select(AnonymousThrottle)).all()
        assert {row.kind for row in rows} == {"receipt", "submit"}
        for row in rows:
            assert len(row.network) == 64
            assert "203.0.113" not in row.network
            assert row.bucket.second == 0
            assert row.bucket.microsecond == 0
            if row.kind == "submit":
                assert row.bucket.minute == 0  # an hour, no finer


def test_the_network_tag_changes_every_day(anon_app):
    with anon_app.app_context():
        now = utcnow()
        today, yesterday = anonymous.network_tags("192.0.2.1", now)
        assert today != yesterday
        assert anonymous.network_tags("192.0.2.254", now)[0] == today
        assert anonymous.network_tags("192.0.3.1", now)[0] != today


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("192.0.2.77", "192.0.2.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("::ffff:192.0.2.77", "192.0.2.0/24"),
        ("fe80::1%eth0", "fe80::/48"),
        (None, "unknown"),
        ("not an address", "unknown"),
    ],
)
def test_client_network(address, network):
    assert anonymous.client_network(address) == network
