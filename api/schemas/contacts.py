from datetime import datetime
from typing import Annotated

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import EmailAddress, Flag, Id, Line, NotNull
from domain.lifecycle import ChangeSource, LifecycleStage

PersonName = Annotated[str, Line(100)]
CompanyName = Annotated[str, Line(200, min_length=1)]
Domain = Annotated[str, Line(253)]


class ContactCreate(WriteModel):
    email: EmailAddress | None = Field(default=None, examples=["jo@acme.io"])
    first_name: PersonName | None = Field(default=None, examples=["Jo"])
    last_name: PersonName | None = Field(default=None, examples=["Lee"])
    company_id: Id | None = None
    owner_id: Id | None = None
    lifecycle_stage: LifecycleStage | None = Field(default=None, examples=["lead"])


class ContactUpdate(ContactCreate):
    change_source: Annotated[ChangeSource, NotNull()] = Field(
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
    name: CompanyName = Field(examples=["Acme Oy"])
    domain: Domain | None = Field(default=None, examples=["acme.io"])
    lifecycle_stage: LifecycleStage | None = None
    is_target_account: Flag = False
    owner_id: Id | None = None


class CompanyUpdate(WriteModel):
    name: Annotated[CompanyName | None, NotNull()] = None
    domain: Domain | None = None
    lifecycle_stage: LifecycleStage | None = None
    is_target_account: Annotated[Flag | None, NotNull()] = None
    owner_id: Id | None = None


class CompanyRead(ReadModel):
    id: int
    name: str
    domain: str | None
    lifecycle_stage: LifecycleStage | None
    is_target_account: bool
    owner_id: int | None
    created_at: datetime
    updated_at: datetime
