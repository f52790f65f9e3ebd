"""The one Settings object. Nothing else reads the environment."""

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADPIPE_", extra="ignore")

    # Unprefixed because every PostgreSQL tool and host platform already speaks it.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "LEADPIPE_DATABASE_URL")
    )
    data_dir: Path = Path(".leadpipe")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_address: str | None = None
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_namespace: str = "default"
    task_queue: str = "leadpipe"
    admin_token: str | None = None
    log_level: str = "INFO"
    log_json: bool = True
    # Continue-as-new once a lead workflow's history passes this many events (Temporal's own
    # suggestion also triggers it); small values exist for tests.
    lead_history_limit: int = 2000
    worker_shutdown_seconds: float = 30.0
    # Chain emails: SMTP when set (smtp://user:pass@host:port, smtps://..., ?starttls=true),
    # else appended to <data_dir>/mail.log.
    smtp_url: str | None = None
    mail_from: str = "leadpipe@localhost"
    # Signs chain webhooks whose action has no secret of its own.
    webhook_secret: str | None = None
    # Request bodies over these sizes get a 413 before they are read or parsed; a batch of
    # activities (up to 500 items) has its own, larger limit.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_batch_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def sqlalchemy_url(self) -> str:
        """The DATABASE_URL in the form SQLAlchemy's psycopg 3 dialect expects."""
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        return to_sqlalchemy_url(self.database_url)


def to_sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('@')[-1]}")


@lru_cache
def get_settings() -> Settings:
    return Settings()
