"""The API registry: `Api(bp, ...).post(...)` on a view routes it, validates its JSON body with
a pydantic model and records what the OpenAPI document says about it; `document(app)` builds
that document from the views and Flask's url_map; GET /api/openapi.json serves it.

Body failures: unparsable JSON is 400 invalid_json; a body that is not an object, a string
that is no valid Unicode (a lone surrogate, in a key too), a missing, unknown or mistyped
field, or one out of its limits is 422 invalid_input naming the field (`settings.<key>` for a
value inside an object field).
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_type_hints

from cc_common.errors import DomainError, InvalidInput
from flask import Blueprint, Flask, Response, current_app, jsonify, request, url_for
from google.protobuf.message import Message
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from pydantic_core import core_schema
from werkzeug.exceptions import RequestEntityTooLarge

from gateway_app.schemas import Answer, Body
from gateway_app.schemas.errors import DESCRIPTIONS, Error
from gateway_app.schemas.invoices import INVOICE_NUMBER
from gateway_app.schemas.merges import MERGE_ID
from gateway_app.schemas.packages import PACKAGE_ID
from gateway_app.security import token_required

M = TypeVar("M", bound=BaseModel)
REF = "#/components/schemas/{model}"
SCHEMES = {
    kind: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": text}
    for kind, text in (
        ("customer", "A customer token (POST /api/v1/auth/customer-login)"),
        ("package", "A package token (POST /api/v1/auth/package-login); never shows the owner"),
        ("staff", "A staff token (POST /api/v1/auth/staff-login)"),
    )
}
INFO = {
    "title": "Customer center API",
    "version": "1",
    "description": 'The gateway\'s JSON API. Errors: {"error": {"code", "message", "field"?}}. '
    "Limits: a JSON body of at most 1 MB (the signed contract-transfer form: 5 MB), a request "
    "line of at most 4094 bytes, at most 100 header fields of at most 8190 bytes each; over "
    "them the answer is 413, 414 or 431 in the same error shape. An answer given before the "
    "request body was read to its end carries `Connection: close` and the server closes the "
    "connection.",
}


def _file(media: str, what: str) -> dict[str, Any]:
    return {
        "description": f"The {what}, as an attachment (Content-Disposition: attachment)",
        "content": {media: {"schema": {"type": "string", "contentMediaType": media}}},
    }


PDF = _file("application/pdf", "PDF")
XML = _file("application/xml", "XML document")
# Error texts several operations share (a status left "" is described by DESCRIPTIONS).
THROTTLED = {429: ""}
MERGE_NOT_OPEN = "The merge is not in a state that allows this (merge_not_open)"
CUSTOMER_NOT_ACTIVE = "The customer number is frozen or retired (customer_not_active)"


class InvalidJson(DomainError):
    http_status = 400
    default_code = "invalid_json"


@dataclass(frozen=True)
class Param:
    """A path parameter: its schema and what every operation with it answers for an unknown (or
    another's) value, 404, and, where its form is checked, for a malformed one, 422."""

    schema: dict[str, Any]
    not_found: str
    malformed: str = ""

    def errors(self) -> dict[int, str]:
        return {404: self.not_found, **({422: self.malformed} if self.malformed else {})}


# Path parameters several blueprints share.
PACKAGE = Param(PACKAGE_ID, "Unknown package, or one the token may not see (not_found)")
MERGE = Param(MERGE_ID, "Unknown merge, or one the token may not see (not_found)")
INVOICE = Param(
    INVOICE_NUMBER,
    "Unknown invoice, or one the token may not see (not_found)",
    "A malformed invoice number (invalid_input, field number)",
)


@dataclass(frozen=True)
class Operation:
    """What the document says about one view. `answers`: status -> an Answer model, a tuple of
    them (one of), a schema (dict), PDF, XML, or a description (str) for an answer without body."""

    operation_id: str
    summary: str
    tag: str
    answers: dict[int, Any]
    body: type[Body] | None = None
    errors: dict[int, str] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    multipart: dict[str, Any] | None = None
    backend: bool = True
    location: str = ""  # 201 names the new resource: the endpoint of its URL (Location header)

    @property
    def status(self) -> int:
        """The status of success."""
        return min(self.answers)


View = Callable[..., Any]


class Api:
    """The operations of one blueprint. `@api.post(rule, answers, ...)` on a view routes it,
    requires the blueprint's token kinds (`kinds=` for others; () for none) and records its
    operation; the rest is derived from the view:

    - operationId: the view's name in camelCase (so a view is found by its operationId);
    - summary: the first paragraph of its docstring;
    - path parameters: by name from the blueprint's `params`, with the errors they imply;
    - body: the model of its `body` argument, which validates the JSON body;
    - answer: a returned Answer model is the JSON of the success status (a proto message: that
      of the documented model's from_proto), None is that status without body, a Response is
      answered as it is.
    """

    def __init__(self, bp: Blueprint, tag: str, *kinds: str, **params: Param) -> None:
        self.bp, self.tag, self.kinds, self.params = bp, tag, kinds, params

    def route(
        self,
        method: str,
        rule: str,
        answers: dict[int, Any],
        *,
        kinds: tuple[str, ...] | None = None,
        tag: str = "",
        errors: dict[int, str] | None = None,
        **more: Any,
    ) -> Callable[[View], View]:
        params = {name: self.params[name] for name in re.findall(r"<(?:[^<>:]+:)?([^<>]+)>", rule)}
        implied = {status: text for param in params.values() for status, text in param.errors().items()}
        needed = self.kinds if kinds is None else kinds

        def decorate(view: View) -> View:
            op = Operation(
                re.sub(r"_([a-z])", lambda m: m.group(1).upper(), view.__name__),
                " ".join((inspect.getdoc(view) or "").split("\n\n")[0].split()),
                tag or self.tag,
                answers,
                body=get_type_hints(view).get("body"),
                errors={**implied, **(errors or {})},
                params={name: param.schema for name, param in params.items()},
                **more,
            )

            @functools.wraps(view)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                if op.body is not None:
                    kwargs["body"] = parse(op.body)
                result = view(*args, **kwargs)
                if isinstance(result, Message):
                    result = op.answers[op.status].from_proto(result)
                if isinstance(result, Answer):
                    return answer(result, op.status, _location(op, result))
                return Response(status=op.status) if result is None else result

            wrapped.operation = op  # type: ignore[attr-defined]
            routed = token_required(*needed)(wrapped) if needed else wrapped
            self.bp.add_url_rule(rule, view_func=routed, methods=[method])
            return routed

        return decorate

    def get(self, rule: str, answers: dict[int, Any], **more: Any) -> Callable[[View], View]:
        return self.route("GET", rule, answers, **more)

    def post(self, rule: str, answers: dict[int, Any], **more: Any) -> Callable[[View], View]:
        return self.route("POST", rule, answers, **more)

    def put(self, rule: str, answers: dict[int, Any], **more: Any) -> Callable[[View], View]:
        return self.route("PUT", rule, answers, **more)

    def patch(self, rule: str, answers: dict[int, Any], **more: Any) -> Callable[[View], View]:
        return self.route("PATCH", rule, answers, **more)

    def delete(self, rule: str, answers: dict[int, Any], **more: Any) -> Callable[[View], View]:
        return self.route("DELETE", rule, answers, **more)


def _location(op: Operation, created: Any) -> dict[str, str]:
    """The URL of a new resource: that of the view `op.location`, which shows it by its id."""
    if not op.location:
        return {}
    shown: Operation = current_app.view_functions[op.location].operation  # type: ignore[union-attr]
    (name,) = shown.params
    return {"Location": url_for(op.location, **{name: created.id})}


def answer(model: Answer, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(model.json())
    response.status_code = status
    response.headers.update(headers or {})
    return response


# --- bodies -----------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_object() -> dict[str, Any]:
    """The request body as a JSON object. Reading it enforces MAX_CONTENT_LENGTH (413)."""
    raw = request.get_data(cache=True)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and request.content_length is None and len(raw) >= limit:
        # A body without Content-Length (chunked) is cut at the limit by werkzeug, silently.
        raise RequestEntityTooLarge()
    if not raw.strip():
        raise InvalidJson("The request body must be a JSON object.")
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise InvalidJson("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.")
    _check_encodable(body)
    return body


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\udfff", valid JSON but no text
        return False
    return True


def _check_encodable(body: dict[str, Any]) -> None:
    """Every string of the body (keys too, at any depth) is valid Unicode, or 422 naming the
    top-level field it is in: a lone surrogate would otherwise fail only when the protobuf
    request is built (500)."""
    for name, value in body.items():
        where = name[:50] if _encodable(name) else "body"
        pending: list[Any] = [name, value]
        while pending:
            item = pending.pop()
            if isinstance(item, str):
                if not _encodable(item):
                    raise InvalidInput(f"{where} must be valid Unicode text.", field=where)
            elif isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)


def parse(model: type[M]) -> M:
    """The body validated by `model`, or the InvalidInput of its first fault (an unknown field
    first, as nothing of an unexpected body is used)."""
    try:
        return model.model_validate(json_object())
    except ValidationError as error:
        raise invalid_input(error) from None


# What a body's fault says, by pydantic's error type ({name}: the field; the rest from the error's ctx).
TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "dict_type": "an object",
    "list_type": "a list",
    "model_type": "an object",
}
MESSAGES = {
    "missing": "{name} is required.",
    "extra_forbidden": "Unknown field: {name}.",
    **{kind: f"{{name}} must be {words}." for kind, words in TYPE_WORDS.items()},
    "string_too_long": "{name} must be at most {max_length} characters long.",
    "too_short": "{name} must hold at least {min_length} item(s).",
    "too_long": "{name} may hold at most {max_length} items.",
    "literal_error": "{name} must be one of: {expected}.",
    "greater_than_equal": "{name} must be a whole number from {ge} to {le}.",
    "less_than_equal": "{name} must be a whole number from {ge} to {le}.",
}


