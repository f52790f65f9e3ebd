"""The one Settings object. Nothing else reads the environment."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.addresses import AllowList


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
    # The worker's relay evaluates a record's guided actions once its changes paused this long
    # (at most 30 s after the first): suggestions run on hours and days, and a lead being
    # worked would otherwise be evaluated at every relay pass. 0 evaluates at the next pass.
    guided_settle_seconds: float = Field(default=2.0, ge=0, le=30)
    # Guided workflow tasks (each an evaluation) one worker runs at once; the rest wait on the
    # guided task queue, apart from the lead workflows' tasks. Fewer slots, fewer evaluations:
    # changes signalled to a waiting one are evaluated with it (bench/README.md).
    guided_concurrency: int = Field(default=2, ge=2, le=100)
    # Workflows one worker keeps in memory between their tasks (the SDK's default); one past it
    # is evicted and replays from its history at its next task (bench/leads_scale.py). Sleeping
    # guided workflows need none cached.
    worker_cached_workflows: int = Field(default=1000, ge=0)
    # Run workflow code inside the SDK's sandbox, which fails a workflow task on a
    # non-deterministic call (time, random, I/O) but costs CPU on every task and every new or
    # replayed workflow (bench/README.md, "The workflow sandbox"). The test suite and the
    # replay tests run with it; a worker runs without it unless set.
    workflow_sandbox: bool = False
    # Chain emails: SMTP when set (smtp://user:pass@host:port, smtps://..., ?starttls=true),
    # else appended to <data_dir>/mail.log.
    smtp_url: str | None = None
    mail_from: str = "leadpipe@localhost"
    # For crash tests only: the process kills itself (SIGKILL) when it reaches this point.
    # `after_email_send`: an email was handed over, its `sent` not yet committed.
    # `before_chain_step_commit`: a chain step's effect and its outcome are written, not
    # committed.
    fault_point: Literal["after_email_send", "before_chain_step_commit"] | None = None
    # Signs chain webhooks whose action has no secret of its own.
    webhook_secret: str | None = None
    # Request bodies over these sizes get a 413 before they are read or parsed; a batch of
    # activities (up to 500 items) has its own, larger limit.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_batch_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    # Non-public webhook targets that are still allowed (on-premise receivers), comma-separated:
    # host names, `*.suffix` names, addresses, CIDR networks. Everything else must be public.
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        return (
            [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value
        )

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _valid_hosts(cls, value: list[str]) -> list[str]:
        AllowList.parse(value)  # refuses a bad entry at start-up, not at the first webhook
        return value

    @property
    def webhook_allow_list(self) -> AllowList:
        return AllowList.parse(self.webhook_allowed_hosts)

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
