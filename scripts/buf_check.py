"""buf for `make lint` and tests/test_protos_buf.py: installs the pinned buf CLI and checks the protos.

    python scripts/buf_check.py                   # buf lint, buf breaking, the lint baseline
    python scripts/buf_check.py --write-baseline  # rewrite protos/lint-baseline.txt

buf comes from the npm registry (@bufbuild/buf, pinned with its lock file in tools/buf; the
binary for this platform is an optional dependency, e.g. @bufbuild/buf-linux-x64) and is
installed with `npm ci --prefix tools/buf` when it is missing or the lock file changed.

The lint baseline: buf.yaml excepts the RPC naming rules the released RPCs break (renaming
their messages would break older clients). So that new RPCs still follow them, the full
STANDARD set runs as well and its findings must equal protos/lint-baseline.txt, a sorted list
of "file<TAB>rule<TAB>message" lines (no line numbers, so moving code does not matter; a new
RPC that reuses a shared message adds a line).
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tools" / "buf"
BUF = TOOLS / "node_modules" / ".bin" / "buf"  # a Node.js script that starts the platform's binary
# The binary itself, where this platform's package is known (saves starting Node.js per call).
_PLATFORM_PACKAGES = {
    ("Linux", "x86_64"): "buf-linux-x64",
    ("Linux", "aarch64"): "buf-linux-aarch64",
    ("Darwin", "x86_64"): "buf-darwin-x64",
    ("Darwin", "arm64"): "buf-darwin-arm64",
}
STAMP = TOOLS / "node_modules" / ".installed"
RELEASE_IMAGE = REPO / "protos" / "releases" / "v1.binpb"
BASELINE = REPO / "protos" / "lint-baseline.txt"


class BufUnavailable(RuntimeError):
    """buf cannot be installed here (no npm, or `npm ci` failed)."""


def ensure_buf() -> Path:
    """The path of the pinned buf, running `npm ci` first when it is missing or out of date."""
    lock = TOOLS / "package-lock.json"
    if (
        BUF.exists()
        and STAMP.exists()
        and STAMP.stat().st_mtime >= max(lock.stat().st_mtime, (TOOLS / "package.json").stat().st_mtime)
    ):
        return BUF
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise BufUnavailable("Node.js and npm are needed to install buf (npm ci --prefix tools/buf)")
    proc = subprocess.run(
        [npm, "ci", "--prefix", str(TOOLS), "--ignore-scripts", "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not BUF.exists():
        raise BufUnavailable(
            f"npm ci --prefix tools/buf failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}"
        )
    STAMP.touch()
    return BUF


def buf_binary() -> Path:
    """The buf executable: the platform's binary where it is known, else the npm wrapper."""
    wrapper = ensure_buf()
    package = _PLATFORM_PACKAGES.get((platform.system(), platform.machine()))
    if package is not None:
        binary = TOOLS / "node_modules" / "@bufbuild" / package / "bin" / "buf"
        if binary.exists():
            return binary
    return wrapper


def run_buf(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(buf_binary()), *args], cwd=cwd, capture_output=True, text=True)


def strict_config(config_dir: Path = REPO) -> str:
    """buf.yaml without lint.except (the full STANDARD set), as data for `buf lint --config`."""
    config = yaml.safe_load((config_dir / "buf.yaml").read_text())
    config.get("lint", {}).pop("except", None)
    return json.dumps(config)


def strict_findings(cwd: Path = REPO) -> list[str]:
    """The findings of the full STANDARD set, as sorted "file<TAB>rule<TAB>message" lines."""
    proc = run_buf("lint", "--error-format=json", "--config", strict_config(cwd), cwd=cwd)
    if proc.returncode not in (0, 100):  # 100: findings
        raise RuntimeError(f"buf lint failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
    lines = []
    for raw in proc.stdout.splitlines():
        if raw.strip():
            finding = json.loads(raw)
            lines.append(f"{finding['path']}\t{finding['type']}\t{finding['message']}")
    return sorted(lines)


def read_baseline() -> list[str]:
    return sorted(
        line for line in BASELINE.read_text().splitlines() if line.strip() and not line.startswith("#")
    )


def write_baseline(lines: list[str]) -> None:
    header = (
        "# Findings of buf's full STANDARD lint set that the released RPCs may keep (buf.yaml excepts\n"
        "# their rules; scripts/buf_check.py). Generated: python scripts/buf_check.py --write-baseline.\n"
        "# Only shrink it by hand review; a new line means a new RPC that breaks the naming rules.\n"
    )
    BASELINE.write_text(header + "".join(line + "\n" for line in lines))


def baseline_difference(cwd: Path = REPO) -> tuple[list[str], list[str]]:
    """(findings not in the baseline, baseline lines no longer found), each with repeats."""
    found, allowed = Counter(strict_findings(cwd)), Counter(read_baseline())
    return sorted((found - allowed).elements()), sorted((allowed - found).elements())


def check() -> int:
    failed = False
    for title, args in (
        ("buf lint", ("lint",)),
        (
            f"buf breaking --against {RELEASE_IMAGE.relative_to(REPO)}",
            ("breaking", "--against", str(RELEASE_IMAGE)),
        ),
    ):
        proc = run_buf(*args)
        print(f"{title}: {'ok' if proc.returncode == 0 else 'FAILED'}")
        if proc.returncode != 0:
            failed = True
            sys.stdout.write(proc.stdout + proc.stderr)
    new, gone = baseline_difference()
    print(f"lint baseline ({BASELINE.relative_to(REPO)}): {'ok' if not new and not gone else 'FAILED'}")
    for line in new:
        failed = True
        print(f"  new finding (name the RPC's messages <Rpc>Request/<Rpc>Response): {line}")
    for line in gone:
        failed = True
        print(f"  fixed, remove it from the baseline (--write-baseline): {line}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    try:
        if argv == ["--write-baseline"]:
            write_baseline(strict_findings())
            print(f"wrote {BASELINE.relative_to(REPO)}")
            return 0
        if argv:
            print(__doc__)
            return 2
        return check()
    except BufUnavailable as exc:
        print(f"buf is not available: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
