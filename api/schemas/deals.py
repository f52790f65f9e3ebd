from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel
from api.schemas.fields import CalendarDate, Id, Line, NotNull, Text

DealName = Annotated[str, Line(200, min_length=1)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class DealCreate(WriteModel):
    name: DealName = Field(examples=["Acme annual plan"])
    amount: Amount | None = Field(default=None, examples=["12000.00"])
    close_date: CalendarDate | None = Field(default=None, examples=["2026-12-31"])
    pipeline_id: Id | None = Field(default=None, description="Default deal pipeline if absent")
    stage_id: Id | None = Field(default=None, description="The pipeline's first stage if absent")
    owner_id: Id | None = None
    contact_id: Id | None = None
    company_id: Id | None = None


class DealUpdate(WriteModel):
    name: Annotated[DealName | None, NotNull()] = None
    amount: Amount | None = None
    close_date: CalendarDate | None = None
    pipeline_id: Annotated[Id | None, NotNull()] = None
    stage_id: Annotated[Id | None, NotNull()] = None
    owner_id: Id | None = None
    contact_id: Id | None = None
    company_id: Id | None = None
    next_steps: Annotated[str, Text(5000)] | None = None


class DealRead(ReadModel):
    id: int
    name: str
    amount: Decimal | None
    close_date: date | None
    pipeline_id: int
    stage_id: int
    owner_id: int | None
    contact_id: int | None
    company_id: int | None
    lead_id: int | None
    next_steps: str | None
    stage_entered_at: datetime = Field(description="When the deal entered its current stage")
    created_at: datetime
    updated_at: datetime
