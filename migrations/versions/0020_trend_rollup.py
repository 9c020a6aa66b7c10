"""trend rollup: report counts per unit, month and class-S category, kept by triggers

`trend_count` holds, per (dimension, month, unit, anonymous, category), how many reports
fall there: dimension '' is the total, the others are risk/dimensions.py's codes with the
raw class-S value as category ('' for none; yes/no for flags). Case and deadline
dimensions are stored only for reports that have a case (resp. a first deadline of the
kind); the rest is the total minus those (risk/data.py). Two more dimensions are a histogram of closed
cases' time to close in tenths of a day (close_tenths per unit, close_org for the
whole organisation as unit 0), for the median time to close. The table is filled here from
the existing rows, in SQL, and kept exact by row triggers on report,
report_incident_type, case and deadline, in the writing transaction: every write path,
ORM or SQL, is covered by one definition (this file). See README, "Trends".

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 15:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

KEY = "dimension, month, unit_id, anonymous, category"
# A histogram of closed cases' time to close, in tenths of a day (risk/data.py's median),
# per unit and for the whole organisation (unit 0, anonymous reports included).
CLOSE = "close_tenths"
CLOSE_ORG = "close_org"
# deadline kind -> dimension code
KINDS = (("acknowledge", "acknowledged"), ("leader_contact", "leader_contact"), ("recontact", "recontact"))


def _flag(expr):
    return f"CASE WHEN {expr} IS NULL THEN '' WHEN {expr} THEN 'yes' ELSE 'no' END"


def _report_dims(r):
    """(dimension, category expression) of a report row `r`'s own single-valued columns."""
    return [
        ("", "''"),
        ("place", f"coalesce({r}.place_type, '')"),
        ("counterpart", f"coalesce({r}.counterpart_category, '')"),
        ("time_band", f"coalesce({r}.time_band, '')"),
        ("channel", f"coalesce({r}.channel, '')"),
        ("lone_work", _flag(f"{r}.lone_work")),
        ("activity", f"coalesce({r}.activity, '')"),
        ("severity", f"coalesce(CAST({r}.severity AS VARCHAR(8)), '')"),
        ("injury", f"coalesce({r}.injury_level, '')"),
        ("sick_leave", _flag(f"{r}.has_sick_leave")),
        ("police", f"coalesce({r}.police_report, '')"),
    ]


def _close_tenths(c, dialect):
    """A closed case's time to close in whole tenths of a day, floored, as text; NULL
    for a case not closed (not counted). SQLite through julianday, to the millisecond."""
    if dialect == "postgresql":
        tenths = f"floor(extract(epoch FROM ({c}.closed_at - {c}.opened_at)) / 8640)"
        return f"CAST(CAST({tenths} AS BIGINT) AS VARCHAR(32))"
    ms = f"CAST(round((julianday({c}.closed_at) - julianday({c}.opened_at)) * 86400000) AS INTEGER)"
    floored = f"CASE WHEN {ms} >= 0 THEN {ms} / 8640000 ELSE -((8639999 - {ms}) / 8640000) END"
    return f"CAST({floored} AS TEXT)"


def _case_dims(c, dialect):
    return [
        ("track", f"coalesce({c}.track, '')"),
        ("state", f"coalesce({c}.state, '')"),
        ("section_5_2", _flag(f"{c}.section_5_2")),
        (CLOSE, _close_tenths(c, dialect)),
        (CLOSE_ORG, _close_tenths(c, dialect)),
    ]


def _elements(dialect, expr):
    if dialect == "postgresql":
        return f"json_array_elements_text({expr}) AS e(value)"
    return f"json_each({expr}) AS e"


def _outcome(d):
    return (
        f"CASE WHEN {d}.met_at IS NULL THEN 'not_done' "
        f"WHEN {d}.met_at <= {d}.due_at THEN 'in_time' ELSE 'late' END"
    )


def _key(r, dim=None):
    """The report's key; for the organisation-wide histogram (`dim` is CLOSE_ORG: an
    expression of the row's dimension) unit 0 and not anonymous, whatever the report."""
    unit, anonymous = f"coalesce({r}.unit_id, 0)", f"{r}.channel_kind = 'anonymous'"
    if dim is not None:
        unit = f"CASE WHEN {dim} = '{CLOSE_ORG}' THEN 0 ELSE {unit} END"
        anonymous = f"CASE WHEN {dim} = '{CLOSE_ORG}' THEN 1 = 0 ELSE {anonymous} END"
    return f"{r}.occurred_month AS month, {unit} AS unit_id, {anonymous} AS anonymous"


