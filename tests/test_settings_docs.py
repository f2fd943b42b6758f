"""One list of environment variables: the README's table is the one the settings classes
generate (cc_common.settings), and the product's code reads no variable outside them.

The product's code is what runs in the five processes: common/cc_common, the gateway, the four
services and deploy/ (gunicorn's configuration). Tools (scripts/, bench/, tests/) are not.
A read is `os.environ.get(...)`, `os.environ[...]` or `os.getenv(...)`; its name is a string
literal, a module-level string constant, or a parameter of a function that is only ever called
with literals (cc_common.telemetry's `_env("OTEL_...")`). Each must be a field of a settings
class, a standard `OTEL_*` variable, or one of the listed test hooks and internal hand-offs.
"""

from __future__ import annotations

import ast
from pathlib import Path

from cc_common import settings

REPO = Path(__file__).resolve().parents[1]
PRODUCT = [
    "common/cc_common",
    "gateway",
    "identity-service/identity_service",
    "contract-service/contract_service",
    "package-service/package_service",
    "merge-service/merge_service",
    "deploy",
]


def test_the_readme_table_is_the_generated_one():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert settings.START_MARKER in readme and settings.END_MARKER in readme
    assert readme == settings.with_table(readme), "README.md's table is stale: run `make env-docs`"


def _is_environ(node: ast.AST, bare: bool) -> bool:
    """`os.environ`, or a bare `environ` where the module imported it from os (a WSGI
    environ, a plain parameter, is no process environment)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name) and node.value.id == "os"
    return bare and isinstance(node, ast.Name) and node.id == "environ"


def _read_key(node: ast.AST, bare: bool) -> ast.AST | None:
    """The key expression of an environment read, or None when `node` is none."""
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value, bare):
            return node.args[0]
        if isinstance(func, ast.Attribute) and func.attr == "getenv":
            return node.args[0]
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(node.value, bare):
        return node.slice
    return None


def env_reads(source: str) -> tuple[set[str], list[str]]:
    """(the variable names `source` reads, descriptions of reads whose name is unknown)."""
    tree = ast.parse(source)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    bare = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "os"
        and any(a.name == "environ" for a in node.names)
        for node in ast.walk(tree)
    )
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    names: set[str] = set()
    unknown: list[str] = []
    for node in ast.walk(tree):
        key = _read_key(node, bare)
        if key is None:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
            continue
        if isinstance(key, ast.Name) and key.id in constants:
            names.add(constants[key.id])
            continue
        function = parents.get(node)
        while function is not None and not isinstance(function, ast.FunctionDef):
            function = parents.get(function)
        parameters = [a.arg for a in function.args.args] if function else []
        if isinstance(key, ast.Name) and key.id in parameters:
            calls = [
                c
                for c in ast.walk(tree)
                if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == function.name
            ]
            literal = [c.args[0].value for c in calls if c.args and isinstance(c.args[0], ast.Constant)]
            if calls and len(literal) == len(calls):
                names.update(literal)
                continue
        unknown.append(f"line {node.lineno}: {ast.unparse(node)}")
    return names, unknown


def _known(name: str) -> bool:
    return (
        name in settings.variables()
        or name in settings.TEST_HOOKS
        or name in settings.INTERNAL
        or name.startswith(settings.OTEL_PREFIX)
    )


def test_the_code_reads_no_variable_outside_the_settings_classes():
    files = [path for folder in PRODUCT for path in sorted((REPO / folder).rglob("*.py"))]
    assert len(files) > 50
    problems = []
    for path in files:
        names, unknown = env_reads(path.read_text(encoding="utf-8"))
        where = path.relative_to(REPO)
        problems += [f"{where}: {read} (a name that is not a literal)" for read in unknown]
        problems += [
            f"{where}: reads {name}, which is in no settings class"
            for name in sorted(names)
            if not _known(name)
        ]
    assert problems == []


def test_the_scan_finds_reads_in_each_form():
    source = """
import os
from os import environ
HOOK = "SOME_HOOK"
a = os.environ.get("PLAIN_GET", "")
b = os.environ["SUBSCRIPT"]
c = os.getenv("GETENV")
d = environ.get(HOOK)
def _env(name):
    return os.environ.get(name, "")
_env("VIA_HELPER")
def anything(name):
    return os.environ.get(name)
anything(some_variable)
"""
    names, unknown = env_reads(source)
    assert names == {"PLAIN_GET", "SUBSCRIPT", "GETENV", "SOME_HOOK", "VIA_HELPER"}
    assert unknown == ["line 13: os.environ.get(name)"]
    assert not _known("PLAIN_GET") and _known("DATABASE_URL") and _known("FAULT_INJECT")
