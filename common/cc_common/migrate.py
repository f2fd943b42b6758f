"""`python -m cc_common.migrate <service>`: runs one service's Alembic migrations against its
DATABASE_URL and exits (0 when the database is at head). For deployments that migrate as a
step before the service copies start (a compose one-shot, a Kubernetes Job).

<service> is identity, contract, package or merge; DATABASE_URL is read as the service reads
it (default `sqlite:///$VAR_DIR/<service>.db`). The migrations run under the same PostgreSQL
advisory lock as a service's own start-up upgrade (`cc_common.db.upgrade`), so a migrate
step and copies that start meanwhile never migrate twice. With APP_ENV=production it refuses
a missing or SQLite DATABASE_URL like the services do.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

from cc_common import config, db, logs
from cc_common.settings import ServiceSettings

SERVICES = ("identity", "contract", "package", "merge")


def migrations_dir(service: str) -> Path:
    """The migrations folder of `service` (its package `<service>_service` must be importable)."""
    module = importlib.import_module(f"{service}_service")
    return Path(module.__path__[0]) / "migrations"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in SERVICES:
        print(f"usage: python -m cc_common.migrate {{{','.join(SERVICES)}}}", file=sys.stderr)
        return 2
    service = args[0]
    if config.is_production():
        problems = config.database_url_problems()
        if problems:
            raise config.UnsafeSettings(
                f"{service} migrate: refusing to start with APP_ENV=production: {'; '.join(problems)}"
            )
    logs.configure(f"{service}-migrate")
    url = ServiceSettings.load().database_url or config.default_database_url(service)
    db.upgrade(url, migrations_dir(service))
    logging.info("%s database is at head", service)
    return 0


if __name__ == "__main__":
    sys.exit(main())