# -- the backfill: one GROUP BY per dimension over the existing rows ----------------------


def backfill_statements(dialect):
    rows = []
    for dim, expr in _report_dims("r"):
        rows.append((dim, f"SELECT {_key('r')}, {expr} AS category FROM report r"))
    rows.append(("cause", f"SELECT {_key('r')}, e.value AS category FROM report r, {_elements(dialect, 'r.causes')}"))
    rows.append(("cause", f"SELECT {_key('r')}, 'none' AS category FROM report r WHERE json_array_length(r.causes) = 0"))
    rows.append((
        "type",
        f"SELECT {_key('r')}, t.incident_type AS category FROM report r "
        "JOIN report_incident_type t ON t.report_id = r.id",
    ))
    for dim, expr in _case_dims("c", dialect):
        key = _key("r", f"'{dim}'")
        rows.append((dim, f'SELECT {key}, {expr} AS category FROM report r JOIN "case" c ON c.report_id = r.id'))
    for kind, dim in KINDS:
        rows.append((
            dim,
            f'SELECT {_key("r")}, {_outcome("d")} AS category FROM report r JOIN "case" c ON c.report_id = r.id '
            "JOIN (SELECT case_id, min(id) AS id FROM deadline "
            f"WHERE kind = '{kind}' GROUP BY case_id) f ON f.case_id = c.id "
            "JOIN deadline d ON d.id = f.id",
        ))
    by_dim = {}
    for dim, select in rows:
        by_dim.setdefault(dim, []).append(select)
    return [
        f"INSERT INTO trend_count ({KEY}, n) "
        f"SELECT '{dim}', month, unit_id, anonymous, category, count(*) FROM ("
        + " UNION ALL ".join(selects)
        + ") AS x WHERE category IS NOT NULL "
        "GROUP BY month, unit_id, anonymous, category"
        for dim, selects in by_dim.items()
    ]


# -- the triggers' deltas --------------------------------------------------------------


def _pairs(items):
    return " UNION ALL ".join(f"SELECT '{dim}' AS dimension, {expr} AS category" for dim, expr in items)


def _own(dialect, r):
    """(dimension, category) rows of a report row's own columns, causes included."""
    return (
        _pairs(_report_dims(r))
        + f" UNION ALL SELECT 'cause', e.value FROM {_elements(dialect, f'{r}.causes')}"
        + f" UNION ALL SELECT 'cause', 'none' WHERE json_array_length({r}.causes) = 0"
    )


def _first(case_id, kind, drop=None, add=None):
    """The outcome of a case's first deadline of `kind`: now, or with row `drop` (an id)
    left out and row `add` (NEW or OLD) put in. NULL when there is none."""
    rows = f"SELECT d.id, d.due_at, d.met_at FROM deadline d WHERE d.case_id = {case_id} AND d.kind = '{kind}'"
    if drop:
        rows += f" AND d.id <> {drop}"
    if add:
        rows += (
            f" UNION ALL SELECT {add}.id, {add}.due_at, {add}.met_at "
            f"WHERE {add}.case_id = {case_id} AND {add}.kind = '{kind}'"
        )
    return f"(SELECT {_outcome('f')} FROM ({rows}) AS f ORDER BY f.id LIMIT 1)"


def _deadline_pairs(case_id, drop=None, add=None):
    return _pairs([(dim, _first(case_id, kind, drop, add)) for kind, dim in KINDS])


def _children(rid, dialect):
    """(dimension, category) rows a report has through its types, case and deadlines."""
    return (
        f"SELECT 'type' AS dimension, t.incident_type AS category FROM report_incident_type t "
        f"WHERE t.report_id = {rid}"
        + "".join(
            f" UNION ALL SELECT '{dim}', {expr} FROM \"case\" c WHERE c.report_id = {rid}"
            for dim, expr in _case_dims("c", dialect)
        )
        + "".join(
            f" UNION ALL SELECT '{dim}', {_first('c.id', kind)} FROM \"case\" c WHERE c.report_id = {rid}"
            for kind, dim in KINDS
        )
    )


