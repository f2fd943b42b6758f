"""GET /api/openapi.json: the API as OpenAPI 3.1. A unit test holds it against app.url_map."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from gateway_app.serializers import CUSTOMER_FIELDS

bp = Blueprint("openapi", __name__)

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
PASSWORD = {"type": "string", "minLength": 1, "maxLength": 128, "format": "password"}
NEW_PASSWORD = {"type": "string", "minLength": 8, "maxLength": 128, "format": "password"}
CUSTOMER_NUMBER = {"type": "string", "pattern": "^[0-9]{1,20}$"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


ERROR = {"description": "An error", **_json(_ref("Error"))}
ERRORS = {
    "400": {"description": "The body is not valid JSON (invalid_json)", **_json(_ref("Error"))},
    "413": {"description": "The body is larger than 1 MB (payload_too_large)", **_json(_ref("Error"))},
    "422": {"description": "Invalid input (invalid_input, with field)", **_json(_ref("Error"))},
}
AUTH_ERRORS = {
    "401": {"description": "No, bad, expired or revoked token (unauthenticated)", **_json(_ref("Error"))},
    "403": {"description": "A token of the wrong kind (forbidden)", **_json(_ref("Error"))},
    "503": {
        "description": "A service needed for this call is down (service_unavailable)",
        **_json(_ref("Error")),
    },
}


def _op(
    summary: str,
    tag: str,
    responses: dict[str, Any],
    *,
    kinds: tuple[str, ...] = (),
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": dict(responses)}
    if kinds:
        op["security"] = [{"bearerAuth": []}]
        op["description"] = "Token kinds: " + ", ".join(kinds) + "."
        op["responses"].update(AUTH_ERRORS)
    else:
        op["security"] = []
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
        op["responses"].update(ERRORS)
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, **(_json(schema) if schema else {})}


LOGIN_ERRORS = {
    "401": {"description": "Wrong credentials (invalid_credentials)", **_json(_ref("Error"))},
    "429": {"description": "Too many attempts (too_many_attempts), with Retry-After", **_json(_ref("Error"))},
    "503": AUTH_ERRORS["503"],
}

COMPONENTS: dict[str, Any] = {
    "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
    "schemas": {
        "Error": _obj(
            {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": STRING,
                        "message": STRING,
                        "field": STRING,
                        "merged_into": STRING,
                        "retry_after": STRING,
                        "service": STRING,
                    },
                    "required": ["code", "message"],
                }
            },
            ["error"],
        ),
        "Token": _obj(
            {
                "access_token": STRING,
                "token_type": {"const": "Bearer"},
                "expires_in": {"type": "integer"},
                "kind": {"enum": ["customer", "package", "staff"]},
                "package_id": STRING,
            },
            ["access_token", "token_type", "expires_in", "kind"],
        ),
        "Customer": _obj(
            {
                "customer_number": STRING,
                "market": {"enum": ["de", "nl", "uk"]},
                **{name: NULLABLE_STRING for name in CUSTOMER_FIELDS},
                "payment": _obj(
                    {
                        "method": {"enum": ["sepa", "card", None]},
                        "iban_masked": NULLABLE_STRING,
                        "bic": NULLABLE_STRING,
                        "card_last4": NULLABLE_STRING,
                        "card_expiry": NULLABLE_STRING,
                    }
                ),
            }
        ),
        "Package": _obj(
            {
                "id": STRING,
                "customer_number": STRING,
                "product": STRING,
                "domains": {"type": "array", "items": STRING},
                "status": {"enum": ["active", "terminated"]},
                "created_at": NULLABLE_STRING,
            },
            ["id", "product", "domains", "status"],
        ),
        "Invoice": _obj(
            {
                "number": STRING,
                "date": NULLABLE_STRING,
                "amount": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"},
                "currency": STRING,
                "status": {"enum": ["open", "paid"]},
            },
            ["number", "amount", "currency", "status"],
        ),
        "Health": {
            "type": "object",
            "properties": {
                "status": {"enum": ["ok", "unavailable"]},
                "services": {"type": "object", "additionalProperties": {"enum": ["SERVING", "NOT_SERVING"]}},
                "error": {"type": "object"},
            },
            "required": ["status", "services"],
        },
    },
}

OPTIONAL_TEXT = {"type": "string", "maxLength": 200}
CREATE_CUSTOMER_BODY = _obj(
    {
        "market": {"enum": ["de", "nl", "uk"]},
        "password": NEW_PASSWORD,
        "customer_number": CUSTOMER_NUMBER,
        **{name: OPTIONAL_TEXT for name in CUSTOMER_FIELDS},
        "iban": STRING,
        "bic": STRING,
        "card_token": STRING,
        "card_last4": STRING,
        "card_expiry": {"type": "string", "description": "MM/YY"},
    },
    ["market", "password"],
)

PATHS: dict[str, Any] = {
    "/api/v1/auth/customer-login": {
        "post": _op(
            "Log in with a customer number",
            "auth",
            {
                "200": _ok("A customer token", _ref("Token")),
                "403": {
                    "description": "The number was merged (customer_number_merged, merged_into)",
                    **_json(_ref("Error")),
                },
                **LOGIN_ERRORS,
            },
            body=_obj(
                {"customer_number": CUSTOMER_NUMBER, "password": PASSWORD}, ["customer_number", "password"]
            ),
        )
    },
    "/api/v1/auth/package-login": {
        "post": _op(
            "Log in with a domain and its package password",
            "auth",
            {"200": _ok("A package token and package_id", _ref("Token")), **LOGIN_ERRORS},
            body=_obj(
                {"domain": {"type": "string", "format": "idn-hostname"}, "password": PASSWORD},
                ["domain", "password"],
            ),
        )
    },
    "/api/v1/auth/staff-login": {
        "post": _op(
            "Log in as a member of the service team",
            "auth",
            {"200": _ok("A staff token", _ref("Token")), **LOGIN_ERRORS},
            body=_obj(
                {"username": {"type": "string", "maxLength": 200}, "password": PASSWORD},
                ["username", "password"],
            ),
        )
    },
    "/api/v1/auth/logout": {
        "post": _op(
            "Revoke the token of this request",
            "auth",
            {"204": _ok("The token is dead at once")},
            kinds=("customer", "package", "staff"),
        )
    },
    "/.well-known/jwks.json": {
        "get": _op(
            "The public keys that sign user tokens",
            "auth",
            {"200": _ok("A JWK set", {"type": "object", "properties": {"keys": {"type": "array"}}})},
        )
    },
    "/api/v1/customer": {
        "get": _op(
            "The customer's master and payment data",
            "customer",
            {"200": _ok("The customer", _ref("Customer"))},
            kinds=("customer",),
        )
    },
    "/api/v1/invoices": {
        "get": _op(
            "The customer's invoices, newest first",
            "customer",
            {"200": _ok("Invoices", _obj({"invoices": {"type": "array", "items": _ref("Invoice")}}))},
            kinds=("customer",),
        )
    },
    "/api/v1/packages": {
        "get": _op(
            "The packages the token may see",
            "packages",
            {"200": _ok("Packages", _obj({"packages": {"type": "array", "items": _ref("Package")}}))},
            kinds=("customer", "package"),
        )
    },
    "/api/v1/packages/{package_id}": {
        "get": _op(
            "One package",
            "packages",
            {
                "200": _ok("The package", _ref("Package")),
                "404": {"description": "Unknown or foreign package (not_found)", **_json(_ref("Error"))},
            },
            kinds=("customer", "package"),
            params=[_path_param("package_id", STRING)],
        )
    },
    "/api/v1/admin/customers": {
        "post": _op(
            "Create a customer with its customer password",
            "admin",
            {
                "201": _ok("Created", _obj({"customer_number": STRING})),
                "409": {"description": "The customer number is taken", **_json(_ref("Error"))},
            },
            kinds=("staff",),
            body=CREATE_CUSTOMER_BODY,
        )
    },
    "/api/v1/admin/customers/{number}/packages": {
        "post": _op(
            "Create a package for a customer",
            "admin",
            {
                "201": _ok("The package", _ref("Package")),
                "404": {"description": "Unknown customer number", **_json(_ref("Error"))},
                "409": {
                    "description": "A domain belongs to another package (domain_taken)",
                    **_json(_ref("Error")),
                },
            },
            kinds=("staff",),
            body=_obj(
                {
                    "product": {"type": "string", "maxLength": 100},
                    "domains": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 100,
                        "items": {"type": "string", "format": "idn-hostname"},
                    },
                    "package_password": NEW_PASSWORD,
                },
                ["product", "domains"],
            ),
            params=[_path_param("number", CUSTOMER_NUMBER)],
        )
    },
    "/api/v1/admin/customers/{number}/invoices": {
        "post": _op(
            "Create an invoice for a customer",
            "admin",
            {
                "201": _ok("The invoice", _ref("Invoice")),
                "404": {"description": "Unknown customer number", **_json(_ref("Error"))},
            },
            kinds=("staff",),
            body=_obj(
                {
                    "amount": {
                        "oneOf": [
                            {"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.01},
                            {"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$"},
                        ]
                    },
                    "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
                    "status": {"enum": ["open", "paid"]},
                    "date": {"type": "string", "format": "date"},
                },
                ["amount"],
            ),
            params=[_path_param("number", CUSTOMER_NUMBER)],
        )
    },
    "/healthz": {
        "get": _op(
            "Whether every service is serving",
            "health",
            {
                "200": _ok("Every service serves", _ref("Health")),
                "503": _ok("Some service does not serve", _ref("Health")),
            },
        )
    },
    "/api/openapi.json": {
        "get": _op("This document", "openapi", {"200": _ok("OpenAPI 3.1", {"type": "object"})}),
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Customer center API",
        "version": "1",
        "description": 'The gateway\'s JSON API. Errors: {"error": {"code", "message", "field"?}}.',
    },
    "servers": [{"url": "/"}],
    "paths": PATHS,
    "components": COMPONENTS,
}


@bp.get("/api/openapi.json")
def openapi() -> Response:
    return jsonify(DOCUMENT)
