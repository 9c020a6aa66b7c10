"""The demo organisation for `make run`: a small hospital and one user per role.

Passwords are random, printed once and kept in instance/demo-logins.txt (mode 0600) so
a second `make run` can show them again. Never used in production.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trygg import audit, org
from trygg.accounts import service as accounts
from trygg.accounts.models import Role

DEMO_DOMAIN = "demo.trygg.no"

# (name, parent, headcount)
UNITS = [
    ("Trygg sykehus", None, 640),
    ("Akuttmottaket", "Trygg sykehus", 85),
    ("Psykiatrisk avdeling", "Trygg sykehus", 120),
    ("Hjemmetjenesten", "Trygg sykehus", 60),
    ("Hjemmetjenesten sone nord", "Hjemmetjenesten", 4),
    ("Hjemmetjenesten sone sør", "Hjemmetjenesten", 18),
]

# (local part, name, roles, unit, units led, units represented as safety representative)
USERS = [
    ("ansatt", "Kari Nordmann", [Role.EMPLOYEE], "Akuttmottaket", (), ()),
    (
        "saksbehandler",
        "Sara Saksbehandler",
        [Role.HANDLER, Role.EMPLOYEE],
        "Trygg sykehus",
        (),
        (),
    ),
    (
        "leder",
        "Lars Leder",
        [Role.MANAGER, Role.EMPLOYEE],
        "Akuttmottaket",
        ("Akuttmottaket", "Hjemmetjenesten"),
        (),
    ),
    (
        "verneombud",
        "Vera Verneombud",
        [Role.SAFETY_REP, Role.EMPLOYEE],
        "Akuttmottaket",
        (),
        ("Akuttmottaket",),
    ),
    # The working environment committee (AMU): trends and risk assessments for the whole
    # organisation, comments and statements, never a case.
    (
        "amu",  # vocabulary: login
        "Anders Amundsen",
        [Role.AMU, Role.EMPLOYEE],
        "Trygg sykehus",
        (),
        (),
    ),
    ("admin", "Ada Administrator", [Role.ADMIN], "Trygg sykehus", (), ()),  # vocabulary: login
]


# Domain packages add their demo data here (the kernel never imports them): each hook
# runs after the demo units and users exist, in the same transaction.
_SEED_HOOKS: list[Callable[[], None]] = []


def register_seed_hook(hook: Callable[[], None]) -> None:
    """Run `hook` at the end of `seed()`; registering the same hook twice is harmless."""
    if hook not in _SEED_HOOKS:
        _SEED_HOOKS.append(hook)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    roles: tuple[str, ...]


def seed() -> list[DemoLogin]:
    """Create the demo units and users; the caller commits."""
    by_name: dict[str, org.Unit] = {}
    for name, parent, headcount in UNITS:
        unit = org.create_unit(name, parent=by_name.get(parent or ""), headcount=headcount)
        by_name[name] = unit
        audit.record("unit.create", actor="demo", object_type="unit", object_id=unit.id)
    logins = []
    for local, name, roles, unit_name, manages, represents in USERS:
        password = "-".join(secrets.token_hex(3) for _ in range(3))
        email = f"{local}@{DEMO_DOMAIN}"
        accounts.create_user(
            email=email,
            name=name,
            roles=[r.value for r in roles],
            units=[by_name[unit_name]],
            managed_units=[by_name[u] for u in manages],
            represented_units=[by_name[u] for u in represents],
            password=password,
            actor="demo",
        )
        logins.append(DemoLogin(email, password, tuple(r.value for r in roles)))
    for hook in _SEED_HOOKS:
        hook()
    return logins


def format_logins(logins: list[DemoLogin]) -> str:
    lines = ["Demo logins (also in instance/demo-logins.txt):"]
    for login in logins:
        lines.append(f"  {login.email:<32} {login.password:<20} {', '.join(login.roles)}")
    lines.append("Handlers and admins set up an authenticator app at first login.")
    return "\n".join(lines)


def logins_file(instance_path: str) -> Path:
    return Path(instance_path) / "demo-logins.txt"


def save_logins(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
