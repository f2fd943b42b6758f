"""The installable packages, their declared dependencies and the hashed lock files agree.

Each pyproject.toml declares exactly the third-party packages its own code imports (found with
`ast`, mapped to distributions through the installed files of the venv), requirements.lock pins
every requirement at its version with hashes, and each image's lock (deploy/locks/<process>.txt)
holds what its process declares and what those need, nothing else. `make lock` rewrites the locks
after a change; these tests fail while one is behind.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
# Each package directory and the sources it ships (top-level packages and modules).
PACKAGES = {
    "common": ["cc_common"],
    "protos": ["gen/customercenter"],
    "gateway": ["gateway_app", "gateway_worker.py", "gateway_metrics.py"],
    **{f"{s}-service": [f"{s}_service"] for s in ("identity", "contract", "package", "merge")},
}
LOCAL_MODULES = {Path(source).stem for sources in PACKAGES.values() for source in sources}
PROCESSES = {
    "gateway": "gateway",
    **{s: f"{s}-service" for s in ("identity", "contract", "package", "merge")},
}
# Imports inside a cc_common function that only one process calls: that process declares them.
CALLED_ONLY_BY = {"opentelemetry.instrumentation.flask": "gateway"}
# Declared though no code of ours imports them, and why.
NOT_IMPORTED = {"psycopg": "SQLAlchemy's postgresql+psycopg dialect imports it for every service's database"}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project(directory: str) -> dict:
    return tomllib.loads((REPO / directory / "pyproject.toml").read_text())["project"]


def own_dependencies(directory: str) -> tuple[set[str], set[str]]:
    """(local package names, third-party distribution names) that `directory` declares."""
    names = {normal(Requirement(d).name) for d in project(directory)["dependencies"]}
    local = {n for n in names if n.startswith("customer-center-")}
    return local, names - local


def directory_of(package_name: str) -> str:
    return next(d for d in PACKAGES if normal(project(d)["name"]) == package_name)


def declared_with_local_dependencies(directory: str) -> set[str]:
    """The third-party distributions `directory` gets: its own and its local dependencies'."""
    local, third_party = own_dependencies(directory)
    for name in local:
        third_party |= declared_with_local_dependencies(directory_of(name))
    return third_party


@cache
def module_owners() -> dict[str, str]:
    """Every module of the venv (dotted name) -> the distribution that installed it."""
    owners = {}
    for dist in metadata.distributions():
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0].endswith((".dist-info", ".data")) or ".." in parts:
                continue
            if file.suffix == ".py" or file.suffix == ".so":
                names = [*parts[:-1], parts[-1].split(".")[0]]
                if names[-1] == "__init__":
                    names.pop()
                owners[".".join(names)] = normal(dist.metadata["Name"])
    return owners


def distribution_of(module: str) -> str:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        owner = module_owners().get(".".join(parts[:end]))
        if owner:
            return owner
    raise AssertionError(f"no installed distribution provides {module}")


def sources(directory: str) -> list[Path]:
    found = []
    for source in PACKAGES[directory]:
        path = REPO / directory / source
        found += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return found


def imported_modules(directory: str) -> set[str]:
    """The third-party modules the code of `directory` imports (`from m import a` counts as m.a
    when m.a is a module, as with namespace packages such as opentelemetry)."""
    found = set()
    for path in sources(directory):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                owners = module_owners()
                modules = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in owners else node.module
                    for a in node.names
                ]
            else:
                continue
            top = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names | LOCAL_MODULES}
            found |= top
    return found


def imported_distributions(directory: str) -> set[str]:
    modules = imported_modules(directory)
    if directory == "common":
        modules = {m for m in modules if not m.startswith(tuple(CALLED_ONLY_BY))}
    modules |= {m for m, process in CALLED_ONLY_BY.items() if process == directory}
    return {distribution_of(m) for m in modules}


@pytest.mark.parametrize("directory", PACKAGES)
def test_each_package_declares_every_third_party_package_its_code_imports(directory):
    missing = imported_distributions(directory) - declared_with_local_dependencies(directory)
    assert not missing, f"{directory}/pyproject.toml does not declare {sorted(missing)}"


@pytest.mark.parametrize("directory", PACKAGES)
def test_each_package_declares_nothing_its_own_code_does_not_import(directory):
    _, declared = own_dependencies(directory)
    unused = declared - imported_distributions(directory) - set(NOT_IMPORTED)
    assert not unused, f"{directory}/pyproject.toml declares {sorted(unused)}, which its code never imports"


def test_only_the_services_with_a_database_declare_its_driver():
    for directory in PACKAGES:
        has_database = (REPO / directory / PACKAGES[directory][0] / "migrations").is_dir()
        assert ("psycopg" in own_dependencies(directory)[1]) == has_database, directory


