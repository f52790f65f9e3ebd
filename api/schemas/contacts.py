from datetime import datetime

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from domain.lifecycle import ChangeSource, LifecycleStage

EMAIL = Field(
    default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", examples=["jo@acme.io"]
)


class ContactCreate(WriteModel):
    email: str | None = EMAIL
    first_name: str | None = Field(default=None, max_length=100, examples=["Jo"])
    last_name: str | None = Field(default=None, max_length=100, examples=["Lee"])
    company_id: int | None = None
    owner_id: int | None = None
    lifecycle_stage: LifecycleStage | None = Field(default=None, examples=["lead"])


class ContactUpdate(ContactCreate):
    change_source: ChangeSource = Field(
        default=ChangeSource.MANUAL,
        description="Where a lifecycle-stage change came from; `company_sync` never creates leads.",
    )


class ContactRead(ReadModel):
    id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    company_id: int | None
    owner_id: int | None
    lifecycle_stage: LifecycleStage | None
    created_at: datetime
    updated_at: datetime


class LifecycleChangeRead(ReadModel):
    at: datetime
    from_stage: LifecycleStage | None
    to_stage: LifecycleStage | None
    source: str = Field(
        description="`manual`, `company_sync`, `integration`, or `lead_association` when the "
        "lead settings set it as a lead was associated"
    )


class CompanyCreate(WriteModel):
    name: str = Field(min_length=1, max_length=200, examples=["Acme Oy"])
    domain: str | None = Field(default=None, max_length=253, examples=["acme.io"])
    lifecycle_stage: LifecycleStage | None = None
    is_target_account: bool = False
    owner_id: int | None = None


class CompanyUpdate(WriteModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    domain: str | None = Field(default=None, max_length=253)
    lifecycle_stage: LifecycleStage | None = None
    is_target_account: bool | None = None
    owner_id: int | None = None


class CompanyRead(ReadModel):
    id: int
    name: str
    domain: str | None
    lifecycle_stage: LifecycleStage | None
    is_target_account: bool
    owner_id: int | None
    created_at: datetime
    updated_at: datetime
