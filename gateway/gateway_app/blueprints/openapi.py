"""GET /api/openapi.json: the API as OpenAPI 3.1. A unit test holds it against app.url_map."""

from __future__ import annotations

from typing import Any

from cc_common.rules import customers
from cc_common.rules.merges import STATUSES as MERGE_STATUSES
from flask import Blueprint, Response, jsonify

from gateway_app.serializers import CUSTOMER_FIELDS, MOVED_KINDS

bp = Blueprint("openapi", __name__)

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
PASSWORD = {"type": "string", "minLength": 1, "maxLength": 128, "format": "password"}
NEW_PASSWORD = {"type": "string", "minLength": 8, "maxLength": 128, "format": "password"}
CUSTOMER_NUMBER = {"type": "string", "pattern": customers.PATTERN}


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
    "413": {
        "description": "The body is larger than 1 MB (payload_too_large, the message states the limit); "
        "the connection is closed after this answer",
        **_json(_ref("Error")),
    },
    "422": {"description": "Invalid input (invalid_input, with field)", **_json(_ref("Error"))},
}
# Answered by the server before any route, for every path under /api/ (connection closed).
HEAD_ERRORS = {
    "414": {
        "description": "The request line is longer than 4094 bytes (uri_too_long)",
        **_json(_ref("Error")),
    },
    "431": {
        "description": "More than 100 header fields, or one over 8190 bytes (request_header_fields_too_large)",
        **_json(_ref("Error")),
    },
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
    # The operation's own responses win over the common ones (e.g. 401 invalid_credentials).
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": dict(responses)}
    if kinds:
        op["security"] = [{"bearerAuth": []}]
        op["description"] = "Token kinds: " + ", ".join(kinds) + "."
        for status, response in AUTH_ERRORS.items():
            op["responses"].setdefault(status, response)
    else:
        op["security"] = []
    if body is not None:
        op["requestBody"] = {"required": True, **_json(body)}
        for status, response in ERRORS.items():
            op["responses"].setdefault(status, response)
    if params:
        op["parameters"] = params
    for status, response in HEAD_ERRORS.items():
        op["responses"].setdefault(status, response)
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

MERGE_PROPERTIES: dict[str, Any] = {
    "id": STRING,
    "target_customer_number": CUSTOMER_NUMBER,
    "source_customer_number": CUSTOMER_NUMBER,
    "status": {"enum": list(MERGE_STATUSES)},
    "market": {"enum": ["de", "nl", "uk"]},
    "comparison": {"type": "array", "items": {"$ref": "#/components/schemas/ComparisonRow"}},
    "data_taken_over": {"type": "boolean"},
    "legal_proof_uploaded": {"type": "boolean"},
    "proof_method": {"enum": ["customer_password", "package_password"]},
    "objection_period_ends_at": {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "A merge proven with a package password: staff may approve it from then on, "
        "unless the absorbed side confirmed earlier (null for other merges and once confirmed)",
    },
    "confirmed_by_source": {"type": "boolean", "description": "The absorbed side confirmed the merge"},
    "cancelled_by": {"enum": ["target", "source", "staff", "objection", None]},
    "rejection_reason": NULLABLE_STRING,
    "created_at": {"type": ["string", "null"], "format": "date-time"},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "completed_at": {"type": ["string", "null"], "format": "date-time"},
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
                        "objection_period_ends_at": STRING,
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
                "customer_number": {
                    **STRING,
                    "description": "The owner; absent when a package login asks (its password may be held by a third party)",
                },
                "product": STRING,
                "product_name": {**NULLABLE_STRING, "description": "The product's display name"},
                "max_domains": {
                    "type": ["integer", "null"],
                    "description": "How many domains the product allows",
                },
                "domains": {"type": "array", "items": STRING},
                "status": {"enum": ["active", "terminated"]},
                "created_at": NULLABLE_STRING,
                "usage": _obj(
                    {
                        "storage_used_gb": {"type": "integer"},
                        "mailboxes_used": {"type": "integer"},
                        "databases_used": {"type": "integer"},
                    },
                    ["storage_used_gb", "mailboxes_used", "databases_used"],
                ),
            },
            ["id", "product", "domains", "status"],
        ),
        "Invoice": _obj(
            {
                "number": STRING,
                "date": NULLABLE_STRING,
                "amount": {"type": "number", "description": "e.g. 12.5 for 12.50", "multipleOf": 0.01},
                "currency": STRING,
                "status": {
                    "enum": ["open", "debit_requested", "paid"],
                    "description": "debit_requested: a repeat debit by SEPA direct debit waits for the bank",
                },
                "return_reason": {
                    "type": ["string", "null"],
                    "description": "Why the bank returned the last direct debit of this invoice; null when none was",
                },
                "repeat_debit_requested": {
                    "type": "boolean",
                    "description": "True while a repeat debit asked for by the customer is pending",
                },
                "repeat_debit_requested_at": {"type": ["string", "null"], "format": "date-time"},
            },
            ["number", "amount", "currency", "status"],
        ),
        "DebitRequest": _obj(
            {
                "invoice_number": STRING,
                "requested_at": {"type": ["string", "null"], "format": "date-time"},
                "status": {
                    "enum": ["requested", "paid"],
                    "description": "requested: waits for the next direct debit collection; paid: the card was charged",
                },
            },
            ["invoice_number", "requested_at", "status"],
        ),
        "Product": _obj(
            {
                "code": STRING,
                "name": STRING,
                "rank": {"type": "integer", "description": "Size order: 1 is the smallest product"},
                "max_domains": {"type": "integer"},
                "storage_gb": {"type": "integer"},
                "mailboxes": {"type": "integer"},
                "databases": {"type": "integer"},
                "prices": {
                    "type": "array",
                    "items": _obj(
                        {
                            "market": {"enum": ["de", "nl", "uk"]},
                            "monthly_price": {"type": "number", "multipleOf": 0.01},
                            "currency": STRING,
                        },
                        ["market", "monthly_price", "currency"],
                    ),
                },
            },
            ["code", "name", "rank", "max_domains", "storage_gb", "mailboxes", "databases", "prices"],
        ),
        "ProductChange": {
            "allOf": [_ref("Package")],
            "description": "The changed package, with direction (upgrade, downgrade) and from_product",
            "properties": {"direction": {"enum": ["upgrade", "downgrade"]}, "from_product": STRING},
            "required": ["direction", "from_product"],
        },
        "DomainMove": _obj(
            {
                "source": _ref("Package"),
                "target": _ref("Package"),
                "created": {"type": "boolean", "description": "True when the target is a new package"},
            },
            ["source", "target", "created"],
        ),
        "PackageSettings": _obj(
            {
                "package_id": STRING,
                "settings": {
                    "type": "object",
                    "description": "php_version (8.1, 8.2, 8.3), https_redirect (true, false), "
                    "www_redirect (none, to_www, from_www), php_memory_limit_mb (64..1024)",
                    "additionalProperties": STRING,
                },
            },
            ["package_id", "settings"],
        ),
        "Contract": _obj(
            {
                "id": STRING,
                "package_id": STRING,
                "product": STRING,
                "start_date": {"type": ["string", "null"], "format": "date"},
                "term_months": {"type": "integer"},
                "current_term_end": {"type": ["string", "null"], "format": "date"},
                "status": {"enum": ["active", "terminated"]},
                "created_at": {"type": ["string", "null"], "format": "date-time"},
            },
            ["id", "package_id", "product", "status"],
        ),
        "Termination": _obj(
            {
                "id": STRING,
                "package_id": STRING,
                "domain": {**NULLABLE_STRING, "description": "null: the whole package"},
                "product": NULLABLE_STRING,
                "contract_id": NULLABLE_STRING,
                "effective_date": {"type": "string", "format": "date"},
                "status": {"enum": ["open", "effective", "retracted"]},
                "created_at": {"type": ["string", "null"], "format": "date-time"},
                "retracted_at": {"type": ["string", "null"], "format": "date-time"},
            },
            ["id", "package_id", "domain", "effective_date", "status"],
        ),
        "Form": _obj(
            {
                "id": STRING,
                "title": STRING,
                "description": STRING,
                "mode": {"enum": ["written", "online"]},
                "endpoint": {
                    **NULLABLE_STRING,
                    "description": "Online forms: the API call that does the job",
                },
                "pdf_url": {
                    **NULLABLE_STRING,
                    "description": "Written-only forms: where to download the PDF",
                },
            },
            ["id", "title", "description", "mode", "endpoint", "pdf_url"],
        ),
        "ComparisonRow": _obj(
            {
                "field": STRING,
                "target_value": {**NULLABLE_STRING, "description": "Masked for payment data"},
                "source_value": {**NULLABLE_STRING, "description": "Masked for payment data"},
                "result": {"enum": ["equal", "differs", "blocking"]},
            },
            ["field", "target_value", "source_value", "result"],
        ),
        "Merge": _obj(MERGE_PROPERTIES, list(MERGE_PROPERTIES)),
        "MergeAudit": _obj(
            {
                **MERGE_PROPERTIES,
                "target_snapshot": {"type": "object", "description": "Master data when the merge started"},
                "source_snapshot": {"type": "object", "description": "Master data when the merge started"},
                "steps": {
                    "type": "array",
                    "items": _obj(
                        {
                            "name": STRING,
                            "state": {"enum": ["started", "done", "compensated", "failed"]},
                            "started_at": NULLABLE_STRING,
                            "finished_at": NULLABLE_STRING,
                            "error": NULLABLE_STRING,
                        },
                        ["name", "state", "started_at", "finished_at", "error"],
                    ),
                },
                "moved": {
                    "type": "object",
                    "description": "The ids of every record the merge moved, by kind ("
                    + ", ".join(MOVED_KINDS)
                    + ")",
                    "additionalProperties": {"type": "array", "items": STRING},
                },
                "reversal_reason": NULLABLE_STRING,
            },
            [*MERGE_PROPERTIES, "target_snapshot", "source_snapshot", "steps", "moved", "reversal_reason"],
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
                    "description": "A domain belongs to another package (domain_taken), or the "
                    "customer number is frozen or retired (customer_not_active)",
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
    "/livez": {
        "get": _op(
            "Whether the gateway process answers (liveness; asks no service)",
            "health",
            {"200": _ok("The process answers", _obj({"status": {"const": "ok"}}, ["status"]))},
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


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Error"))}


MERGE_ID = [_path_param("merge_id", {"type": "string", "maxLength": 100})]
MERGE = _ref("Merge")
MERGE_NOT_FOUND = {"404": _error("Unknown merge, or one of another customer (not_found)")}
MERGE_STATE = _error("The merge is not in a state that allows this (merge_not_open)")
REASON_BODY = _obj({"reason": {"type": "string", "minLength": 1, "maxLength": 1000}}, ["reason"])

PATHS.update(
    {
        "/api/v1/merges": {
            "post": _op(
                "Start merging another customer number into the signed-in one",
                "merges",
                {
                    "201": {
                        **_ok("The merge, with the comparison of both numbers' master data", MERGE),
                        "headers": {"Location": {"schema": STRING}},
                    },
                    "401": _error("Bad proof of ownership (invalid_credentials), or no valid token"),
                    "409": _error(
                        "A number already merged or in an open merge (merge_conflict), "
                        "or two markets (different_markets)"
                    ),
                    "422": _error(
                        "Invalid input (invalid_input, with field), or the signed-in number itself "
                        "(same_customer_number)"
                    ),
                    "429": _error("Too many attempts (too_many_attempts), with Retry-After"),
                },
                kinds=("customer",),
                body=_obj(
                    {
                        "source_customer_number": CUSTOMER_NUMBER,
                        "source_password": PASSWORD,
                        "domain": {"type": "string", "format": "idn-hostname"},
                        "domain_password": PASSWORD,
                    },
                    ["source_customer_number"],
                )
                | {
                    "description": "Either source_password, or domain and domain_password "
                    "(a domain of one of the source's packages with that package's password)."
                },
            ),
            "get": _op(
                "The merges of the signed-in customer",
                "merges",
                {"200": _ok("Merges", _obj({"merges": {"type": "array", "items": MERGE}}))},
                kinds=("customer",),
            ),
        },
        "/api/v1/merges/{merge_id}": {
            "get": _op(
                "One merge",
                "merges",
                {"200": _ok("The merge", MERGE), **MERGE_NOT_FOUND},
                kinds=("customer", "staff"),
                params=MERGE_ID,
            ),
            "delete": _op(
                "Cancel a merge that is not executing yet",
                "merges",
                {"204": _ok("Cancelled"), **MERGE_NOT_FOUND, "409": MERGE_STATE},
                kinds=("customer",),
                params=MERGE_ID,
            ),
        },
        "/api/v1/merges/{merge_id}/object": {
            "post": _op(
                "The absorbed customer objects to a merge of its number: the merge is cancelled and both sides are told",
                "merges",
                {
                    "204": _ok("Cancelled"),
                    **MERGE_NOT_FOUND,
                    "403": _error("The caller is not the absorbed customer number (forbidden)"),
                    "409": MERGE_STATE,
                },
                kinds=("customer",),
                params=MERGE_ID,
            )
        },
        "/api/v1/merges/{merge_id}/confirm": {
            "post": _op(
                "The absorbed customer agrees to a merge proven with a package password: the waiting period ends",
                "merges",
                {
                    "204": _ok("Confirmed"),
                    **MERGE_NOT_FOUND,
                    "403": _error("The caller is not the absorbed customer number (forbidden)"),
                    "409": MERGE_STATE,
                },
                kinds=("customer",),
                params=MERGE_ID,
            )
        },
        "/api/v1/merge-objections": {
            "post": _op(
                "Object to a merge with the single-use link mailed to the absorbed customer number (no login)",
                "merges",
                {
                    "204": _ok("The merge is cancelled and both sides are told"),
                    "400": _error("The link's token is unknown or was already used (invalid_token)"),
                    "409": MERGE_STATE,
                },
                body=_obj({"token": {"type": "string", "minLength": 1, "maxLength": 512}}, ["token"]),
            )
        },
        "/api/v1/merges/{merge_id}/take-over-data": {
            "post": _op(
                "Take over data: the kept number's values stand for every highlighted field",
                "merges",
                {"200": _ok("The merge", MERGE), **MERGE_NOT_FOUND, "409": MERGE_STATE},
                kinds=("customer",),
                params=MERGE_ID,
            )
        },
        "/api/v1/merges/{merge_id}/submit": {
            "post": _op(
                "Send the order",
                "merges",
                {
                    "202": _ok("The order is sent (status submitted, or approved without review)", MERGE),
                    **MERGE_NOT_FOUND,
                    "409": _error(
                        "Highlighted fields not taken over (differences_not_resolved), the signed "
                        "form is missing (legal_proof_required), or merge_not_open"
                    ),
                },
                kinds=("customer",),
                params=MERGE_ID,
            )
        },
        "/api/v1/merges/{merge_id}/legal-proof": {
            "post": {
                **_op(
                    "Upload the signed contract-transfer form (PDF, at most 5 MB)",
                    "merges",
                    {
                        "201": _ok("The merge, with legal_proof_uploaded true", MERGE),
                        **MERGE_NOT_FOUND,
                        "409": MERGE_STATE,
                        "413": _error(
                            "The file is larger than 5 MB (5242880 bytes), or the request larger than "
                            "the file's limit plus 64 KB (payload_too_large, the message states the "
                            "limit); a request refused before its body was read closes the connection"
                        ),
                        "422": _error("No file, an empty file or not a PDF (invalid_input, field file)"),
                    },
                    kinds=("customer",),
                    params=MERGE_ID,
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {
                                        "type": "string",
                                        "contentMediaType": "application/pdf",
                                        "maxLength": 5 * 1024 * 1024,
                                    }
                                },
                                "required": ["file"],
                            }
                        }
                    },
                },
            }
        },
        "/api/v1/admin/merges": {
            "get": {
                **_op(
                    "The review queue: merges, optionally by status",
                    "admin",
                    {
                        "200": _ok("Merges", _obj({"merges": {"type": "array", "items": MERGE}})),
                        "422": _error("An unknown status (invalid_input, field status)"),
                    },
                    kinds=("staff",),
                ),
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "schema": {"enum": list(MERGE_STATUSES)},
                    }
                ],
            }
        },
        "/api/v1/admin/merges/{merge_id}": {
            "get": _op(
                "The merge with both master-data snapshots, the step log and the moved records",
                "admin",
                {"200": _ok("The audit", _ref("MergeAudit")), **MERGE_NOT_FOUND},
                kinds=("staff",),
                params=MERGE_ID,
            )
        },
        "/api/v1/admin/merges/{merge_id}/approve": {
            "post": _op(
                "Approve a submitted merge; execution starts",
                "admin",
                {
                    "202": _ok("The merge", MERGE),
                    **MERGE_NOT_FOUND,
                    "409": _error(
                        "merge_not_open, or objection_period_running: a merge proven with a package "
                        "password before MERGE_OBJECTION_HOURS have passed since the absorbed side was "
                        "told (unless it confirmed); the error names objection_period_ends_at"
                    ),
                },
                kinds=("staff",),
                params=MERGE_ID,
            )
        },
        "/api/v1/admin/merges/{merge_id}/cancel": {
            "post": _op(
                "Cancel a merge that has not started executing (frees both numbers)",
                "admin",
                {"200": _ok("The merge, cancelled", MERGE), **MERGE_NOT_FOUND, "409": MERGE_STATE},
                kinds=("staff",),
                params=MERGE_ID,
            )
        },
        "/api/v1/admin/merges/{merge_id}/reject": {
            "post": _op(
                "Reject a submitted merge with a reason",
                "admin",
                {
                    "200": _ok("The merge, with rejection_reason", MERGE),
                    **MERGE_NOT_FOUND,
                    "409": MERGE_STATE,
                },
                kinds=("staff",),
                body=REASON_BODY,
                params=MERGE_ID,
            )
        },
        "/api/v1/admin/merges/{merge_id}/reverse": {
            "post": _op(
                "Reverse a completed merge within 30 days",
                "admin",
                {
                    "202": _ok("The reversal runs", MERGE),
                    **MERGE_NOT_FOUND,
                    "409": _error(
                        "More than 30 days since completion (reversal_window_over), or merge_not_open"
                    ),
                },
                kinds=("staff",),
                body=REASON_BODY,
                params=MERGE_ID,
            )
        },
        "/api/v1/admin/merges/{merge_id}/legal-proof": {
            "get": _op(
                "Download the signed contract-transfer form",
                "admin",
                {
                    "200": {
                        "description": "The PDF, as an attachment",
                        "content": {
                            "application/pdf": {
                                "schema": {"type": "string", "contentMediaType": "application/pdf"}
                            }
                        },
                    },
                    "404": _error("Unknown merge, or no form uploaded (not_found)"),
                },
                kinds=("staff",),
                params=MERGE_ID,
            )
        },
    }
)

