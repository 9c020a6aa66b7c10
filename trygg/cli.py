"""The `trygg` console script: Trygg's console group on an app built by `create_app`.

The console script sits above the composition root: it imports `trygg.app`, and nothing
in the app imports it. The commands themselves are registered by `create_app` (the
kernel's are in `trygg/commands.py`, each package's in its own `cli.py`).
"""

from __future__ import annotations

import click
from flask import Flask

from trygg import keys
from trygg.app import create_app
from trygg.cli_groups import TryggGroup
from trygg.settings import ConfigError


def _create_app() -> Flask:
    """The app from settings; a configuration error is one line and exit status 2."""
    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        raise SystemExit(2) from None


cli = TryggGroup(
    name="trygg",
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="Trygg: incident reporting and case handling.",
)
# `trygg keys` is found without building the app, so that `trygg keys init` can make the
# keyring a production configuration names before it exists (the app refuses to start
# without it). Its other commands build the app when they run.
cli.add_command(keys.keys_cli)


def main() -> None:
    cli.main(prog_name="trygg")


if __name__ == "__main__":
    main()
