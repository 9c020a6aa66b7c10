"""Operator commands: `trygg units ...`, `trygg users ...`, `trygg demo seed`."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import Factory, UserInfo, api_login, csrf_token
from trygg.accounts.models import User
from trygg.extensions import db
from trygg.org import Unit
from trygg.roles import Role

PASSWORD = "operator chosen passphrase"


def ok(runner, *args: str, stdin: str | None = None) -> str:
    result = runner.invoke(args=list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def refused(runner, *args: str, stdin: str | None = None) -> str:
    """Run a command that must fail; return its one error line."""
    result = runner.invoke(args=list(args), input=stdin)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def can_log_in(app, email: str, password: str) -> bool:
    client = app.test_client()
    response = client.post(
        "/api/v1/session",
        json={"email": email, "password": password},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    return response.status_code == 200


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Unit)),
            db.session.scalar(select(func.count()).select_from(User)),
        )


def test_units_create_builds_the_tree(app, runner):
    assert "created unit Sykehuset" in ok(
        runner, "units", "create", "Sykehuset", "--headcount", "600"
    )
    ok(runner, "units", "create", "Akutten", "--parent", "Sykehuset", "--headcount", "80")
    ok(runner, "units", "create", "Akutten natt", "--parent", "Akutten")
    listing = ok(runner, "units", "list").splitlines()
    assert [re.sub(r" \(id \d+,", " (", line) for line in listing] == [
        "Sykehuset ( 600)",
        "  Akutten ( 80)",
        "    Akutten natt ( 0)",
    ]


def test_users_create_with_roles_units_and_a_password(app, runner):
    ok(runner, "units", "create", "Akutten")
    ok(runner, "units", "create", "Sengepost")
    output = ok(
        runner,
        "users", "create", "Kari@Example.org",
        "--name", "Kari Nordmann",
        "--role", Role.EMPLOYEE.value, "--role", Role.MANAGER.value,
        "--unit", "Akutten", "--manages", "Sengepost",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert "created user kari@example.org" in output
    assert "employee, manager" in output
    client = app.test_client()
    api_login(client, UserInfo(0, "kari@example.org", PASSWORD, ()))
    me = client.get("/api/v1/me").get_json()
    assert me["roles"] == [Role.EMPLOYEE, Role.MANAGER]
    assert sorted((u["name"], u["is_manager"]) for u in me["units"]) == [
        ("Akutten", False),
        ("Sengepost", True),
    ]
    assert "kari@example.org\tKari Nordmann\temployee,manager\tactive" in ok(
        runner, "users", "list"
    )


def test_users_set_password_and_deactivate(app, make, runner):
    user = make.user(Role.EMPLOYEE)
    ok(runner, "users", "set-password", user.email, "--password-stdin", stdin=PASSWORD + "\n")
    assert not can_log_in(app, user.email, user.password)
    assert can_log_in(app, user.email, PASSWORD)
    ok(runner, "users", "deactivate", user.email)
    assert not can_log_in(app, user.email, PASSWORD)
    assert "\tinactive" in ok(runner, "users", "list")


def test_users_reset_two_factor(app, make, runner):
    manager = make.user(Role.MANAGER, Role.ADMIN)
    said = ok(runner, "users", "reset-two-factor", manager.email)
    assert said.strip() == f"two-factor reset for {manager.email}; their password is unchanged"
    client = app.test_client()
    manager.totp_secret = None
    api_login(client, manager)  # no code asked for any more
    assert "otp" in client.get("/api/v1/units").get_json()["errors"]  # must enrol again


def test_users_reset_two_factor_of_a_handler_is_a_full_reset(app, make, runner, inbox):
    handler = make.user(Role.HANDLER)
    result = ok(runner, "users", "reset-two-factor", handler.email)
    client = app.test_client()
    refused = client.post(
        "/api/v1/session",
        json={"email": handler.email, "password": handler.password, "otp": handler.otp()},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert refused.status_code == 401, result
    assert inbox.code(handler.email)
    # The operator is told what was done: not only two-factor, the password too.
    first, second = result.strip().splitlines()
    assert first == (
        f"full reset for {handler.email}, who reads case content: their password and "
        "two-factor authentication are removed and their sessions ended"
    )
    assert second.startswith(f"set-password code sent by e-mail to {handler.email} ")


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (["units", "create", "Ny", "--parent", "Finnes ikke"], None, "no unit named 'Finnes ikke'"),
        (["units", "create", "Sykehuset"], None, "already exists"),
        (["units", "create", "   "], None, "needs a name"),
        (
            ["users", "create", "ny@example.org", "--name", "Ny", "--role", Role.EMPLOYEE.value,
             "--unit", "Finnes ikke"],
            None,
            "no unit named 'Finnes ikke'",
        ),
        (
            ["users", "create", "TAKEN@example.org", "--name", "Ny", "--role", Role.EMPLOYEE.value],
            None,
            "already exists",
        ),
        (
            ["users", "create", "ny@example.org", "--name", "Ny", "--role", Role.EMPLOYEE.value,
             "--password-stdin"],
            "short\n",
            "at least 12 characters",
        ),
        (
            ["users", "create", "ny@example.org", "--name", "Ny", "--role", Role.EMPLOYEE.value,
             "--password-stdin"],
            "\n",
            "no password on standard input",
        ),
        (
            ["users", "create", "ny@example.org", "--name", "  ", "--role", Role.EMPLOYEE.value],
            None,
            "required",
        ),
        (
            ["users", "set-password", "taken@example.org", "--password-stdin"],
            "short\n",
            "at least 12",
        ),
        (["users", "set-password", "nobody@example.org", "--password-stdin"], PASSWORD, "no user"),
        (["users", "deactivate", "nobody@example.org"], None, "no user with e-mail"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_change_nothing(app, make, runner, args, stdin, says):
    make.unit("Sykehuset")
    make.user(Role.EMPLOYEE, email="taken@example.org")
    before = counts(app)
    line = refused(runner, *args, stdin=stdin)
    assert line.startswith("Error: ")
    assert says in line
    assert counts(app) == before
    assert can_log_in(app, "taken@example.org", "correct horse battery staple")


def test_unknown_role_is_a_usage_error(runner):
    result = runner.invoke(
        args=["users", "create", "a@example.org", "--name", "A", "--role", "boss"]
    )
    assert result.exit_code == 2
    assert "'boss' is not one of" in result.output


# -- the demo organisation ----------------------------------------------------------------


@pytest.fixture
def demo_app(make_app, tmp_path):
    return make_app(instance_path=str(tmp_path))


def test_demo_seed_creates_a_working_organisation(demo_app, tmp_path):
    runner = demo_app.test_cli_runner()
    output = ok(runner, "demo", "seed")
    assert counts(demo_app) == (6, 6)
    logins = re.findall(r"^\s+(\S+@demo\.trygg\.no)\s+(\S+)\s+(.+)$", output, re.MULTILINE)
    assert [(email.split("@")[0], roles) for email, _, roles in logins] == [
        ("ansatt", Role.EMPLOYEE),
        ("saksbehandler", "handler, employee"),
        ("leder", "manager, employee"),
        ("verneombud", "safety_rep, employee"),
        ("amu", "amu, employee"),  # vocabulary: login name
        ("admin", Role.ADMIN),  # vocabulary: login name
    ]
    email, password, _ = logins[0]
    assert can_log_in(demo_app, email, password)
    saved = Path(tmp_path) / "demo-logins.txt"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert password in saved.read_text()


def test_demo_seed_if_empty_is_a_no_op_the_second_time(demo_app):
    runner = demo_app.test_cli_runner()
    first = ok(runner, "demo", "seed", "--if-empty")
    again = ok(runner, "demo", "seed", "--if-empty")
    assert counts(demo_app) == (6, 6)
    assert again.strip() == first.strip()  # shows the same logins again
    line = refused(runner, "demo", "seed")
    assert "users already exist" in line
    assert counts(demo_app) == (6, 6)


@pytest.mark.parametrize("options", [(), ("--if-empty",)])
def test_demo_seed_refuses_a_production_database(make_app, tmp_path, options):
    """Made-up people with printed passwords and fake incidents have no place beside
    real reports (or in a new production database about to get them)."""
    production = make_app(
        instance_path=str(tmp_path), env="production", base_url="https://trygg.example.org"
    )
    line = refused(production.test_cli_runner(), "demo", "seed", *options)
    assert "refused: TRYGG_ENV is production" in line
    assert "made-up people" in line
    assert counts(production) == (0, 0)
    assert not (Path(tmp_path) / "demo-logins.txt").exists()


def test_demo_seed_if_empty_leaves_a_real_organisation_alone(demo_app):
    Factory(demo_app).user(Role.ADMIN)
    runner = demo_app.test_cli_runner()
    assert ok(runner, "demo", "seed", "--if-empty").strip() == ""
    assert counts(demo_app) == (0, 1)
