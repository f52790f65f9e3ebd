from pydantic import Field

from api.schemas.common import WriteModel
from api.schemas.fields import Flag


class WorkspaceSettingsIO(WriteModel):
    enabled: Flag = Field(
        default=True,
        description="Off: every workspace endpoint answers 404, as if it were not there (PERM-9)",
    )
