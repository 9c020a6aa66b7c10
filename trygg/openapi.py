"""The OpenAPI document of the JSON API, generated from the URL map.

Every API view is decorated with `@documented(...)`, which records its contract (an
ApiDoc: body, query and response schemas, links); `build_spec` walks the URL map, so a
route cannot exist without appearing in the document (a test checks this). The error
codes every operation of its kind can give are added here, not by each view.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema
from werkzeug.routing import IntegerConverter, Rule

from trygg.ids import ID_MAX
from trygg.security import Policy, policy_of

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ApiDoc:
    summary: str
    body: type[Schema] | Schema | None = None
    response: type[Schema] | Schema | None = None
    status: int = 200
    tags: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    # Also accepted as multipart/form-data: the body as JSON in the part "data", and
    # files in parts of this name.
    files: str | None = None
    # The query string's parameters, as a schema.
    query: type[Schema] | None = None
    # OpenAPI links from the success response: name → (target endpoint, one method, {parameter:
    # runtime expression}), e.g. ("api_reporting.get_report", {"report_id":
    # "$response.body#/id"}): "create a report, then read it".
    links: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)


def documented(
    summary: str,
    *,
    body: type[Schema] | Schema | None = None,
    response: type[Schema] | Schema | None = None,
    status: int = 200,
    tags: tuple[str, ...] = (),
    errors: tuple[int, ...] = (),
    files: str | None = None,
    query: type[Schema] | None = None,
    links: dict[str, tuple[str, dict[str, str]]] | None = None,
) -> Callable[[F], F]:
    """Record an API view's contract for the OpenAPI document.

    `files` names the multipart part that carries files, for a view that also takes its
    body as multipart/form-data (the JSON object in a part named "data"); `query` is the
    schema of its query string; `links` lead from the success response to the operations
    that use what it made (see ApiDoc).
    """

    def decorate(view: F) -> F:
        view._trygg_api_doc = ApiDoc(  # type: ignore[attr-defined]
            summary,
            body,
            response,
            status,
            tags,
            errors,
            files=files,
            query=query,
            links=links or {},
        )
        return view

    return decorate


def _schema_name(schema: type[Schema] | Schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__.removesuffix("Schema") or cls.__name__


def multipart_body(app: Flask, body: dict[str, Any], files: str) -> dict[str, Any]:
    """A multipart/form-data body: the JSON object as the part "data", files beside it."""
    cfg = app.config["TRYGG"]
    return {
        "schema": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": body,
                files: {
                    "type": "array",
                    "items": {"type": "string", "format": "binary"},
                    "maxItems": cfg["attachment_max_count"],
                    "description": (
                        f"Files, each at most {cfg['attachment_max_bytes']} bytes. "
                        "The type is decided by the content."
                    ),
                },
                "csrf_token": {
                    "type": "string",
                    "description": "The CSRF token, instead of the X-CSRFToken header.",
                },
            },
        },
        # The "data" part is the same JSON object as the application/json body.
        "encoding": {"data": {"contentType": "application/json"}},
    }


def build_spec(app: Flask) -> dict[str, Any]:
    """Generate the OpenAPI document from the URL map and each view's ApiDoc."""
    spec = APISpec(
        title="Trygg API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "State-changing calls need the X-CSRFToken header from /api/v1/csrf."},
    )
    spec.components.schema("Errors", ERROR_SCHEMA)
    ref = _SchemaRefs(spec)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        doc = _api_doc(app, rule)
        if doc is None:
            continue
        path, params = _path_and_parameters(rule)
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for method in methods:
            op: dict[str, Any] = {
                "operationId": _operation_id(rule.endpoint, method, methods),
                "summary": doc.summary,
                "tags": list(doc.tags),
            }
            if params or doc.query is not None:
                query = [{"in": "query", "schema": doc.query}] if doc.query is not None else []
                op["parameters"] = [*params, *query]
            if doc.body is not None:
                op["requestBody"] = _request_body(app, doc, ref)
            errors = _common_errors(doc, method, policy_of(app, rule.endpoint))
            op["responses"] = _responses(doc, (*doc.errors, *errors), ref)
            paths.setdefault(path, {})[method.lower()] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