PDF = {
    "description": "The PDF, as an attachment (Content-Disposition: attachment; filename=...)",
    "content": {"application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}},
}
PACKAGE_ID = [_path_param("package_id", {"type": "string", "maxLength": 100})]
PACKAGE_NOT_FOUND = {"404": _error("Unknown package, or one the token may not see (not_found)")}
PRODUCT_BODY = _obj({"product": {"type": "string", "maxLength": 100}}, ["product"])
TERMINATION_ID = [_path_param("termination_id", {"type": "string", "maxLength": 100})]
INVOICE_NUMBER = [_path_param("number", {"type": "string", "maxLength": 64})]
INVOICE_NOT_FOUND = {"404": _error("Unknown invoice, or one of another customer (not_found)")}
ONLINE_FIELDS = ("street", "zip", "city", "country", "phone", "mobile", "fax", "email")

PATHS["/api/v1/customer"]["patch"] = _op(
    "Change master data online (address, phone and fax numbers, e-mail): one record for every package. "
    "A new email needs current_password (checked like a login); the old address is told, with a "
    "link that puts it back within 7 days (POST /api/v1/customer/email-restore)",
    "customer",
    {
        "200": _ok("The new record", _ref("Customer")),
        "401": _error(
            "A new email with a wrong current_password (invalid_credentials, field current_password), "
            "or no valid token"
        ),
        "429": _error("Too many wrong current_password attempts (too_many_attempts), with Retry-After"),
        "409": _error(
            "company, first_name or last_name in the body (written_form_required: a contract "
            "handover needs the signed form; nothing is saved), or customer_not_active"
        ),
        "422": _error(
            "Invalid input (invalid_input, with field), an empty body, or a new email without "
            "current_password (invalid_input, field current_password)"
        ),
    },
    kinds=("customer",),
    body=_obj(
        {
            name: {
                "type": ["string", "null"] if name in ("phone", "mobile", "fax") else "string",
                "maxLength": 254,
            }
            for name in ONLINE_FIELDS
        }
        | {"current_password": PASSWORD}
    )
    | {
        "description": 'Any of the fields; null or "" clears phone, mobile or fax. With a new email '
        "also current_password.",
        "minProperties": 1,
    },
)

PATHS.update(
    {
        "/api/v1/auth/password-reset": {
            "post": _op(
                "Forgot password: mail a reset link to the customer's e-mail address",
                "auth",
                {
                    "202": _ok(
                        "Always for a well-formed number (no enumeration, no hint that a limit was hit); a "
                        "mail goes out only for a known number with an e-mail address, within the limits "
                        "per number and per client address. Links mailed before stay valid",
                        _obj({"message": STRING}),
                    ),
                    "503": AUTH_ERRORS["503"],
                },
                body=_obj({"customer_number": CUSTOMER_NUMBER}, ["customer_number"]),
            )
        },
        "/api/v1/auth/password-reset/confirm": {
            "post": _op(
                "Set a new customer password with the token of a reset mail (once)",
                "auth",
                {
                    "204": _ok("The password is set; every token of the customer is dead"),
                    "400": _error(
                        "Unknown, used or expired token, or one voided by a reset with another link "
                        "(invalid_token)"
                    ),
                    "422": _error(
                        "Invalid input, e.g. a weak new_password (invalid_input, field new_password)"
                    ),
                    "503": AUTH_ERRORS["503"],
                },
                body=_obj(
                    {"token": {"type": "string", "maxLength": 512}, "new_password": NEW_PASSWORD},
                    ["token", "new_password"],
                ),
            )
        },
        "/api/v1/customer/email-restore": {
            "post": _op(
                "Put back the contact e-mail address an e-mail change replaced, with the token of the "
                "link mailed to the old address (single use, 7 days); every session of the customer ends",
                "customer",
                {
                    "204": _ok(
                        "The old address is the contact address again; every token of the customer is dead"
                    ),
                    "400": _error("Unknown, used, superseded or expired token (invalid_token)"),
                    "409": _error("The customer number is frozen or retired (customer_not_active)"),
                    "422": _error("Invalid input (invalid_input, field token)"),
                    "503": AUTH_ERRORS["503"],
                },
                body=_obj({"token": {"type": "string", "maxLength": 512}}, ["token"]),
            )
        },
        "/api/v1/customer/password": {
            "put": _op(
                "Change the customer password; every other token of the customer dies and the contact "
                "address gets a notice",
                "auth",
                {
                    "204": _ok("Changed; the token of this request stays valid"),
                    "401": _error("Wrong current_password (invalid_credentials), or no valid token"),
                    "429": _error("Too many attempts (too_many_attempts), with Retry-After"),
                },
                kinds=("customer",),
                body=_obj(
                    {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                    ["current_password", "new_password"],
                ),
            )
        },
        "/api/v1/customer/payment": {
            "put": _op(
                "Replace the payment data: a bank account or a card token (never a card number)",
                "customer",
                {
                    "200": _ok("The customer record with its masked payment data", _ref("Customer")),
                    "409": _error("The customer number is frozen or retired (customer_not_active)"),
                    "422": _error(
                        "Invalid input (invalid_input, with field), or a card number "
                        "(card_number_refused, field card_token)"
                    ),
                },
                kinds=("customer",),
                body={
                    "oneOf": [
                        _obj({"iban": STRING, "bic": STRING}, ["iban", "bic"]),
                        _obj(
                            {
                                "card_token": {"type": "string", "description": "From the payment provider"},
                                "card_last4": {"type": "string", "pattern": "^[0-9]{4}$"},
                                "card_expiry": {"type": "string", "description": "MM/YY"},
                            },
                            ["card_token", "card_last4", "card_expiry"],
                        ),
                    ]
                },
            )
        },
        "/api/v1/invoices/{number}/pdf": {
            "get": _op(
                "Download one invoice as PDF",
                "customer",
                {"200": PDF, **INVOICE_NOT_FOUND},
                kinds=("customer",),
                params=INVOICE_NUMBER,
            )
        },
        "/api/v1/invoices/{number}/repeat-debit": {
            "post": _op(
                "Ask for a repeat debit of an open invoice",
                "customer",
                {
                    "202": _ok(
                        "The debit request (a pending one is returned as it is)", _ref("DebitRequest")
                    ),
                    **INVOICE_NOT_FOUND,
                    "409": _error("The invoice is paid (invoice_not_open)"),
                },
                kinds=("customer",),
                params=INVOICE_NUMBER,
            )
        },
        "/api/v1/contracts": {
            "get": _op(
                "The contracts of the customer's packages, oldest first",
                "customer",
                {"200": _ok("Contracts", _obj({"contracts": {"type": "array", "items": _ref("Contract")}}))},
                kinds=("customer",),
            )
        },
        "/api/v1/forms": {
            "get": _op(
                "The forms: written-only ones with a PDF to download, online ones with their endpoint",
                "customer",
                {"200": _ok("Forms", _obj({"forms": {"type": "array", "items": _ref("Form")}}))},
                kinds=("customer",),
            )
        },
        "/api/v1/forms/{form_id}/pdf": {
            "get": _op(
                "Download a written-only form as PDF (the customer number filled in)",
                "customer",
                {"200": PDF, "404": _error("Unknown form, or one done online (not_found)")},
                kinds=("customer",),
                params=[_path_param("form_id", {"type": "string", "maxLength": 64})],
            )
        },
        "/api/v1/products": {
            "get": _op(
                "The product catalogue, smallest first, with limits and monthly prices per market",
                "packages",
                {"200": _ok("Products", _obj({"products": {"type": "array", "items": _ref("Product")}}))},
                kinds=("customer", "package", "staff"),
            )
        },
        "/api/v1/packages/{package_id}/password": {
            "put": _op(
                "Set the package password used by package-login",
                "packages",
                {
                    "204": _ok(
                        "Set; every other session of the package login has ended (the package login "
                        "that set it stays signed in)"
                    ),
                    **PACKAGE_NOT_FOUND,
                },
                kinds=("customer", "package"),
                body=_obj({"new_password": NEW_PASSWORD}, ["new_password"]),
                params=PACKAGE_ID,
            )
        },
        "/api/v1/packages/{package_id}/downgrade": {
            "post": _op(
                "Change to a smaller product (customer login only)",
                "packages",
                {
                    "200": _ok("The package, with direction and from_product", _ref("ProductChange")),
                    **PACKAGE_NOT_FOUND,
                    "409": _error(
                        "A larger product (not_a_downgrade), the domains or usage do not fit "
                        "(package_does_not_fit, the message names the limit), same_product, "
                        "package_terminated"
                    ),
                    "422": _error("Unknown product (invalid_input, field product)"),
                },
                kinds=("customer",),
                body=PRODUCT_BODY,
                params=PACKAGE_ID,
            )
        },
        "/api/v1/packages/{package_id}/upgrade": {
            "post": _op(
                "Change to a larger product (customer login only: a contractual change; a package login gets 403)",
                "packages",
                {
                    "200": _ok("The package, with direction and from_product", _ref("ProductChange")),
                    **PACKAGE_NOT_FOUND,
                    "409": _error("A smaller product (not_an_upgrade), same_product, package_terminated"),
                    "422": _error("Unknown product (invalid_input, field product)"),
                },
                kinds=("customer",),
                body=PRODUCT_BODY,
                params=PACKAGE_ID,
            )
        },
        "/api/v1/packages/{package_id}/settings": {
            "get": _op(
                "The technical settings of a package, defaults included",
                "packages",
                {"200": _ok("The settings", _ref("PackageSettings")), **PACKAGE_NOT_FOUND},
                kinds=("customer", "package"),
                params=PACKAGE_ID,
            ),
            "patch": _op(
                "Change some technical settings (all are checked before any is stored)",
                "packages",
                {
                    "200": _ok("The settings", _ref("PackageSettings")),
                    **PACKAGE_NOT_FOUND,
                    "409": _error("The package is terminated (package_terminated)"),
                    "422": _error("Unknown setting or value (invalid_input, field settings.<key>)"),
                },
                kinds=("customer", "package"),
                body=_obj(
                    {
                        "settings": {
                            "type": "object",
                            "minProperties": 1,
                            "additionalProperties": {"type": ["string", "integer", "boolean"]},
                        }
                    },
                    ["settings"],
                ),
                params=PACKAGE_ID,
            ),
        },
        "/api/v1/packages/{package_id}/split": {
            "post": _op(
                "Package splitting: move a domain into another package or into a new one",
                "packages",
                {
                    "200": _ok("Both packages", _ref("DomainMove")),
                    **PACKAGE_NOT_FOUND,
                    "409": _error(
                        "The only domain of the package (last_domain), the target has no room "
                        "(package_full), package_terminated, the customer number is frozen or retired "
                        "(customer_not_active)"
                    ),
                    "422": _error("Not a domain of the package, unknown product (invalid_input, with field)"),
                },
                kinds=("customer",),
                body=_obj(
                    {
                        "domain": {"type": "string", "format": "idn-hostname"},
                        "target_package_id": {"type": "string", "maxLength": 100},
                        "product": {
                            "type": "string",
                            "maxLength": 100,
                            "description": "For a new package; default the smallest product",
                        },
                    },
                    ["domain"],
                ),
                params=PACKAGE_ID,
            )
        },
        "/api/v1/terminations": {
            "post": {
                **_op(
                    "Terminate a package, or one of its domains, at the end of the current term",
                    "terminations",
                    {
                        "201": {
                            **_ok("The termination", _ref("Termination")),
                            "headers": {"Location": {"schema": STRING}},
                        },
                        "404": _error("The package has no contract of this customer (not_found)"),
                        "409": _error("already_terminated, contract_not_active, customer_not_active"),
                        "422": _error(
                            "Invalid input, or a domain not of this package (invalid_input, field domain)"
                        ),
                    },
                    kinds=("customer",),
                    body=_obj(
                        {
                            "package_id": {"type": "string", "maxLength": 100},
                            "domain": {"type": "string", "format": "idn-hostname"},
                        },
                        ["package_id"],
                    ),
                ),
            },
            "get": _op(
                "The customer's terminations, newest first",
                "terminations",
                {
                    "200": _ok(
                        "Terminations",
                        _obj({"terminations": {"type": "array", "items": _ref("Termination")}}),
                    )
                },
                kinds=("customer",),
            ),
        },
        "/api/v1/terminations/{termination_id}": {
            "get": _op(
                "One termination",
                "terminations",
                {
                    "200": _ok("The termination", _ref("Termination")),
                    "404": _error("Unknown termination, or one of another customer (not_found)"),
                },
                kinds=("customer",),
                params=TERMINATION_ID,
            ),
            "delete": _op(
                "Retract a termination before its effective date",
                "terminations",
                {
                    "204": _ok("Retracted"),
                    "404": _error("Unknown termination, or one of another customer (not_found)"),
                    "409": _error(
                        "On or after the effective date (termination_effective), customer_not_active"
                    ),
                },
                kinds=("customer",),
                params=TERMINATION_ID,
            ),
        },
        "/api/v1/admin/packages/{package_id}/usage": {
            "post": _op(
                "Set the usage figures of a package (what the hosting platform would report)",
                "admin",
                {"200": _ok("The package", _ref("Package")), **PACKAGE_NOT_FOUND},
                kinds=("staff",),
                body=_obj(
                    {
                        "storage_used_gb": {"type": "integer", "minimum": 0},
                        "mailboxes_used": {"type": "integer", "minimum": 0},
                        "databases_used": {"type": "integer", "minimum": 0},
                    }
                )
                | {"description": "A figure left out keeps its value", "minProperties": 1},
                params=PACKAGE_ID,
            )
        },
    }
)

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Customer center API",
        "version": "1",
        "description": 'The gateway\'s JSON API. Errors: {"error": {"code", "message", "field"?}}. '
        "Limits: a JSON body of at most 1 MB (the signed contract-transfer form: 5 MB), a request "
        "line of at most 4094 bytes, at most 100 header fields of at most 8190 bytes each; over "
        "them the answer is 413, 414 or 431 in the same error shape. An answer given before the "
        "request body was read to its end carries `Connection: close` and the server closes the "
        "connection.",
    },
    "servers": [{"url": "/"}],
    "paths": PATHS,
    "components": COMPONENTS,
}


@bp.get("/api/openapi.json")
def openapi() -> Response:
    return jsonify(DOCUMENT)
