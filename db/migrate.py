"""Apply Alembic migrations programmatically (`make run`, the tests, the container images)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from config import to_sqlalchemy_url

INI = Path(__file__).with_name("alembic.ini")


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(INI))
    cfg.set_main_option("sqlalchemy.url", to_sqlalchemy_url(database_url).replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