# Every error: {"errors": {field: [message, ...]}}, "_request" for the whole request.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["errors"],
    "additionalProperties": False,
    "properties": {
        "errors": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "minLength": 1},
            },
        }
    },
}


class _SchemaRefs:
    """A schema's reference in the document, registering it the first time."""

    def __init__(self, spec: APISpec) -> None:
        self.spec = spec
        self.registered: set[str] = set()

    def __call__(self, schema: type[Schema] | Schema) -> dict[str, Any]:
        name = _schema_name(schema)
        many = isinstance(schema, Schema) and schema.many
        # A schema first seen nested in another is already registered by the plugin.
        if name not in self.registered and name not in self.spec.components.schemas:
            self.spec.components.schema(name, schema=type(schema) if many else schema)
            self.registered.add(name)
        reference = {"$ref": f"#/components/schemas/{name}"}
        return {"type": "array", "items": reference} if many else reference


def _api_doc(app: Flask, rule: Rule) -> ApiDoc | None:
    """The contract of an API route's view; None for a route outside the API."""
    if not rule.rule.startswith("/api/"):
        return None
    return getattr(app.view_functions[rule.endpoint], "_trygg_api_doc", None)


def _path_and_parameters(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """The rule as an OpenAPI path (`{name}`) and its path parameters; an id is an
    integer no larger than the id columns hold."""
    path = rule.rule
    params = []
    for arg in rule.arguments:
        converter = rule._converters[arg]  # noqa: SLF001 - werkzeug exposes no public map
        kind: dict[str, Any] = {"type": "string"}
        if isinstance(converter, IntegerConverter):
            kind = {"type": "integer", "minimum": 0, "maximum": ID_MAX}
        path = re.sub(rf"<(?:int:|id:)?{arg}>", "{" + arg + "}", path)
        params.append({"name": arg, "in": "path", "required": True, "schema": kind})
    return path, params


def _request_body(app: Flask, doc: ApiDoc, ref: _SchemaRefs) -> dict[str, Any]:
    """The body as JSON, and as multipart/form-data where the view takes files."""
    assert doc.body is not None  # noqa: S101 - the caller checked
    content = {"application/json": {"schema": ref(doc.body)}}
    if doc.files is not None:
        content["multipart/form-data"] = multipart_body(app, ref(doc.body), doc.files)
    return {"required": True, "content": content}


def _responses(doc: ApiDoc, errors: tuple[int, ...], ref: _SchemaRefs) -> dict[str, Any]:
    """The success response (its schema and links), then each error code's."""
    ok: dict[str, Any] = {"description": "OK"}
    if doc.response is not None:
        ok["content"] = {"application/json": {"schema": ref(doc.response)}}
    if doc.links:
        ok["links"] = {
            name: {"operationId": target, "parameters": p}
            for name, (target, p) in doc.links.items()
        }
    responses: dict[str, Any] = {str(doc.status): ok}
    for code in sorted(set(errors)):
        responses[str(code)] = {
            "description": "Error",
            "content": {"application/json": {"schema": "Errors"}},
        }
    return responses


STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _operation_id(endpoint: str, method: str, methods: list[str]) -> str:
    """The endpoint's name, with the method where one endpoint answers several."""
    return endpoint if len(methods) == 1 else f"{endpoint}.{method.lower()}"


def _common_errors(doc: ApiDoc, method: str, policy: Policy | None) -> tuple[int, ...]:
    """The error codes every operation of its kind may answer, whatever its view says.

    400 for a body or query that does not validate, and for a missing or expired CSRF
    token on a state-changing call; 413 and 415 for a body too large or not JSON; 401
    before logging in and 403 without the role (or before enrolling two-factor).
    """
    codes: list[int] = []
    if doc.body is not None or doc.query is not None or method in STATE_CHANGING:
        codes.append(400)
    if doc.body is not None:
        codes += [413, 415]
    if policy is None or not policy.public:
        codes += [401, 403]
    return tuple(codes)
