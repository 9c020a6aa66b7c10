"""The audit log: actions append hash-chained entries; `trygg audit verify` finds tampering."""

from __future__ import annotations

import json
from contextlib import suppress

import pytest
from sqlalchemy.exc import IntegrityError

from tests.factories import api_login, csrf_token, form_login, form_token
from tests.kernel.support import NEW_PASSWORD, entries, sql
from trygg import audit
from trygg.audit import AuditEntry
from trygg.extensions import db
from trygg.org import Unit
from trygg.roles import Role


def test_operator_actions_are_logged_in_a_chain(chain):
    assert [(e.seq, e.action, e.actor, e.object_type) for e in chain] == [
        (1, "unit.create", "cli", "unit"),
        (2, "unit.create", "cli", "unit"),
        (3, "user.create", "cli", "user"),
        (4, "user.password", "cli", "user"),
        (5, "user.deactivate", "cli", "user"),
    ]
    assert chain[0].prev_hash == audit.GENESIS
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.prev_hash == before.hash
    assert chain[2].object_id == chain[3].object_id == chain[4].object_id
    assert chain[2].detail_dict() == {"roles": [Role.EMPLOYEE], "units": [int(chain[1].object_id)]}


def test_verify_passes_on_an_intact_chain(chain, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit chain intact: 5 entries" in result.output


def test_verify_passes_on_an_empty_log(runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "intact: 0 entries" in result.output


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "user.view"),
        ("actor", "user:999"),
        ("detail", '{"roles":["admin"],"units":[]}'),
        ("object_id", "12345"),
        ("object_type", "unit"),
        ("hash", "f" * 64),
    ],
)
def test_verify_names_an_altered_entry(app, chain, runner, column, value):
    sql(app, f"UPDATE audit_entry SET {column} = :value WHERE seq = 3", value=value)  # noqa: S608
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert "audit chain broken at entry 3" in result.output


def test_verify_finds_an_entry_rewritten_with_a_fresh_hash(app, chain, runner):
    entry = chain[2]
    # An attacker who knows the algorithm: a fresh salt, body and hash.
    body = audit.body_digest("00" * 16, "user:1", entry.detail)
    forged = audit.erasable_digest(
        entry.seq, entry.at, entry.action, entry.object_type, entry.object_id, body, entry.prev_hash
    )
    sql(
        app,
        "UPDATE audit_entry SET actor = 'user:1', salt = :s, body = :b, hash = :h WHERE seq = 3",
        s="00" * 16,
        b=body,
        h=forged,
    )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert "audit chain broken at entry 4" in result.output


@pytest.mark.parametrize("seq", [1, 3, 5])
def test_verify_names_a_deleted_entry(app, chain, runner, seq):
    sql(app, "DELETE FROM audit_entry WHERE seq = :seq", seq=seq)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"audit chain broken at entry {seq}" in result.output
    assert "missing" in result.output


def test_new_entries_chain_on_after_a_request_commits(app, make, client):
    admin = make.user(Role.ADMIN)
    before = entries(app)

    form_login(client, admin)
    client.post(
        "/admin/units/new",
        data={"csrf_token": form_token(client, "/admin/units/new"), "name": "Ny enhet"},
    )
    after = entries(app)
    added = after[len(before) :]
    assert [e.action for e in added] == ["unit.create"]  # logins are in the sign-in log
    assert added[0].prev_hash == before[-1].hash
    assert all(e.actor == f"user:{admin.id}" for e in added)


def test_audit_entries_never_contain_names_emails_or_passwords(app, make, client, runner):

    admin = make.user(Role.ADMIN, name="Ada Administrator")
    form_login(client, admin)
    client.post(
        "/admin/users/new",
        data={
            "csrf_token": form_token(client, "/admin/users/new"),
            "email": "Kari.Nordmann@Example.org",
            "name": "Kari Nordmann",
            "roles": [Role.EMPLOYEE],
        },
    )
    runner.invoke(
        args=["users", "set-password", "kari.nordmann@example.org", "--password-stdin"],
        input=NEW_PASSWORD + "\n",
    )
    other = app.test_client()
    other.post(
        "/api/v1/session",
        json={"email": "kari.nordmann@example.org", "password": "wrong passphrase here"},
        headers={"X-CSRFToken": csrf_token(other)},
    )
    employee = make.user(Role.EMPLOYEE, name="Ola Nordmann", email="ola@example.org")
    api_login(app.test_client(), employee)

    logged = entries(app)
    actions = {e.action for e in logged}
    assert {"user.create", "user.password_code", "user.password"} <= actions
    secrets = [
        "Kari",
        "Nordmann",
        "kari.nordmann",
        "example.org",
        "Ada",
        "Ola",
        "ola@",
        "kari's first passphrase",
        NEW_PASSWORD,
        "wrong passphrase here",
        employee.password,
    ]
    for entry in logged:
        row = json.dumps(
            [entry.actor, entry.action, entry.object_type, entry.object_id, entry.detail]
        ).lower()
        for secret in secrets:
            assert secret.lower() not in row, (entry.action, secret)