def _field_of(loc: tuple[Any, ...]) -> str | None:
    if not loc or not isinstance(loc[0], str):
        return None
    name = loc[0] if _encodable(loc[0]) else "body"
    if len(loc) >= 2 and isinstance(loc[1], str) and loc[-1] != "[key]" and _encodable(loc[1]):
        name = f"{name}.{loc[1]}"  # a value inside an object field, e.g. settings.php_version
    return name[:80]


def _message(kind: str, name: str, ctx: dict[str, Any], msg: str) -> str:
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return (
            f"{name} must not be empty."
            if least == 1
            else f"{name} must be at least {least} characters long."
        )
    values = {"max_length": None, "min_length": None, "expected": "", "ge": 0, "le": 10_000_000, **ctx}
    return MESSAGES[kind].format(name=name, **values) if kind in MESSAGES else msg.replace("{field}", name)


def invalid_input(error: ValidationError) -> InvalidInput:
    errors = error.errors(include_url=False)
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    name = _field_of(tuple(first["loc"]))
    return InvalidInput(
        _message(first["type"], name or "body", first.get("ctx") or {}, first["msg"]), field=name
    )


# --- the document -----------------------------------------------------------------------------


def _content(schema: Any, example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example:
        media["example"] = example
    return {"application/json": media}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _answer(status: int, value: Any, op: Operation) -> dict[str, Any]:
    if isinstance(value, str):
        return {"description": value}
    if value is PDF or value is XML:
        return value
    if isinstance(value, dict):
        return {"description": value.get("description", "The answer"), "content": _content(value)}
    if isinstance(value, tuple):  # one of several models
        return {
            "description": "; or: ".join((m.__doc__ or m.__name__).strip().splitlines()[0] for m in value),
            "content": _content({"oneOf": [_ref(m) for m in value]}, value[0].EXAMPLE),
        }
    out: dict[str, Any] = {
        "description": (value.__doc__ or value.__name__).strip().splitlines()[0],
        "content": _content(_ref(value), value.EXAMPLE),
    }
    if op.location:
        out["headers"] = {
            "Location": {"description": "The URL of the new resource", "schema": {"type": "string"}}
        }
    return out


def _errors(op: Operation, kinds: frozenset[str]) -> dict[int, str]:
    statuses = {414: "", 431: "", **dict.fromkeys((401, 403) if kinds else (), "")}
    if op.body is not None or op.multipart is not None:
        statuses.update(dict.fromkeys((400, 413, 422), ""))
    if op.backend:
        statuses[503] = ""
    statuses.update(op.errors)
    return {status: text or DESCRIPTIONS[status] for status, text in sorted(statuses.items())}


def _operation(op: Operation, kinds: frozenset[str], path_names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if kinds:
        out["description"] = "Token kinds: " + ", ".join(sorted(kinds)) + "."
    out["security"] = [{f"{kind}Token": []} for kind in sorted(kinds)]
    params = [{"name": n, "in": "path", "required": True, "schema": op.params[n]} for n in path_names]
    params += [{"name": n, "in": "query", "required": False, "schema": s} for n, s in op.query.items()]
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {
            "required": True,
            "content": _content(_ref(op.body), op.body.EXAMPLE),
        }
    elif op.multipart is not None:
        out["requestBody"] = {"required": True, "content": {"multipart/form-data": op.multipart}}
    responses = {str(status): _answer(status, value, op) for status, value in op.answers.items()}
    for status, text in _errors(op, kinds).items():
        responses.setdefault(str(status), {"description": text, "content": _content(_ref(Error))})
    out["responses"] = dict(sorted(responses.items()))
    return out


def _models(op: Operation) -> list[type[BaseModel]]:
    answers = [m for value in op.answers.values() for m in (value if isinstance(value, tuple) else (value,))]
    found = [value for value in answers if isinstance(value, type) and issubclass(value, BaseModel)]
    return found + ([op.body] if op.body is not None else [])


class _Schemas(GenerateJsonSchema):
    def default_schema(self, schema: core_schema.WithDefaultSchema) -> dict[str, Any]:
        if schema.get("default", ...) is None:  # an omitted() field: left out, not null
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered operation."""
    paths: dict[str, dict[str, Any]] = {}
    models: dict[str, type[BaseModel]] = {"Error": Error}
    for rule in app.url_map.iter_rules():  # every registered view, in url_map order
        view = app.view_functions[rule.endpoint]
        if (op := getattr(view, "operation", None)) is None:
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        kinds = frozenset(getattr(view, "token_kinds", ()))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                op, kinds, re.findall(r"\{([^}]+)\}", path)
            )
        models.update({model.__name__: model for model in _models(op)})
    modes: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (model, "validation" if issubclass(model, Body) else "serialization") for model in models.values()
    ]
    _, schemas = models_json_schema(modes, ref_template=REF, schema_generator=_Schemas)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {f"{kind}Token": scheme for kind, scheme in SCHEMES.items()},
            "schemas": dict(sorted(schemas.get("$defs", {}).items())),
        },
    }


bp = Blueprint("openapi", __name__)


@Api(bp, "openapi").get(
    "/api/openapi.json", {200: {"type": "object", "description": "OpenAPI 3.1"}}, backend=False
)
def get_open_api() -> Response:
    """This document"""
    # Built once per app, on the first request (every blueprint is registered by then).
    if "openapi_document" not in current_app.extensions:
        current_app.extensions["openapi_document"] = document(current_app)
    return jsonify(current_app.extensions["openapi_document"])


def main() -> None:
    """`make openapi`: prints the document, for docs/openapi.json."""
    from cc_common.revocation import RevocationState

    from gateway_app import create_app
    from gateway_app.testing import fake_backends

    app = create_app({"BACKENDS": fake_backends(), "REVOCATION_STATE": RevocationState()})
    print(json.dumps(document(app), indent=2, ensure_ascii=False))
