"""Ids in paths: a number no row can have is 404 before any view runs, never a 500.

The walk reads `app.url_map`, so routes that packages add later are covered. Each rule
is requested by a user its policy lets in, with ids past PostgreSQL's INTEGER (2^31),
past SQLite's and any 64-bit integer (2^63), and far beyond (2^70).
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import BigInteger, Integer
from werkzeug.routing import IntegerConverter, Rule

from tests.factories import api_login, csrf_token
from trygg.accounts.models import ROLES
from trygg.extensions import db
from trygg.ids import ID_MAX, IdConverter
from trygg.security import policy_of

HUGE = (2**31, 2**63, 2**70)


def id_rules(app: Flask) -> list[Rule]:
    found = [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IdConverter) for c in rule._converters.values())  # noqa: SLF001
    ]
    return sorted(found, key=lambda rule: rule.rule)


def url_with(rule: Rule, number: int) -> str:
    """The rule's path with `number` for every id and "1" for any other argument."""

    def fill(match: re.Match[str]) -> str:
        converter = rule._converters[match.group(1)]  # noqa: SLF001
        return str(number) if isinstance(converter, IdConverter) else "1"

    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-zA-Z_]\w*)>", fill, rule.rule)


def test_every_integer_in_a_path_is_an_id(app):
    plain = [
        (rule.rule, arg)
        for rule in app.url_map.iter_rules()
        for arg, converter in rule._converters.items()  # noqa: SLF001
        if isinstance(converter, IntegerConverter) and not isinstance(converter, IdConverter)
    ]
    assert plain == []
    # cases, users, units, groups, rules, tasks, messages, attachments, notifications…
    assert len(id_rules(app)) >= 30


def test_the_id_columns_hold_what_the_converter_lets_through(app):
    # ID_MAX is PostgreSQL's INTEGER; a BIGINT id column would need a larger one.
    for table in db.metadata.tables.values():
        for column in table.columns:
            if column.primary_key or column.foreign_keys:
                assert not isinstance(column.type, BigInteger), column
                if isinstance(column.type, Integer) and column.name.endswith("id"):
                    assert ID_MAX == 2**31 - 1


@pytest.mark.parametrize("role", ROLES)
def test_huge_ids_are_404_for_everyone_allowed(app, make, role):
    user = make.user(role)
    client = app.test_client()
    api_login(client, user)
    headers = {"X-CSRFToken": csrf_token(client)}
    checked, wrong = 0, []
    for rule in id_rules(app):
        policy = policy_of(app, rule.endpoint)
        assert policy is not None
        if policy.roles and role not in policy.roles:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for number in HUGE:
                url = url_with(rule, number)
                response = client.open(url, method=method, headers=headers)
                checked += 1
                json_api = url.startswith("/api/") == (response.mimetype == "application/json")
                if response.status_code != 404 or not json_api:
                    wrong.append((method, url, response.status_code))
    assert wrong == []
    assert checked > 0
    assert client.get("/api/v1/me").status_code == 200  # still logged in
