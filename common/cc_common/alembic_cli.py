"""`python -m cc_common.alembic_cli <service-package> revision --autogenerate -m "..."`:
runs Alembic for one service's migrations folder (kept once for every service)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from alembic.config import CommandLine, Config


def main() -> None:
    package, *args = sys.argv[1:]
    module = importlib.import_module(package)
    migrations = Path(module.__path__[0]) / "migrations"
    cli = CommandLine()
    options = cli.parser.parse_args(args)
    cfg = Config(cmd_opts=options)
    cfg.set_main_option("script_location", str(migrations))
    from cc_common.settings import ServiceSettings

    cfg.attributes["database_url"] = ServiceSettings.load().database_url or "sqlite:///var/alembic-scratch.db"
    cli.run_cmd(cfg, options)


if __name__ == "__main__":
    main()