def test_a_transaction_appends_its_entries_in_order_at_commit(app, runner):
    with app.app_context():
        head_before = db.session.get(audit.AuditHead, 1).seq
        for n in range(3):
            audit.record("unit.create", actor="cli", object_type="unit", object_id=n)
        db.session.commit()
    added = entries(app)[head_before:]
    assert [(e.seq, e.object_id) for e in added] == [
        (head_before + 1, "0"),
        (head_before + 2, "1"),
        (head_before + 3, "2"),
    ]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_rolled_back_savepoint_takes_its_entries_with_it(app, runner):
    with app.app_context():
        audit.record("unit.create", actor="cli", object_type="unit", object_id="kept")
        savepoint = db.session.begin_nested()
        audit.record("unit.create", actor="cli", object_type="unit", object_id="undone")
        savepoint.rollback()
        with db.session.begin_nested():
            audit.record("unit.create", actor="cli", object_type="unit", object_id="released")
        audit.record("unit.create", actor="cli", object_type="unit", object_id="after")
        db.session.commit()
    assert [e.object_id for e in entries(app)] == ["kept", "released", "after"]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_rolled_back_transaction_leaves_no_entry(app):
    with app.app_context():
        audit.record("unit.create", actor="cli", object_type="unit", object_id="gone")
        db.session.rollback()
        db.session.commit()
    assert entries(app) == []


def test_the_log_read_in_the_same_transaction_shows_what_it_recorded(app):
    with app.app_context():
        audit.record("unit.create", actor="cli", object_type="unit", object_id="7")
        assert [e.action for e in audit.for_object("unit", 7)] == ["unit.create"]
        db.session.rollback()
    assert entries(app) == []


def _object_ids(app) -> list[str | None]:
    return [e.object_id for e in entries(app)]


def test_a_failed_savepoint_keeps_what_was_queued_before_it(app):
    # next_reference's pattern: a savepoint that may fail on a unique key, suppressed.
    with app.app_context():
        db.session.add(Unit(name="Twice"))
        db.session.commit()
        audit.record("case.open", actor="cli", object_type="case", object_id="before")
        with suppress(IntegrityError), db.session.begin_nested():
            db.session.add(Unit(name="Twice"))
        audit.record("report.submit", actor="cli", object_type="report", object_id="after")
        db.session.commit()
    assert _object_ids(app) == ["before", "after"]


def test_reading_the_log_inside_a_savepoint_that_rolls_back_loses_nothing(app):
    with app.app_context():
        audit.record("unit.create", actor="cli", object_type="unit", object_id="before")
        savepoint = db.session.begin_nested()
        audit.for_object("unit", 1)
        savepoint.rollback()
        db.session.commit()
    assert _object_ids(app) == ["before"]


def test_nested_savepoints_rolled_back_take_their_entries_with_them(app, runner):
    with app.app_context():
        audit.record("unit.create", actor="cli", object_type="unit", object_id="kept")
        outer = db.session.begin_nested()
        with db.session.begin_nested():
            audit.record("unit.create", actor="cli", object_type="unit", object_id="inner")
        audit.record("unit.create", actor="cli", object_type="unit", object_id="outer")
        outer.rollback()
        db.session.commit()
    assert _object_ids(app) == ["kept"]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_erasing_an_objects_entries_keeps_the_chain_whole(app, chain, runner):
    entry = chain[2]
    with app.app_context():
        erased = audit.erase(entry.object_type, entry.object_id)
        db.session.commit()
        row = db.session.get(AuditEntry, entry.seq)
        assert row is not None
        assert (row.actor, row.detail, row.salt) == (audit.ERASED_ACTOR, "{}", None)
    assert erased >= 1
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_an_erased_entry_cannot_be_given_another_actor(app, chain, runner):
    sql(app, "UPDATE audit_entry SET actor = 'user:1', salt = NULL WHERE seq = 3")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert "audit chain broken at entry 3" in result.output
