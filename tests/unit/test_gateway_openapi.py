"""GET /api/openapi.json describes exactly the routes that exist."""

from __future__ import annotations

import re

IGNORED_METHODS = {"HEAD", "OPTIONS"}
# The document describes the JSON API; the HTML pages of the `web` blueprint (/, /login,
# /customer/..., /staff/..., its /static files) are no part of it, nor is the reference drawn
# from it at /api/docs (an HTML page and its assets).
API_PREFIXES = ("/api/", "/.well-known/", "/healthz", "/livez")
NOT_API = ("/api/docs",)


def routes_of(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIXES) or rule.rule.startswith(NOT_API):
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            routes.add((path, method.lower()))
    return routes


def documented(document):
    return {(path, method) for path, item in document["paths"].items() for method in item}


def test_the_document_is_openapi_3_1(gateway_client):
    response = gateway_client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"]
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"customerToken", "packageToken", "staffToken"}
    assert all(
        (s["type"], s["scheme"], s["bearerFormat"]) == ("http", "bearer", "JWT") for s in schemes.values()
    )


def test_every_route_is_documented_and_nothing_else(gateway_app, gateway_client):
    document = gateway_client.get("/api/openapi.json").get_json()
    assert routes_of(gateway_app) == documented(document)


def test_protected_operations_name_their_token_kinds_and_public_ones_none(gateway_app, gateway_client):
    document = gateway_client.get("/api/openapi.json").get_json()
    adapter = gateway_app.url_map.bind("localhost")
    for path, method in documented(document):
        operation = document["paths"][path][method]
        concrete = re.sub(r"\{[^}]+\}", "x1", path)
        endpoint, _ = adapter.match(concrete, method=method.upper())
        kinds = sorted(getattr(gateway_app.view_functions[endpoint], "token_kinds", ()))
        assert operation["security"] == [{f"{kind}Token": []} for kind in kinds], (path, method)
        if kinds:
            assert "401" in operation["responses"] and "403" in operation["responses"]


def test_every_operation_has_a_success_response_and_path_parameters_match(gateway_client):
    document = gateway_client.get("/api/openapi.json").get_json()
    for path, item in document["paths"].items():
        names = set(re.findall(r"\{([^}]+)\}", path))
        for method, operation in item.items():
            assert any(code.startswith("2") for code in operation["responses"]), (path, method)
            params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert params == names, (path, method)
            if method == "post" and "requestBody" in operation:
                content = operation["requestBody"]["content"]
                assert "application/json" in content or "multipart/form-data" in content


def references(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def test_every_schema_reference_resolves(gateway_client):
    document = gateway_client.get("/api/openapi.json").get_json()
    refs = set(references(document))
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in document["components"]["schemas"]


def test_the_committed_document_is_the_one_served(gateway_client):
    """docs/openapi.json, the API reference in the repository, is what the gateway serves."""
    import json
    from pathlib import Path

    committed = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
    served = gateway_client.get("/api/openapi.json").get_json()
    assert json.loads(committed.read_text(encoding="utf-8")) == served, (
        "docs/openapi.json differs from GET /api/openapi.json: run `make openapi` and commit it"
    )
