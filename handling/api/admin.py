"""The admin's API: handler groups, routing rules, warnings and deadline policies."""

from __future__ import annotations

from flask import Response, jsonify

from handling import admin_schemas, service
from handling.api.base import NOT_FOUND, _not_found, _user, bp
from handling.models import RoutingRule
from handling.presenters import _policy_out
from trygg.accounts.models import Role
from trygg.api import documented, load_json
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.security import allow

# -- admin ------------------------------------------------------------------------------


def _admin() -> str:
    return actor_label(_user())


@bp.get("/admin/handler-groups")
@allow(Role.ADMIN)
@documented(
    "Handler groups and their members",
    response=admin_schemas.HandlerGroupOutSchema(many=True),
    tags=("admin",),
)
def handler_groups() -> Response:
    """Every group with its members, escalation contacts and default/fallback flags."""
    return jsonify(admin_schemas.HandlerGroupOutSchema(many=True).dump(service.handler_groups()))


@bp.post("/admin/handler-groups")
@allow(Role.ADMIN)
@documented(
    "Create a handler group",
    body=admin_schemas.HandlerGroupSchema,
    response=admin_schemas.HandlerGroupOutSchema,
    status=201,
    tags=("admin",),
    links={
        "UpdateGroup": ("api_handling.update_handler_group", {"group_id": "$response.body#/id"})
    },
)
def create_handler_group() -> tuple[Response, int]:
    """Members must hold the handler role; one default and one fallback group at most."""
    data = load_json(admin_schemas.HandlerGroupSchema())
    group = service.save_group(actor=_admin(), **data)
    return jsonify(admin_schemas.HandlerGroupOutSchema().dump(group)), 201


@bp.put("/admin/handler-groups/<id:group_id>")
@allow(Role.ADMIN)
@documented(
    "Change a handler group (name, members, flags)",
    body=admin_schemas.HandlerGroupSchema,
    response=admin_schemas.HandlerGroupOutSchema,
    tags=("admin",),
    errors=NOT_FOUND,
)
def update_handler_group(group_id: int) -> Response:
    """New members' conflicts of interest with the group's cases are recorded first."""
    group = service.get_group(group_id)
    data = load_json(admin_schemas.HandlerGroupSchema())
    service.save_group(actor=_admin(), group=group, **data)
    return jsonify(admin_schemas.HandlerGroupOutSchema().dump(group))


@bp.get("/admin/routing-rules")
@allow(Role.ADMIN)
@documented(
    "Routing rules (unit subtree, incident type, track → group)",
    response=admin_schemas.RoutingRuleOutSchema(many=True),
    tags=("admin",),
)
def routing_rules() -> Response:
    """Every rule; the most specific matching one routes a case."""
    return jsonify(admin_schemas.RoutingRuleOutSchema(many=True).dump(service.routing_rules()))


@bp.post("/admin/routing-rules")
@allow(Role.ADMIN)
@documented(
    "Add a routing rule (empty criteria match anything)",
    body=admin_schemas.RoutingRuleSchema,
    response=admin_schemas.RoutingRuleOutSchema,
    status=201,
    tags=("admin",),
    links={"DeleteRule": ("api_handling.delete_routing_rule", {"rule_id": "$response.body#/id"})},
)
def create_routing_rule() -> tuple[Response, int]:
    """New cases are routed by it; existing cases stay where they are."""
    data = load_json(admin_schemas.RoutingRuleSchema())
    rule = service.create_rule(actor=_admin(), **data)
    return jsonify(admin_schemas.RoutingRuleOutSchema().dump(rule)), 201


@bp.delete("/admin/routing-rules/<id:rule_id>")
@allow(Role.ADMIN)
@documented("Remove a routing rule", tags=("admin",), errors=NOT_FOUND)
def delete_routing_rule(rule_id: int) -> Response:
    """Existing cases stay where they are."""
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise _not_found()
    service.delete_rule(rule, actor=_admin())
    return jsonify({})


@bp.get("/admin/routing-warnings")
@allow(Role.ADMIN)
@documented(
    "Active cases routed to the fallback group or to no one (no content)",
    response=admin_schemas.RoutingWarningSchema(many=True),
    tags=("admin",),
)
def routing_warnings() -> Response:
    """Case ids with the warning code, so an admin can fix routing or groups."""
    return jsonify(admin_schemas.RoutingWarningSchema(many=True).dump(service.routing_warnings()))


@bp.get("/admin/deadline-policies")
@allow(Role.ADMIN)
@documented(
    "The deadline policies", response=admin_schemas.DeadlinePoliciesOutSchema, tags=("admin",)
)
def deadline_policies() -> Response:
    """Every policy row (kind, track, incident type, minimum severity → duration)."""
    return jsonify({"policies": [_policy_out(p) for p in service.policies()]})


@bp.put("/admin/deadline-policies")
@allow(Role.ADMIN)
@documented(
    "Replace the deadline policies",
    body=admin_schemas.DeadlinePoliciesSchema,
    response=admin_schemas.DeadlinePoliciesOutSchema,
    tags=("admin",),
)
def replace_deadline_policies() -> Response:
    """New cases, triage and track changes use the new policies."""
    data = load_json(admin_schemas.DeadlinePoliciesSchema())
    rows = service.replace_policies(data["policies"], actor=_admin())
    return jsonify({"policies": [_policy_out(p) for p in rows]})
