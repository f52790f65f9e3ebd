from datetime import datetime
from typing import Any

from api.schemas.common import ReadModel


class AuditEntryRead(ReadModel):
    id: int
    at: datetime
    actor_id: int | None
    entity: str
    entity_id: int | None
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
