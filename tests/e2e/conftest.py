"""End-to-end fixtures: the five real processes, started once per pytest-xdist worker.

- `suite`: SQLite databases, default settings. Shared by every test of the worker, so a test
  creates its own customers (`suite.create_customer()`), never relies on a count of rows.
- `suite_pg`: the same on PostgreSQL (fresh databases per service); skipped with a reason
  where PostgreSQL is not reachable, failing under CI=true.
- `any_suite`: parametrised over both.
- `suite_factory(env={...}, backend="sqlite")`: a separate suite with its own settings (LOGIN_*
  throttling limits, MERGE_REVIEW, ...), stopped when its test module is done.
  The shared suites run with SHARED_SUITE_ENV (a high per-address login failure limit).

A test that stops or kills a process of a shared suite must start it again before it ends
(`suite.start(name)`), or use its own suite from `suite_factory`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import Suite


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


class _Suites:
    """Starts suites and closes them (and drops their PostgreSQL databases) at the end."""

    def __init__(self, tmp_path_factory) -> None:
        self._tmp = tmp_path_factory
        self._open: list[tuple[Suite, object | None]] = []

    def __call__(self, *, backend: str = "sqlite", env: dict[str, str] | None = None, **kwargs) -> Suite:
        databases = None
        urls = None
        if backend == "postgresql":
            from tests.conftest import PgDatabases, require_postgres

            require_postgres()
            databases = PgDatabases()
            urls = {name: databases.create(name) for name in ("identity", "contract", "package", "merge")}
        elif backend != "sqlite":
            raise ValueError(f"unknown backend {backend!r}")
        suite = Suite(self._tmp.mktemp(f"suite-{backend}"), database_urls=urls, env=env, **kwargs)
        self._open.append((suite, databases))
        suite.start_all()  # on failure the error carries the tail of every process's log
        return suite

    def close_all(self) -> None:
        for suite, databases in reversed(self._open):
            try:
                suite.close()
            finally:
                if databases is not None:
                    databases.drop_all()


@pytest.fixture(scope="session")
def _shared_suites(tmp_path_factory):
    """The suites shared by the whole session (`suite`, `suite_pg`)."""
    suites = _Suites(tmp_path_factory)
    yield suites
    suites.close_all()


@pytest.fixture(scope="module")
def suite_factory(tmp_path_factory):
    """Suites of one test module, closed when the module is done: an idle suite's five processes
    still poll (outbox, leases, terminations, revocation heartbeats), and a suite kept to the
    end of the session for every module that wanted its own would add up to a hundred idle
    processes eating the two cores the tests run on."""
    suites = _Suites(tmp_path_factory)
    yield suites
    suites.close_all()


# Every request of the tests comes from 127.0.0.1: the shared suites raise the per-address
# limits so that unrelated tests' failed logins and reset requests never add up to a lockout.
# A test of such a limit starts its own suite: suite_factory(env={"LOGIN_MAX_FAILURES_PER_ADDRESS": "3"}).
SHARED_SUITE_ENV = {
    "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
    "PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS": "100000",
}


@pytest.fixture(scope="session")
def suite(_shared_suites) -> Suite:
    return _shared_suites(backend="sqlite", env=SHARED_SUITE_ENV)


@pytest.fixture(scope="session")
def suite_pg(_shared_suites) -> Suite:
    return _shared_suites(backend="postgresql", env=SHARED_SUITE_ENV)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_suite(request) -> Suite:
    return request.getfixturevalue("suite" if request.param == "sqlite" else "suite_pg")
