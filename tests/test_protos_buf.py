"""The protos pass buf's lint and break no older client (buf breaking against the release image).

buf is installed the way `make lint` installs it (scripts/buf_check.py: `npm ci --prefix
tools/buf` when it is missing or its lock file changed; a no-op otherwise). Without Node.js and
npm the tests skip with the reason, except under CI=true, where they fail.

The negative tests copy the protos to a temporary directory, make a change there and show that
the checks catch it: a check that can never fail proves nothing. The checks run against the
served release, customercenter.v2 (protos/releases/v2.binpb); v1.binpb is history only.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
CONTRACT = Path("protos/customercenter/v2/contract.proto")

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


def test_buf_yaml_excepts_no_lint_rule():
    """The full STANDARD set applies: no rule may be switched off again for a new RPC."""
    config = yaml.safe_load((REPO / "buf.yaml").read_text())
    assert config["lint"]["use"] == ["STANDARD"]
    assert "except" not in config["lint"] and "ignore" not in config["lint"]


def test_the_historical_v1_image_is_kept_but_not_checked_against(buf_check):
    assert buf_check.RELEASE_IMAGE == REPO / "protos" / "releases" / "v2.binpb"
    assert (REPO / "protos" / "releases" / "v1.binpb").is_file()


BREAKING_CHANGES = {
    # Customer.merged_into deleted: an older client's field 18 would be dropped.
    "field deleted": ("  string merged_into = 18;\n", "", "FIELD_NO_DELETE"),
    "field type changed": ("  int64 amount_cents = 4;", "  int32 amount_cents = 4;", "FIELD_SAME_TYPE"),
    "field renumbered": ("  string merged_into = 18;", "  string merged_into = 99;", "FIELD_NO_DELETE"),
    "field renamed": ("  string merged_into = 18;", "  string merged_to = 18;", "FIELD_SAME_NAME"),
    "rpc deleted": ("  rpc ListForms(ListFormsRequest) returns (ListFormsResponse);\n", "", "RPC_NO_DELETE"),
    "enum value renumbered": (
        "  CONTRACT_STATUS_TERMINATED = 2;",
        "  CONTRACT_STATUS_TERMINATED = 3;",
        "ENUM_VALUE_NO_DELETE",
    ),
    "timestamp back to a string": (
        "  google.protobuf.Timestamp created_at = 16;",
        "  string created_at = 16;",
        "FIELD_SAME_TYPE",
    ),
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
        "  string merged_into = 18;\n  string note = 99;\n",
    )
    proc = buf_check.run_buf("breaking", "--against", str(buf_check.RELEASE_IMAGE), cwd=proto_copy)
    assert proc.returncode == 0, _output(proc)


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        # A new RPC that reuses the shared messages instead of its own request and response.
        (
            "  rpc GetFormPdf(GetFormPdfRequest) returns (GetFormPdfResponse);\n",
            "  rpc GetFormPdf(GetFormPdfRequest) returns (GetFormPdfResponse);\n"
            "  rpc GetCustomerAgain(GetCustomerRequest) returns (Customer);\n",
            "RPC_REQUEST_STANDARD_NAME",
        ),
        # An enum value without its enum's prefix.
        ("  FORM_MODE_ONLINE = 2;", "  ONLINE = 2;", "ENUM_VALUE_PREFIX"),
        # An enum whose zero value is a real value.
        ("  FORM_MODE_UNSPECIFIED = 0;", "  FORM_MODE_NONE = 0;", "ENUM_ZERO_VALUE_SUFFIX"),
    ],
    ids=["shared messages", "enum prefix", "enum zero value"],
)
def test_buf_lint_catches_a_proto_that_breaks_the_standard_rules(buf_check, proto_copy, old, new, rule):
    _edit(proto_copy, CONTRACT, old, new)
    proc = buf_check.run_buf("lint", "--error-format=json", cwd=proto_copy)
    assert proc.returncode != 0, f"buf lint accepted it:\n{_output(proc)}"
    rules = {json.loads(line)["type"] for line in proc.stdout.splitlines() if line.strip()}
    assert rule in rules, _output(proc)
