from cc_common.db import run_alembic_env
from identity_service.adapters.orm import Base

run_alembic_env(Base.metadata)
