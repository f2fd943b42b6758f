"""One engine per service from DATABASE_URL, and Alembic migrations run programmatically."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """An engine for `url`; its statements are spans while traces are exported
    (cc_common.telemetry)."""
    from cc_common import telemetry

    engine = _create(url)
    telemetry.instrument_engine(engine)
    return engine


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters (both engines): the error of a failing statement, logged with its
        # traceback, never shows the values (password hashes, IBANs), only the SQL.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def migration_lock_key(migrations_dir: Path) -> int:
    """The PostgreSQL advisory lock key of one service's migrations: a fixed 63-bit number
    derived from the service's package name (`identity_service`), the same in every copy."""
    name = f"customer-center:migrations:{Path(migrations_dir).resolve().parent.name}"
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") >> 1


def upgrade(url: str, migrations_dir: Path) -> None:
    """`alembic upgrade heads` for one service's migrations against `url`.

    Every copy of a service calls this when it starts. On PostgreSQL the upgrade runs under a
    session-level advisory lock (`pg_advisory_lock`, key `migration_lock_key`) held on a
    connection of its own: copies starting together wait for each other, the first migrates
    and the later ones find the head already applied. The lock ends with its connection, so a
    copy that dies while migrating never leaves it held (its migration's transaction is
    rolled back and the next copy starts it again). SQLite databases are one file on one
    machine and are migrated as they are.
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.attributes["database_url"] = url
    if make_url(url).get_backend_name() != "postgresql":
        command.upgrade(cfg, "heads")
        return
    key = migration_lock_key(migrations_dir)
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                command.upgrade(cfg, "heads")
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        engine.dispose()


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. `Session.execute` returns a CursorResult for them,
    which has `rowcount`, but its declared type is the plain Result."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)


def run_alembic_env(target_metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py` (kept once, here)."""
    from alembic import context

    from cc_common.settings import ServiceSettings

    config = context.config
    url = config.attributes.get("database_url") or ServiceSettings.load().database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
