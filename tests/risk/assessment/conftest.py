"""An organisation for risk assessments: a hospital with an emergency department (and a
ward below it) and another department, with one person per role.

    Sykehuset 60
    ├── Akutten 40
    │   └── Post 2 20
    └── Andre 30
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from risk.statistics import CACHE
from tests.factories import Factory, UnitInfo, UserInfo
from tests.handling.conftest import Api
from trygg.roles import Role


@dataclass
class RiskOrg:
    hospital: UnitInfo
    emergency: UnitInfo
    ward: UnitInfo
    other: UnitInfo
    manager: UserInfo
    other_manager: UserInfo
    safety_rep: UserInfo
    amu: UserInfo
    employee: UserInfo
    other_employee: UserInfo
    handler: UserInfo
    admin: UserInfo


@pytest.fixture
def ra(app: Flask, make: Any) -> RiskOrg:
    hospital = make.unit("Sykehuset", headcount=150)
    emergency = make.unit("Akutten", parent=hospital, headcount=60)
    ward = make.unit("Post 2", parent=emergency, headcount=20)
    other = make.unit("Andre", parent=hospital, headcount=30)
    safety_rep = make.user(
        Role.SAFETY_REP,
        Role.EMPLOYEE,
        name="Vera Verneombud",
        units=(emergency,),
        represents=(emergency,),
    )
    return RiskOrg(
        hospital,
        emergency,
        ward,
        other,
        manager=make.user(Role.MANAGER, Role.EMPLOYEE, name="Lars Leder", manages=(emergency,)),
        other_manager=make.user(Role.MANAGER, Role.EMPLOYEE, name="Olga Other", manages=(other,)),
        safety_rep=safety_rep,
        amu=make.user(Role.AMU, name="Amund AMU"),
        employee=make.user(Role.EMPLOYEE, name="Kari Nordmann", units=(ward,)),
        other_employee=make.user(Role.EMPLOYEE, name="Per Andre", units=(other,)),
        handler=make.user(
            Role.HANDLER, Role.EMPLOYEE, name="Sara Saksbehandler", units=(hospital,)
        ),
        admin=make.user(Role.ADMIN, name="Ada Admin"),
    )


def today() -> date:
    return datetime.now(UTC).date()


def assessment_body(unit: UnitInfo, **extra: Any) -> dict[str, Any]:
    body = {
        "unit_id": unit.id,
        "title": "Vold og trusler",
        "period_start": today().isoformat(),
        "period_end": (today() + timedelta(days=365)).isoformat(),
        "next_review": (today() + timedelta(days=180)).isoformat(),
    }
    body.update(extra)
    return body


def measure_body(ra: RiskOrg, **changes: Any) -> dict[str, Any]:
    """A valid new measure for risk item R1, the manager responsible, due today."""
    return {
        "item_ref": 1,
        "goal": "Alarm",
        "what": "Alarm buttons",
        "responsible_id": ra.manager.id,
        "deadline": today().isoformat(),
        **changes,
    }


ITEM = {
    "hazard": "Aggressive patients in the waiting room, evenings",
    "factors": ["where_when", "alarms"],
    "likelihood": 3,
    "consequence": 4,
    "scope_places": ["front_desk"],
}


@pytest.fixture
def approved(app: Flask, ra: RiskOrg) -> Callable[..., dict[str, Any]]:
    """approved(**item) → an approved assessment of Akutten with one item (JSON)."""

    def make_one(**item: Any) -> dict[str, Any]:
        client = Api(app, ra.manager)
        created = client.post("/api/v1/risk/assessments", assessment_body(ra.emergency))
        assert created.status_code == 201, created.get_json()
        aid = created.get_json()["id"]
        added = client.post(f"/api/v1/risk/assessments/{aid}/items", {**ITEM, **item})
        assert added.status_code == 201, added.get_json()
        done = client.post(f"/api/v1/risk/assessments/{aid}/status", {"status": "approved"})
        assert done.status_code == 200, done.get_json()
        return done.get_json()

    return make_one


def report(app: Flask, reporter: UserInfo, unit: UnitInfo, **fields: Any) -> int:
    """Submit a report through the intake service (committed); its id."""
    report_id = Factory(app).report_id(reporter, unit_id=unit.id, **fields)
    CACHE.items.clear()
    return report_id