# --- the lock files ----------------------------------------------------------------------------


@dataclass
class Locked:
    version: str
    hashes: set[str] = field(default_factory=set)
    via: set[str] = field(default_factory=set)


def read_lock(path: Path) -> dict[str, Locked]:
    """A uv/pip-compile lock: name -> version, hashes and the "# via" lines."""
    entries: dict[str, Locked] = {}
    current = None
    for line in path.read_text().splitlines():
        pinned = re.match(r"^([A-Za-z0-9][\w.\-]*)(?:\[[^\]]*\])?==(\S+)", line)
        text = line.strip()
        if pinned:
            current = entries[normal(pinned.group(1))] = Locked(pinned.group(2))
        elif current and text.startswith("--hash="):
            current.hashes.add(text.removeprefix("--hash=").rstrip(" \\"))
        elif current and text.startswith("# via") and text != "# via":
            current.via.add(text.removeprefix("# via").strip())
        elif current and text.startswith("#   "):
            current.via.add(text.removeprefix("#").strip())
    return entries


def requirement_lines(path: Path) -> list[Requirement]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def test_the_lock_pins_every_requirement_at_a_version_it_allows_and_hashes_everything():
    lock = read_lock(LOCK)
    assert lock, "requirements.lock is empty"
    for requirement in [
        *requirement_lines(REPO / "requirements.txt"),
        *requirement_lines(REPO / "requirements-dev.txt"),
    ]:
        entry = lock.get(normal(requirement.name))
        assert entry, f"{requirement.name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(entry.version, prereleases=True), (
            f"requirements.lock has {requirement.name}=={entry.version}, outside {requirement}: run `make lock`"
        )
    for directory in PACKAGES:
        missing = own_dependencies(directory)[1] - set(lock)
        assert not missing, (
            f"{directory} declares {sorted(missing)}, which requirements.lock lacks: run `make lock`"
        )
    assert all(entry.hashes for entry in lock.values()), "an entry of requirements.lock has no hash"


def test_make_venv_installs_the_lock_with_hashes_and_the_local_packages_without_their_dependencies():
    makefile = (REPO / "Makefile").read_text()
    assert "install -q --require-hashes --no-deps -r requirements.lock" in makefile
    listed = re.search(r"^LOCAL_PACKAGES := (.+)$", makefile, re.M).group(1).split()
    assert set(listed) == set(PACKAGES)


def test_nothing_puts_the_package_directories_on_the_python_path():
    assert not re.search(r"^\s*(export\s+)?PYTHONPATH\s*[:?+]?=", (REPO / "Makefile").read_text(), re.M)
    pytest_config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert pytest_config["pythonpath"] == ["."]  # the repository root, for tests.* only
    for path in ("Procfile", "scripts/cluster.py", "deploy/Dockerfile", "docker-compose.yml"):
        assert "PYTHONPATH" not in (REPO / path).read_text(), path


@pytest.mark.parametrize("process", PROCESSES)
def test_each_image_lock_holds_what_its_process_declares_and_what_that_needs_only(process):
    image = read_lock(REPO / "deploy" / "locks" / f"{process}.txt")
    full = read_lock(LOCK)
    declared = declared_with_local_dependencies(PROCESSES[process])
    # The direct entries are exactly the declared ones; every other one is needed by an entry.
    direct = {name for name, entry in image.items() if f"-r {process}.in" in entry.via}
    assert direct == declared, (
        f"deploy/locks/{process}.txt is behind the pyproject.toml files: run `make lock`"
    )
    for name, entry in image.items():
        needed_by = {normal(v) for v in entry.via if not v.startswith("-")} & set(image)
        assert name in direct or needed_by, f"{process}: {name} is in its image but nothing there needs it"
        assert entry.version == full[name].version, f"{process}: {name} differs from requirements.lock"
        assert entry.hashes and entry.hashes <= full[name].hashes, f"{process}: {name} hashes"


# --- the wheels the images install -------------------------------------------------------------


@pytest.mark.parametrize("directory", PACKAGES)
def test_the_wheel_of_each_package_holds_every_file_of_its_sources(directory, tmp_path):
    """What the image installs is a wheel (deploy/Dockerfile): it must carry the templates,
    translations and Alembic migrations (directories without __init__.py) as well."""
    wanted = set()
    for source in PACKAGES[directory]:
        path = REPO / directory / source
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        root = REPO / directory / ("gen" if directory == "protos" else "")
        wanted |= {p.relative_to(root).as_posix() for p in files if "__pycache__" not in p.parts}
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources.
    copy = tmp_path / "src"
    subprocess.run(["cp", "-r", str(REPO / directory), str(copy)], check=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(copy),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in n}
    assert wanted == shipped, directory
