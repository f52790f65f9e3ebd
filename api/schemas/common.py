from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class WriteModel(BaseModel):
    # Unknown fields are a mistake worth telling the caller about, not something to ignore.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageOf(ReadModel, Generic[T]):
    """One page of a list; `PageOf[XRead].model_validate(page)` reads a service's `Page`."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; absent on the last page."
    )
