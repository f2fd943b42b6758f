"""Migrations run once: copies of a service starting together on one PostgreSQL database
serialise on an advisory lock, and `python -m cc_common.migrate <service>` runs the same
upgrade as a step of its own and exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from tests.conftest import PgDatabases, require_postgres
from tests.e2e.harness import child_env

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "merge-service" / "merge_service" / "migrations"


def _env(**extra: str) -> dict[str, str]:
    env = child_env()
    env.update(extra)
    return env


def _migrate(service: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cc_common.migrate", service],
        env=_env(**env),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _revisions() -> set[str]:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}


def _heads() -> set[str]:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return set(ScriptDirectory.from_config(cfg).get_heads())


@pytest.mark.postgres
def test_three_copies_migrating_one_fresh_postgresql_database_at_once_apply_each_revision_once():
    require_postgres()
    dbs = PgDatabases()
    url = dbs.create("migrate")
    try:
        copies = [_migrate("merge", DATABASE_URL=url) for _ in range(3)]
        outputs = [copy.communicate(timeout=120)[0] for copy in copies]
        assert [copy.returncode for copy in copies] == [0, 0, 0], outputs
        # Alembic logs "Running upgrade <from> -> <to>" for each revision it applies.
        applied = [line for out in outputs for line in out.splitlines() if "Running upgrade" in line]
        assert len(applied) == len(_revisions()), applied
        engine = create_engine(url)
        with engine.connect() as conn:
            versions = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
        engine.dispose()
        assert versions == _heads()
    finally:
        dbs.drop_all()


def test_the_migrate_command_brings_a_fresh_sqlite_database_to_head_and_a_second_run_changes_nothing(
    tmp_path,
):
    url = f"sqlite:///{tmp_path / 'merge.db'}"
    first = _migrate("merge", DATABASE_URL=url)
    first_out = first.communicate(timeout=60)[0]
    assert first.returncode == 0, first_out
    assert first_out.count("Running upgrade") == len(_revisions())
    second = _migrate("merge", DATABASE_URL=url)
    second_out = second.communicate(timeout=60)[0]
    assert second.returncode == 0, second_out
    assert "Running upgrade" not in second_out
    engine = create_engine(url)
    assert "merges" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_migrate_command_refuses_an_unknown_service_and_sqlite_in_production(tmp_path):
    unknown = _migrate("billing", VAR_DIR=str(tmp_path))
    assert unknown.communicate(timeout=60)[0].startswith("usage: python -m cc_common.migrate")
    assert unknown.returncode == 2
    production = _migrate("identity", APP_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'i.db'}")
    out = production.communicate(timeout=60)[0]
    assert production.returncode == 1
    assert "DATABASE_URL is SQLite" in out
    assert not (tmp_path / "i.db").exists()