def _part(sign, pairs, key_from):
    """Signed rows keyed by a report: `key_from` is a row alias (NEW/OLD) or an id."""
    if key_from in ("NEW", "OLD"):
        return f"SELECT p.dimension, {_key(key_from, 'p.dimension')}, p.category, {sign} AS n FROM ({pairs}) AS p"
    return (
        f"SELECT p.dimension, {_key('r', 'p.dimension')}, p.category, {sign} AS n "
        f"FROM report r, ({pairs}) AS p WHERE r.id = {key_from}"
    )


def _by_report(report_id):
    return report_id


def _by_case(case_id):
    return f'(SELECT c2.report_id FROM "case" c2 WHERE c2.id = {case_id})'


def _apply(parts):
    return (
        f"INSERT INTO trend_count ({KEY}, n) "
        f"SELECT {KEY}, sum(n) FROM ("
        + " UNION ALL ".join(parts)
        + ") AS x WHERE category IS NOT NULL "
        f"GROUP BY {KEY} HAVING sum(n) <> 0 ORDER BY {KEY} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET n = trend_count.n + excluded.n"
    )


REPORT_WATCHED = (
    "unit_id", "occurred_month", "channel_kind", "time_band", "place_type", "channel",
    "counterpart_category", "lone_work", "activity", "severity", "injury_level",
    "has_sick_leave", "police_report", "causes",
)
CASE_WATCHED = ("report_id", "track", "state", "section_5_2", "opened_at", "closed_at")
DEADLINE_WATCHED = ("case_id", "kind", "due_at", "met_at")


def statements(dialect):
    """The delta statement of each (table, event), and when it runs.

    PostgreSQL runs AFTER ROW triggers at the end of the statement, so a deadline's
    change is computed BEFORE the row changes (now, and with the row changed); SQLite
    runs AFTER ROW triggers row by row, so there it is computed after (now, and with the
    row as it was). A delete of a report or case takes its whole contribution away
    BEFORE the row goes, while its children still exist; the cascaded deletes of the
    children then find no report and change nothing. (A BEFORE trigger also runs for a
    row that INSERT … ON CONFLICT DO NOTHING then skips: no code inserts deadlines,
    reports or cases that way; one that did would need an AFTER trigger instead.)
    """
    pg = dialect == "postgresql"
    out = {}
    own_new, own_old = _own(dialect, "NEW"), _own(dialect, "OLD")
    out["report", "INSERT"] = ("AFTER", _apply([_part(1, own_new, "NEW")]))
    out["report", "UPDATE"] = ("AFTER", _apply([
        _part(-1, own_old, "OLD"), _part(-1, _children("OLD.id", dialect), "OLD"),
        _part(1, own_new, "NEW"), _part(1, _children("NEW.id", dialect), "NEW"),
    ]))
    out["report", "DELETE"] = ("BEFORE", _apply([
        _part(-1, own_old, "OLD"), _part(-1, _children("OLD.id", dialect), "OLD"),
    ]))
    new_type = "SELECT 'type' AS dimension, NEW.incident_type AS category"
    old_type = "SELECT 'type' AS dimension, OLD.incident_type AS category"
    out["report_incident_type", "INSERT"] = ("AFTER", _apply([_part(1, new_type, _by_report("NEW.report_id"))]))
    out["report_incident_type", "UPDATE"] = ("AFTER", _apply([
        _part(-1, old_type, _by_report("OLD.report_id")), _part(1, new_type, _by_report("NEW.report_id")),
    ]))
    out["report_incident_type", "DELETE"] = ("AFTER", _apply([_part(-1, old_type, _by_report("OLD.report_id"))]))
    out["case", "INSERT"] = ("AFTER", _apply([_part(1, _pairs(_case_dims("NEW", dialect)), _by_report("NEW.report_id"))]))
    out["case", "UPDATE"] = ("AFTER", _apply([
        _part(-1, _pairs(_case_dims("OLD", dialect)), _by_report("OLD.report_id")),
        _part(-1, _deadline_pairs("OLD.id"), _by_report("OLD.report_id")),
        _part(1, _pairs(_case_dims("NEW", dialect)), _by_report("NEW.report_id")),
        _part(1, _deadline_pairs("NEW.id"), _by_report("NEW.report_id")),
    ]))
    out["case", "DELETE"] = ("BEFORE", _apply([
        _part(-1, _pairs(_case_dims("OLD", dialect)), _by_report("OLD.report_id")),
        _part(-1, _deadline_pairs("OLD.id"), _by_report("OLD.report_id")),
    ]))
    for event in ("INSERT", "UPDATE", "DELETE"):
        out["deadline", event] = ("BEFORE" if pg else "AFTER", _apply(_deadline_parts(event, pg)))
    return out


