"""What `trygg --help` shows: Trygg's own commands at the top level; Flask's and
Alembic's developer commands under `trygg dev`.

Flask's console group adds `run`, `shell` and `routes`, and Flask-Migrate adds `db` with
every Alembic command (`migrate`, `revision`, `stamp`, ...). An operator needs only a few
of them (apply migrations, see where the schema is), and should not meet the rest beside
`users` and `backup`. So:

* `trygg db` keeps the operator's database commands (OPERATOR_DB);
* `trygg dev` holds the rest, unchanged: `trygg dev shell`, `trygg dev routes`,
  `trygg dev run` and `trygg dev db <any Alembic command>`;
* Flask's own options (`--app`, `--env-file`, `--debug`) still work but are not listed:
  `trygg` always builds its own app from its settings.
"""

from __future__ import annotations

import copy
from typing import Any

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import DBAPIError, NoSuchTableError

from trygg.crypto import CryptoError

# Flask's commands that only developers use; moved under `trygg dev`.
DEVELOPER_COMMANDS = frozenset({"run", "shell", "routes"})
# The database commands an operator uses (the rest are under `trygg dev db`).
OPERATOR_DB = ("upgrade", "downgrade", "current", "history", "check")
DEV = "dev"
# Commands that check or mend the keyring and the database themselves, or are guarded
# on their own (the web app and the scheduler tick: keyring_guard, scheduler.tick). Every
# other command is refused while the keyring does not open the stored data: it would
# seal users' secrets, reports' data or the audit chain's head with keys the right
# keyring lacks.
KEYRING_CHECKED_BY_ITSELF = frozenset(
    {"keys", "db", "backup", "restore", "audit", "serve", "scheduler", DEV}
)


class DeveloperGroup(click.Group):
    """`trygg dev ...`: Flask's and Alembic's commands for developers, as they are."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*DEVELOPER_COMMANDS, "db"])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in DEVELOPER_COMMANDS and name != "db":
            return None
        root = ctx.find_root()
        if not isinstance(root.command, TryggGroup):
            return None
        return root.command.unfiltered_command(root, name)


def _operator_db(full: click.Group) -> click.Group:
    """The `db` group (its options and set-up kept) with the operator's commands only."""
    group = copy.copy(full)
    group.help = (
        "The database schema: apply migrations (`upgrade`) and see where it is. "
        "Creating migrations: `trygg dev db`."
    )
    group.commands = {name: full.commands[name] for name in OPERATOR_DB if name in full.commands}
    return group


class TryggGroup(FlaskGroup):
    """Flask's console group with its developer commands moved under `dev`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        hidden = []
        for param in self.params:
            param = copy.copy(param)
            if isinstance(param, click.Option):
                param.hidden = True
            hidden.append(param)
        self.params = hidden
        self.add_command(
            DeveloperGroup(
                DEV,
                help="For developers: Flask's shell, routes and run; every Alembic command.",
            )
        )

    def unfiltered_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """A command as Flask's group gives it (for `trygg dev`)."""
        return super().get_command(ctx, name)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in DEVELOPER_COMMANDS:
            return None
        command = super().get_command(ctx, name)
        if name == "db" and isinstance(command, click.Group):
            return _operator_db(command)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name not in DEVELOPER_COMMANDS]

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a database that cannot be reached or a keyring that does not
        open the data is one line, not a traceback (the day the server died)."""
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            lines = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
            raise click.ClickException(
                f"the database failed: {' '.join(lines[:1])} (check DATABASE_URL, and that "
                "`trygg db upgrade` has run)"
            ) from None
        except NoSuchTableError as exc:
            raise click.ClickException(
                f"the database has no table {exc}: check DATABASE_URL, and run "
                "`trygg db upgrade` (or `trygg restore`) first"
            ) from None
        except CryptoError as exc:
            raise click.ClickException(
                f"{exc}: the configured keyring (TRYGG_KEYRING_PATH) is not the one this "
                "database was written with"
            ) from None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] in DEVELOPER_COMMANDS:
            ctx.fail(f"`{args[0]}` is a developer command: `trygg dev {args[0]}`.")
        name, command, rest = super().resolve_command(ctx, args)
        if name and name not in KEYRING_CHECKED_BY_ITSELF and "--help" not in rest:
            _refuse_with_a_wrong_keyring(ctx)
        return name, command, rest


def _refuse_with_a_wrong_keyring(ctx: click.Context) -> None:
    """One line, and nothing done, when the configured keyring does not open the stored
    data (`keys.data_problem`). A keyring or database that cannot be read at all is left
    to the command, which says so in its own words."""
    from flask.cli import ScriptInfo

    from trygg import keys

    try:
        app = ctx.ensure_object(ScriptInfo).load_app()
        with app.app_context():
            problem = keys.data_problem()
    except (CryptoError, KeyError, OSError):
        return
    if problem:
        raise click.ClickException(f"refused, nothing done: {problem}")
