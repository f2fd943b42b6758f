"""`make lock`: the hashed lock files, compiled with uv (pinned in requirements-dev.txt).

- requirements.lock: everything the dev venv needs (requirements-dev.txt, which includes
  requirements.txt), for CPython 3.11 on Linux; `make venv` installs it with --require-hashes.
- deploy/locks/<process>.txt: what one image needs, the third-party dependencies declared by the
  pyproject.toml of common/, protos/ and the process's own package, at the versions of
  requirements.lock (a constraint), so an image runs what the tests ran and nothing more.
- deploy/locks/build.txt: what the image's build stage needs (protoc and setuptools).

The local packages (customer-center-*) are never looked up on an index: they are dropped from
the inputs and installed from the checkout with --no-deps.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
IMAGE_LOCKS = ROOT / "deploy" / "locks"
LOCAL_PREFIX = "customer-center-"
# The package directories of each process (the image installs exactly these).
PROCESSES = {
    "gateway": ("common", "protos", "gateway"),
    **{
        name: ("common", "protos", f"{name}-service") for name in ("identity", "contract", "package", "merge")
    },
}
BUILD_TOOLS = ("grpcio-tools", "setuptools")
UV_ARGS = [
    "pip",
    "compile",
    "--quiet",
    "--generate-hashes",
    "--python-version",
    "3.11",
    "--python-platform",
    "x86_64-unknown-linux-gnu",
    "--custom-compile-command",
    "make lock",
]


def third_party_dependencies(directories: tuple[str, ...]) -> list[str]:
    """The dependencies the pyproject.toml files of `directories` declare, local ones left out."""
    found: set[str] = set()
    for directory in directories:
        project = tomllib.loads((ROOT / directory / "pyproject.toml").read_text())["project"]
        found.update(d for d in project["dependencies"] if not d.startswith(LOCAL_PREFIX))
    return sorted(found, key=str.lower)


def pinned_name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def uv() -> str:
    return str(Path(sys.executable).parent / "uv")


def compile_lock(inputs: list[str], output: Path, *, constraint: Path | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # The input file's name is what the lock's "# via" lines cite for a direct dependency.
        source = Path(tmp) / f"{output.stem}.in"
        source.write_text("".join(f"{line}\n" for line in inputs))
        extra = ["--constraint", str(constraint)] if constraint else []
        subprocess.run(
            [uv(), *UV_ARGS, *extra, source.name, "--output-file", str(output)], cwd=tmp, check=True
        )
    # uv cites the constraint by its absolute path: cite it from the repository root instead.
    output.write_text(output.read_text().replace(f"{ROOT}/", ""))


def main() -> None:
    subprocess.run([uv(), *UV_ARGS, "requirements-dev.txt", "--output-file", str(LOCK)], cwd=ROOT, check=True)
    IMAGE_LOCKS.mkdir(parents=True, exist_ok=True)
    for process, directories in PROCESSES.items():
        compile_lock(third_party_dependencies(directories), IMAGE_LOCKS / f"{process}.txt", constraint=LOCK)
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    tools = [line for line in dev if pinned_name(line) in BUILD_TOOLS]
    compile_lock(tools, IMAGE_LOCKS / "build.txt", constraint=LOCK)


if __name__ == "__main__":
    main()
