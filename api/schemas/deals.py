from datetime import date, datetime
from decimal import Decimal

from pydantic import Field

from api.schemas.common import ReadModel, WriteModel


class DealCreate(WriteModel):
    name: str = Field(min_length=1, max_length=200, examples=["Acme annual plan"])
    amount: Decimal | None = Field(
        default=None, ge=0, max_digits=14, decimal_places=2, examples=["12000.00"]
    )
    close_date: date | None = Field(default=None, examples=["2026-12-31"])
    pipeline_id: int | None = Field(default=None, description="Default deal pipeline if absent")
    stage_id: int | None = Field(default=None, description="The pipeline's first stage if absent")
    owner_id: int | None = None
    contact_id: int | None = None
    company_id: int | None = None


class DealUpdate(WriteModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    amount: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    close_date: date | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    owner_id: int | None = None
    contact_id: int | None = None
    company_id: int | None = None
    next_steps: str | None = Field(default=None, max_length=5000)


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
    created_at: datetime
    updated_at: datetime
