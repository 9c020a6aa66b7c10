"""The audit chain's ends: a sealed head, anchors logged elsewhere, and what they catch.

The attacker here can write to the database (the tables, with SQL) but has no keyring.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.kernel.support import sql
from trygg import audit
from trygg.audit import AuditHead
from trygg.extensions import db


def head_row(app) -> tuple[int, str, str | None]:
    with app.app_context():
        head = db.session.scalars(select(AuditHead).execution_options(populate_existing=True))
        row = head.one()
        return row.seq, row.last_hash, row.seal


def set_head(app, seq: int, last_hash: str, seal: str | None) -> None:
    sql(
        app,
        "UPDATE audit_head SET seq = :seq, last_hash = :h, seal = :s WHERE id = 1",
        seq=seq,
        h=last_hash,
        s=seal,
    )


def verify(runner, *args: str):
    return runner.invoke(args=["audit", "verify", *args])


def broken_at(result, seq: int) -> bool:
    return result.exit_code == 1 and f"audit chain broken at entry {seq}" in result.output


def test_the_head_is_sealed_with_a_key_from_the_keyring(app, chain, runner):
    seq, last_hash, seal = head_row(app)
    assert (seq, last_hash) == (5, chain[-1].hash)
    with app.app_context():
        assert seal == audit.head_seal(5, last_hash)
    assert seal != last_hash
    assert verify(runner).exit_code == 0


def test_a_truncated_tail_with_the_head_moved_back_is_found(app, chain, runner):
    sql(app, "DELETE FROM audit_entry WHERE seq > 3")
    # The attacker points the head at the new last entry, but cannot seal it.
    set_head(app, 3, chain[2].hash, head_row(app)[2])
    result = verify(runner)
    assert broken_at(result, 3)
    assert "seal does not match" in result.output


def test_a_truncated_tail_with_the_head_left_alone_is_found(app, chain, runner):
    sql(app, "DELETE FROM audit_entry WHERE seq > 3")
    result = verify(runner)
    assert broken_at(result, 4)
    assert "missing" in result.output


def test_a_tail_rewritten_with_fresh_hashes_and_head_is_found(app, chain, runner):
    # Entry 4 rewritten to hide who did it, entry 5 re-chained, the head updated to match:
    # every hash checks out, only the seal does not.
    prev = chain[2].hash
    for entry in chain[3:]:
        actor = "user:1" if entry.seq == 4 else entry.actor
        body = audit.body_digest("00" * 16, actor, entry.detail)
        forged = audit.erasable_digest(
            entry.seq, entry.at, entry.action, entry.object_type, entry.object_id, body, prev
        )
        sql(
            app,
            "UPDATE audit_entry SET actor = :a, salt = :s, body = :b, prev_hash = :p, hash = :h"
            " WHERE seq = :seq",
            a=actor,
            s="00" * 16,
            b=body,
            p=prev,
            h=forged,
            seq=entry.seq,
        )
        prev = forged
    set_head(app, 5, prev, head_row(app)[2])
    result = verify(runner)
    assert broken_at(result, 5)
    assert "seal does not match" in result.output


@pytest.mark.parametrize("seal", [None, "f" * 64])
def test_a_missing_head_or_one_set_back_to_nothing_is_found(app, chain, runner, seal):
    sql(app, "DELETE FROM audit_head")
    result = verify(runner)
    assert broken_at(result, 5)
    assert "head is missing, but entries exist" in result.output

    sql(
        app,
        "INSERT INTO audit_head (id, seq, last_hash, seal) VALUES (1, 0, :g, :s)",
        g=audit.GENESIS,
        s=seal,
    )
    assert broken_at(verify(runner), 5)


def test_an_append_never_seals_over_a_broken_head(app, chain, runner):
    sql(app, "DELETE FROM audit_entry WHERE seq > 3")
    set_head(app, 3, chain[2].hash, "0" * 64)
    # Work goes on: the next entries chain onto the forged head, and the break stays.
    assert runner.invoke(args=["units", "create", "Etterpå"]).exit_code == 0
    assert head_row(app)[2] == audit.BROKEN_SEAL
    result = verify(runner)
    assert broken_at(result, 4)
    assert "seal does not match" in result.output


def test_a_head_put_back_from_an_earlier_copy_needs_an_anchor_to_be_found(app, chain, runner):
    """What the seal cannot see: the head row and seal copied at entry 3, restored later."""
    with app.app_context():
        earlier = (3, chain[2].hash, audit.head_seal(3, chain[2].hash))
    logged = runner.invoke(args=["audit", "head"]).output.strip()
    assert logged == f"5:{chain[-1].hash}"

    sql(app, "DELETE FROM audit_entry WHERE seq > 3")
    set_head(app, *earlier)
    assert verify(runner).exit_code == 0  # the database alone cannot tell

    result = verify(runner, "--anchor", logged)
    assert broken_at(result, 5)
    assert "logged elsewhere is gone" in result.output


def test_an_anchor_finds_a_rewritten_chain_and_passes_an_intact_one(app, chain, runner):
    anchor = f"4:{chain[3].hash}"
    result = verify(runner, "--anchor", anchor, "--anchor", f"2:{chain[1].hash}")
    assert result.exit_code == 0
    assert "audit chain intact: 5 entries, 2 anchors found" in result.output

    result = verify(runner, "--anchor", f"4:{'a' * 64}")
    assert broken_at(result, 4)
    assert "differs from the anchor" in result.output


@pytest.mark.parametrize("anchor", ["5", "0:" + "a" * 64, "x:" + "a" * 64, "3:abc"])
def test_a_malformed_anchor_is_a_usage_error(chain, runner, anchor):
    result = verify(runner, "--anchor", anchor)
    assert result.exit_code == 2
    assert "SEQ:HASH" in result.output


def test_an_unsealed_head_after_an_upgrade_is_sealed_once_by_the_operator(app, chain, runner):
    set_head(app, 5, chain[-1].hash, None)  # as a database upgraded from before seals
    result = verify(runner)
    assert broken_at(result, 5)
    assert "run `trygg audit seal` once" in result.output
    # Appending does not seal it: that would also seal a head someone had unsealed.
    assert runner.invoke(args=["units", "create", "Etterpå"]).exit_code == 0
    assert head_row(app)[2] is None

    result = runner.invoke(args=["audit", "seal"])
    assert result.exit_code == 0, result.output
    assert "audit head sealed at entry 6" in result.output
    assert verify(runner).exit_code == 0
    assert "already sealed" in runner.invoke(args=["audit", "seal"]).output


def test_sealing_refuses_a_broken_chain_and_a_wrong_seal_unless_forced(app, chain, runner):
    sql(app, "UPDATE audit_entry SET actor = 'user:1' WHERE seq = 2")
    result = runner.invoke(args=["audit", "seal"])
    assert result.exit_code == 1
    assert "broken at entry 2" in result.output
    sql(app, "UPDATE audit_entry SET actor = :a WHERE seq = 2", a=chain[1].actor)

    set_head(app, 5, chain[-1].hash, "0" * 64)
    result = runner.invoke(args=["audit", "seal"])
    assert result.exit_code == 1
    assert "seal does not match" in result.output
    assert runner.invoke(args=["audit", "seal", "--force"]).exit_code == 0
    assert verify(runner).exit_code == 0


def test_an_empty_log_needs_no_seal_and_the_first_entry_is_sealed(app, runner):
    assert head_row(app) == (0, audit.GENESIS, None)
    assert verify(runner).exit_code == 0
    assert runner.invoke(args=["audit", "head"]).output.strip() == f"0:{audit.GENESIS}"
    assert runner.invoke(args=["units", "create", "Først"]).exit_code == 0
    seq, last_hash, seal = head_row(app)
    with app.app_context():
        assert (seq, seal) == (1, audit.head_seal(1, last_hash))


def test_key_rotation_leaves_the_seal_valid(app, chain, runner, tmp_path, make_app, settings):
    # Rotation changes the key-encryption keys, not the lookup secret the seal comes from.
    import shutil

    ring_copy = tmp_path / "keyring.json"
    shutil.copy(settings["keyring_path"], ring_copy)
    rotated = make_app(keyring_path=str(ring_copy))
    rotating = rotated.test_cli_runner()
    assert rotating.invoke(args=["keys", "rotate"]).exit_code == 0
    assert verify(rotating).exit_code == 0


def test_a_different_keyring_does_not_open_the_seal(chain, make_app, tmp_path):
    from trygg import crypto

    other = tmp_path / "other.json"
    crypto.create_keyring_file(other)
    result = verify(make_app(keyring_path=str(other)).test_cli_runner())
    assert broken_at(result, 5)
    assert "seal does not match" in result.output
