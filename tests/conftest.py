"""Fixtures every test layer shares: the database backends.

`database_url` is parametrised over SQLite and PostgreSQL. PostgreSQL runs at 127.0.0.1:5432
(user postgres, trust auth); each test gets fresh databases. Where PostgreSQL is not reachable
the PostgreSQL variants are skipped with a reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid

import pytest

PG_HOST = os.environ.get("PGHOST_TEST", "127.0.0.1")

# The processes tests start serve no /metrics unless a test gives them a port (the defaults,
# 9100-9104, would collide between tests running in parallel); tests/e2e/harness.py does.
os.environ["METRICS_PORT"] = "0"
os.environ["GATEWAY_METRICS_PORT"] = "0"
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}:5432/test"


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(f"host={PG_HOST} port=5432 user=postgres dbname=test", connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_PG_PROBLEM: str | None | bool = False  # False = not probed yet


def pg_problem() -> str | None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _pg_available()
    return _PG_PROBLEM  # type: ignore[return-value]


def require_postgres() -> None:
    problem = pg_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI=true but not reachable: {problem}")
    pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:5432 ({problem})")


class PgDatabases:
    """Creates throw-away databases and drops them at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self, label: str) -> str:
        import psycopg

        name = f"cc_{label}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(f"host={PG_HOST} port=5432 user=postgres dbname=test", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgresql+psycopg://postgres@{PG_HOST}:5432/{name}"

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(f"host={PG_HOST} port=5432 user=postgres dbname=test", autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A factory: database_url("package") -> a fresh URL on this test's backend."""
    if request.param == "sqlite":
        yield lambda label: f"sqlite:///{tmp_path / (label + '.db')}"
        return
    require_postgres()
    dbs = PgDatabases()
    yield dbs.create
    dbs.drop_all()


BROWSER_TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser") + os.sep


def pytest_collection_modifyitems(config, items):
    """The browser tests run last on every worker. Playwright's sync API keeps an event loop
    running in the main thread while its session-wide browser is open, and a test after it that
    calls asyncio.run() (the revocation hub's unit tests do) would fail for that alone. With the
    browser tests at the end of the collection, pytest-xdist hands a worker none of the other
    tests after its first browser test."""
    items.sort(key=lambda item: str(item.fspath).startswith(BROWSER_TESTS))
