"""A small synthetic organisation with incidents in the last two ended quarters, and its
viewers. Units of 2, 4, 6 and 40 people:

    Tjenesten (no own staff)
    ├── Stor   40
    ├── Seks    6 (Two's 2 included)
    │   └── To  2
    └── Fire    4

With k = 5, To and Fire are too small to show; Tjenesten minus Stor minus Seks would be
Fire's 4 people, so the differencing guard shows Seks only inside Tjenesten as well.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from risk import demo
from risk.statistics import CACHE, add_months, quarter_of
from tests.factories import UnitInfo, UserInfo
from trygg import org as org_service
from trygg.extensions import db
from trygg.roles import Role


@dataclass
class TrendsOrg:
    root: UnitInfo
    big: UnitInfo
    six: UnitInfo
    two: UnitInfo
    four: UnitInfo
    outside: UnitInfo
    amu: UserInfo
    admin: UserInfo
    manager: UserInfo
    safety_rep: UserInfo
    handler: UserInfo
    employee: UserInfo
    small_manager: UserInfo


def ended_quarters(n: int = 2, today: date | None = None) -> list[date]:
    """The last n quarters that have ended."""
    last = add_months(quarter_of(today or datetime.now(UTC).date()), -3)
    return [add_months(last, -3 * i) for i in range(n - 1, -1, -1)]


RATES = {"big": 3.0, "six": 1.0, "two": 0.5, "four": 0.7, "outside": 2.0}


def add_incidents(app: Flask, units: dict[str, UnitInfo], seed: int, quarters: int = 2) -> None:
    """Random incidents in the last ended quarters, written as the demo writes them."""
    rng = random.Random(seed)
    first = ended_quarters(quarters)[0]
    last = add_months(ended_quarters(1)[0], 2)
    with app.app_context():
        found = []
        for name, rate in RATES.items():
            unit = units[name]
            profile = demo.Profile(
                rate * 100 / max(unit.headcount, 1),
                {"threat": 3, "verbal_abuse": 2, "physical_violence": 1, "bullying": 1},
                {"patient": 3, "relative": 1, "colleague": 1},
                {"patient_room": 2, "front_desk": 1},
            )
            found += demo.incidents([(unit.id, unit.headcount, profile)], first, last, rng)
        demo.write(found, datetime.now(UTC) - timedelta(days=1), rng)
        db.session.commit()
    CACHE.items.clear()


@pytest.fixture
def trends_org(app: Flask, make: Any) -> TrendsOrg:
    root = make.unit("Tjenesten", headcount=0)
    big = make.unit("Stor", parent=root, headcount=40)
    six = make.unit("Seks", parent=root, headcount=6)
    two = make.unit("To", parent=six, headcount=2)
    four = make.unit("Fire", parent=root, headcount=4)
    outside = make.unit("Andre", headcount=30)
    with app.app_context():
        assert org_service.get_unit(root.id) is not None
    return TrendsOrg(
        root,
        big,
        six,
        two,
        four,
        outside,
        amu=make.user(Role.AMU, name="Amu Member"),
        admin=make.user(Role.ADMIN, name="Ada Admin"),
        manager=make.user(Role.MANAGER, Role.EMPLOYEE, name="Mona Manager", manages=(root,)),
        safety_rep=make.user(
            Role.SAFETY_REP, Role.EMPLOYEE, name="Sverre Safety", units=(big,), represents=(big,)
        ),
        handler=make.user(Role.HANDLER, Role.EMPLOYEE, name="Hanna Handler", units=(root,)),
        employee=make.user(Role.EMPLOYEE, name="Ella Employee", units=(big,)),
        small_manager=make.user(Role.MANAGER, name="Liten Leder", manages=(four,)),
    )


@pytest.fixture
def with_incidents(app: Flask, trends_org: TrendsOrg) -> Callable[[int], None]:
    units = {
        "big": trends_org.big,
        "six": trends_org.six,
        "two": trends_org.two,
        "four": trends_org.four,
        "outside": trends_org.outside,
    }
    return lambda seed: add_incidents(app, units, seed)
