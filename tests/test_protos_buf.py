"""The protos pass buf's lint and break no older client (buf breaking against the release image).

buf is installed the way `make lint` installs it (scripts/buf_check.py: `npm ci --prefix
tools/buf` when it is missing or its lock file changed; a no-op otherwise). Without Node.js and
npm the tests skip with the reason, except under CI=true, where they fail.

The negative tests copy the protos to a temporary directory, make a change there and show that
the checks catch it: a check that can never fail proves nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
CONTRACT = Path("protos/customercenter/v1/contract.proto")

# One worker runs them all under `make test` (--dist loadgroup): a first `npm ci` is not raced.
pytestmark = pytest.mark.xdist_group("buf")


def _load_buf_check():
    name = "cc_buf_check_script"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "buf_check.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def buf_check():
    module = _load_buf_check()
    try:
        module.ensure_buf()
    except module.BufUnavailable as exc:
        if IN_CI:
            pytest.fail(f"buf is required under CI=true: {exc}")
        pytest.skip(f"buf is not available: {exc}")
    return module


@pytest.fixture
def proto_copy(tmp_path) -> Path:
    """buf.yaml and the protos (without generated stubs and release images) in tmp_path."""
    shutil.copy(REPO / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(REPO / "protos", tmp_path / "protos", ignore=shutil.ignore_patterns("gen", "releases"))
    return tmp_path


def _edit(root: Path, relative: Path, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not found once in {relative}: the test needs updating"
    path.write_text(text.replace(old, new))


def _output(proc) -> str:
    return proc.stdout + proc.stderr


def test_buf_lint_is_clean(buf_check):
    proc = buf_check.run_buf("lint")
    assert proc.returncode == 0, f"buf lint:\n{_output(proc)}"


def test_no_breaking_change_against_the_released_protos(buf_check):
    image = buf_check.RELEASE_IMAGE
    proc = buf_check.run_buf("breaking", "--against", str(image))
    assert proc.returncode == 0, (
        f"buf breaking --against {image.relative_to(REPO)}: a change would break older clients.\n"
        f"{_output(proc)}\nSee protos/releases/README.md for a deliberate breaking release."
    )


def test_lint_baseline_is_current(buf_check):
    """The full STANDARD set finds exactly the released RPCs' findings (buf.yaml's except)."""
    new, gone = buf_check.baseline_difference()
    assert not new, "new RPCs must name their messages <Rpc>Request/<Rpc>Response:\n" + "\n".join(new)
    assert not gone, "fixed findings: run python scripts/buf_check.py --write-baseline\n" + "\n".join(gone)


BREAKING_CHANGES = {
    # Customer.merged_into deleted: an older client's field 18 would be dropped.
    "field deleted": ("  string merged_into = 18;\n", "", "FIELD_NO_DELETE"),
    "field type changed": ("  int64 amount_cents = 4;", "  int32 amount_cents = 4;", "FIELD_SAME_TYPE"),
    "field renumbered": ("  string merged_into = 18;", "  string merged_into = 19;", "FIELD_NO_DELETE"),
    "field renamed": ("  string merged_into = 18;", "  string merged_to = 18;", "FIELD_SAME_NAME"),
    "rpc deleted": ("  rpc ListForms(ListFormsRequest) returns (FormList);\n", "", "RPC_NO_DELETE"),
}


@pytest.mark.parametrize("change", sorted(BREAKING_CHANGES))
def test_buf_breaking_catches_a_breaking_change(buf_check, proto_copy, change):
    old, new, rule = BREAKING_CHANGES[change]
    _edit(proto_copy, CONTRACT, old, new)
    proc = buf_check.run_buf(
        "breaking", "--against", str(buf_check.RELEASE_IMAGE), "--error-format=json", cwd=proto_copy
    )
    assert proc.returncode != 0, f"{change} was not reported as breaking:\n{_output(proc)}"
    rules = {json.loads(line)["type"] for line in proc.stdout.splitlines() if line.strip()}
    assert rule in rules, _output(proc)


def test_buf_breaking_accepts_an_added_field(buf_check, proto_copy):
    """A compatible change (a new field) passes: the negative tests fail for the change itself."""
    _edit(
        proto_copy,
        CONTRACT,
        "  string merged_into = 18;\n",
        "  string merged_into = 18;\n  string note = 19;\n",
    )
    proc = buf_check.run_buf("breaking", "--against", str(buf_check.RELEASE_IMAGE), cwd=proto_copy)
    assert proc.returncode == 0, _output(proc)


def test_lint_baseline_catches_a_new_rpc_with_shared_messages(buf_check, proto_copy):
    _edit(
        proto_copy,
        CONTRACT,
        "  rpc GetFormPdf(FormRef) returns (Document);\n",
        "  rpc GetFormPdf(FormRef) returns (Document);\n  rpc GetCustomerAgain(GetCustomerRequest) returns (Customer);\n",
    )
    assert buf_check.run_buf("lint", cwd=proto_copy).returncode == 0  # buf.yaml's except hides it
    new, gone = buf_check.baseline_difference(proto_copy)
    assert not gone
    rules = {line.split("\t")[1] for line in new}
    assert rules == {
        "RPC_REQUEST_RESPONSE_UNIQUE",
        "RPC_REQUEST_STANDARD_NAME",
        "RPC_RESPONSE_STANDARD_NAME",
    }, new
