"""A newcomer finds each endpoint's view, models and clients by its name: the view is named
after the operationId, each client function after the RPC it calls, and docs/api-index.md
(scripts/api_index.py, `make openapi`) lists them all."""

from __future__ import annotations

import ast
import inspect
import pathlib
import re

from gateway_app import clients

from scripts.api_index import index, operations

ROOT = pathlib.Path(__file__).resolve().parents[2]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_each_view_is_named_after_its_operation_id(gateway_app):
    found = list(operations(gateway_app))
    wrong = [
        (op.operation_id, view.__name__)
        for _, _, op, view in found
        if view.__name__ != snake(op.operation_id)
    ]
    assert len(found) > 70
    assert wrong == []


def _rpcs(function) -> set[str]:
    """The stub methods a client function calls (`_stub().GetCustomer`)."""
    tree = ast.parse(inspect.getsource(function))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "_stub"
    }


def test_each_client_function_is_named_after_the_rpc_it_calls():
    checked, wrong = 0, []
    for module in (clients.contracts, clients.identity, clients.merges, clients.packages):
        for name, function in vars(module).items():
            if not inspect.isfunction(function) or function.__module__ != module.__name__:
                continue
            rpcs = _rpcs(function)
            if rpcs:
                checked += 1
                if snake(name) not in {snake(rpc) for rpc in rpcs}:
                    wrong.append((module.__name__, name, sorted(rpcs)))
    assert checked > 50
    assert wrong == []


def test_the_committed_index_is_up_to_date(gateway_app):
    committed = (ROOT / "docs" / "api-index.md").read_text(encoding="utf-8")
    assert committed == index(gateway_app), "run `make openapi`"
