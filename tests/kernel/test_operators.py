"""What an operator meets: `trygg --help` lists Trygg's commands (Flask's and Alembic's
developer commands under `trygg dev`), and the development server says where it is."""

from __future__ import annotations

import logging

from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from werkzeug.serving import make_server

from trygg.cli import cli


def trygg(app: Flask, *args: str) -> Result:
    """Run the `trygg` console script against the test app."""
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


def _commands(help_text: str) -> set[str]:
    listed = help_text.split("Commands:", 1)[1]
    return {line.split()[0] for line in listed.splitlines() if line.startswith("  ")}


def test_help_lists_trygg_commands_and_not_flask_developer_commands(app: Flask) -> None:
    result = trygg(app, "--help")
    assert result.exit_code == 0, result.output
    commands = _commands(result.output)
    assert {"users", "units", "import", "backup", "serve", "db", "dev"} <= commands
    assert not {"shell", "routes", "run"} & commands
    # Flask's own options are not offered either: trygg builds its own app.
    assert "--app" not in result.output
    assert "--env-file" not in result.output


def test_db_at_top_level_has_only_the_operator_commands(app: Flask) -> None:
    result = trygg(app, "db", "--help")
    assert result.exit_code == 0, result.output
    assert _commands(result.output) == {"upgrade", "downgrade", "current", "history", "check"}
    assert trygg(app, "db", "revision", "--help").exit_code != 0


def test_developer_commands_stay_available_under_dev(app: Flask) -> None:
    result = trygg(app, "dev", "--help")
    assert result.exit_code == 0, result.output
    assert _commands(result.output) == {"db", "routes", "run", "shell"}
    routes = trygg(app, "dev", "routes")
    assert routes.exit_code == 0, routes.output
    assert "/admin/users" in routes.output
    full_db = trygg(app, "dev", "db", "--help")
    assert {"migrate", "revision", "stamp", "upgrade"} <= _commands(full_db.output)
    refused = trygg(app, "shell")
    assert refused.exit_code == 2
    assert "`trygg dev shell`" in refused.output


def test_the_development_server_start_line_shows_its_real_address(app: Flask, caplog) -> None:
    """The log filter removes client addresses, but not the one to open the app at."""
    caplog.set_level(logging.INFO, logger="werkzeug")
    server = make_server("127.0.0.1", 0, app)
    try:
        server.log_startup()
    finally:
        server.server_close()
    assert f"Running on http://127.0.0.1:{server.port}" in caplog.text
    # An access line still loses the client's address.
    logging.getLogger("werkzeug").info('%s - - [date] "%s" %s', "127.0.0.1", "GET / HTTP/1.1", 200)
    assert '- - - [date] "GET / HTTP/1.1" 200' in caplog.text