def _deadline_parts(event, pg):
    """A deadline row's change: its case's first-deadline outcomes now and otherwise."""
    old = None if event == "INSERT" else "OLD"
    new = None if event == "DELETE" else "NEW"
    parts = []
    for row in (old, new):
        if row is None:
            continue
        case_id = f"{row}.case_id"
        if pg:  # before the change: − now + as it will be
            sign, then = -1, _deadline_pairs(case_id, drop=old and "OLD.id", add=new)
        else:  # after the change: + now − as it was
            sign, then = 1, _deadline_pairs(case_id, drop=new and "NEW.id", add=old)
        pair = [
            _part(sign, _deadline_pairs(case_id), _by_case(case_id)),
            _part(-sign, then, _by_case(case_id)),
        ]
        if row == "NEW" and old:  # an update: the new case only when it is another
            pair = [f"{p} AND OLD.case_id <> NEW.case_id" for p in pair]
        parts += pair
    return parts


def _changed(columns, pg):
    if pg:
        return " OR ".join(f"OLD.{c}::text IS DISTINCT FROM NEW.{c}::text" for c in columns)
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


WATCHED = {"report": REPORT_WATCHED, "case": CASE_WATCHED, "deadline": DEADLINE_WATCHED}


def _deadline_when(event, pg):
    kinds = ", ".join(f"'{k}'" for k, _d in KINDS)
    rows = {"INSERT": ["NEW"], "DELETE": ["OLD"], "UPDATE": ["OLD", "NEW"]}[event]
    return " OR ".join(f"{r}.kind IN ({kinds})" for r in rows)


def _when(table, event, pg):
    conditions = []
    if table == "deadline":
        conditions.append(f"({_deadline_when(event, pg)})")
    if event == "UPDATE" and table in WATCHED:
        conditions.append(f"({_changed(WATCHED[table], pg)})")
    return " AND ".join(conditions)


def _quoted(table):
    return f'"{table}"'


def create_triggers(dialect):
    pg = dialect == "postgresql"
    for (table, event), (timing, sql) in statements(dialect).items():
        name = f"trend_count_{table}_{event.lower()}"
        when = _when(table, event, pg)
        if pg:
            result = "OLD" if event == "DELETE" else "NEW"
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {sql}; RETURN {result}; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {name} {timing} {event} ON {_quoted(table)} FOR EACH ROW "
                + (f"WHEN ({when}) " if when else "")
                + f"EXECUTE FUNCTION {name}()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} {timing} {event} ON {_quoted(table)} FOR EACH ROW "
                + (f"WHEN {when} " if when else "")
                + f"BEGIN {sql}; END"
            )


def drop_triggers(dialect):
    for table, event in statements(dialect):
        name = f"trend_count_{table}_{event.lower()}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {_quoted(table)}" if dialect == "postgresql" else ""))
        if dialect == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")


def upgrade():
    op.create_table(
        'trend_count',
        sa.Column('dimension', sa.String(length=16), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('anonymous', sa.Boolean(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'dimension', 'month', 'unit_id', 'anonymous', 'category', name=op.f('pk_trend_count')
        ),
    )
    dialect = op.get_bind().dialect.name
    for statement in backfill_statements(dialect):
        op.execute(statement)
    create_triggers(dialect)
    if dialect == "postgresql":
        # For bulk loads (bench/seed.py) that disable the triggers: refill from scratch.
        body = "; ".join(backfill_statements(dialect))
        op.execute(
            "CREATE FUNCTION trend_count_rebuild() RETURNS void LANGUAGE plpgsql AS $$ "
            f"BEGIN DELETE FROM trend_count; {body}; END $$"
        )


def downgrade():
    dialect = op.get_bind().dialect.name
    drop_triggers(dialect)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS trend_count_rebuild()")
    op.drop_table('trend_count')
