"""trend deadline fast path: the rollup's deadline triggers skip what cannot change a count

The trend rollup (0020) counts, per case, only the *first* deadline of each kind
(acknowledge, leader_contact, recontact; the lowest id). 0020's deadline triggers
compute that first deadline's outcome for all three kinds twice, before and after the
change, and upsert the difference: twelve subqueries for every deadline written. On
PostgreSQL that was about 1.2 ms of the database's 4.2 ms per submission on the intake
benchmark, where the case's deadlines are inserted and none of them can be anything but
the first of its kind.

This revision gives the PostgreSQL functions a fast path in front of 0020's body, read
from one index lookup (the lowest id of the row's kind in its case):

- a row that is not the first of its kind changes no count: return at once;
- INSERT of the only row of its kind (every deadline intake writes): +1 for its outcome;
- UPDATE of the first row of its kind, case and kind unchanged (a deadline met or
  moved): −1 for the old outcome, +1 for the new, when they differ;
- anything else (a row inserted below the first, a row moved to another case or kind,
  the first row deleted) runs 0020's general body, unchanged.

The triggers themselves (their WHEN clauses) are 0020's; only the functions are
replaced. SQLite keeps 0020's triggers: it has no procedural language, and its intake
is not where the cost is. tests/risk/test_rollup.py proves the rollup equal to a
GROUP BY over the rows after every kind of deadline write, on both engines.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 22:20:00.000000

"""

import importlib.util
from pathlib import Path

from alembic import op


# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _rollup():
    """0020's module, for its key, its outcome expression and its general bodies."""
    spec = importlib.util.spec_from_file_location(
        "trygg_migration_0020", Path(__file__).with_name("0020_trend_rollup.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _function(name, declare, body):
    op.execute(
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"{declare}BEGIN {body} END $$"
    )


def _fast(rollup, event):
    """The PL/pgSQL of one deadline trigger with the fast path, then 0020's body."""
    general = rollup.statements("postgresql")["deadline", event][1]
    row = "OLD" if event == "DELETE" else "NEW"
    dimension = (
        "CASE {r}.kind "
        + " ".join(f"WHEN '{kind}' THEN '{dim}'" for kind, dim in rollup.KINDS)
        + " END"
    )

    def upsert(r, sign):
        return (
            f"INSERT INTO trend_count ({rollup.KEY}, n) "
            f"SELECT {dimension.format(r=r)}, {rollup._key('r')}, {rollup._outcome(r)}, {sign} "
            f'FROM "case" c JOIN report r ON r.id = c.report_id WHERE c.id = {r}.case_id '
            "ON CONFLICT (" + rollup.KEY + ") DO UPDATE SET n = trend_count.n + excluded.n;"
        )

    first = (
        f"SELECT min(d.id) INTO first_id FROM deadline d "
        f"WHERE d.case_id = {row}.case_id AND d.kind = {row}.kind;"
    )
    if event == "INSERT":
        fast = "IF first_id IS NULL THEN " + upsert("NEW", 1) + " RETURN NEW; END IF;"
    elif event == "UPDATE":
        fast = (
            "IF first_id = NEW.id AND OLD.id = NEW.id AND OLD.case_id = NEW.case_id "
            "AND OLD.kind = NEW.kind THEN "
            f"IF ({rollup._outcome('OLD')}) <> ({rollup._outcome('NEW')}) THEN "
            + upsert("OLD", -1)
            + " "
            + upsert("NEW", 1)
            + " END IF; RETURN NEW; END IF;"
        )
    else:
        fast = ""
    # Not the first of its kind (and, for an update, not moved): no count changes.
    skip = f"IF first_id < {row}.id"
    if event == "UPDATE":
        skip += " AND OLD.id = NEW.id AND OLD.case_id = NEW.case_id AND OLD.kind = NEW.kind"
    skip += f" THEN RETURN {row}; END IF;"
    return f"{first} {skip} {fast} {general}; RETURN {row};"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    rollup = _rollup()
    for event in ("INSERT", "UPDATE", "DELETE"):
        _function(
            f"trend_count_deadline_{event.lower()}",
            "DECLARE first_id integer; ",
            _fast(rollup, event),
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    rollup = _rollup()
    for event in ("INSERT", "UPDATE", "DELETE"):
        row = "OLD" if event == "DELETE" else "NEW"
        body = rollup.statements("postgresql")["deadline", event][1]
        _function(f"trend_count_deadline_{event.lower()}", "", f"{body}; RETURN {row};")
