"""buf for `make lint` and tests/test_protos_buf.py: installs the pinned buf CLI and checks the protos.

    python scripts/buf_check.py     # buf lint (the full STANDARD set), buf breaking

buf comes from the npm registry (@bufbuild/buf, pinned with its lock file in tools/buf; the
binary for this platform is an optional dependency, e.g. @bufbuild/buf-linux-x64) and is
installed with `npm ci --prefix tools/buf` when it is missing or the lock file changed.

`buf breaking` runs against the image of the served release, protos/releases/v2.binpb. The
v1 image stays in the repository as history only: no process serves customercenter.v1 any more
(protos/releases/README.md).
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from pathlib import Path

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
# The release every process serves; `buf breaking` checks the protos against it.
RELEASE_IMAGE = REPO / "protos" / "releases" / "v2.binpb"


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
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    try:
        if argv:
            print(__doc__)
            return 2
        return check()
    except BufUnavailable as exc:
        print(f"buf is not available: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
