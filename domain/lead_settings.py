"""Account-wide lead settings (SET-*, QUA-1, DIS-1) and what a valid save is."""

from pydantic import BaseModel, ConfigDict

from domain.errors import FieldError
from domain.lifecycle import LifecycleStage


class _Setting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CreateLeadOnLifecycle(_Setting):
    """SET-2/SET-3: a contact entering one of `stages` gets a lead (once, while none is open)."""

    enabled: bool = False
    stages: tuple[LifecycleStage, ...] = ()


class SetLifecycleOnAssociate(_Setting):
    """SET-6: contacts and companies associated with a lead are set to `stage`."""

    enabled: bool = False
    stage: LifecycleStage | None = None


class LeadSettings(_Setting):
    create_lead_on_lifecycle: CreateLeadOnLifecycle = CreateLeadOnLifecycle()
    set_lifecycle_on_associate: SetLifecycleOnAssociate = SetLifecycleOnAssociate()
    # QUA-1 and DIS-1 leave the defaults open; both start off, so a fresh account can move
    # leads freely until an admin decides otherwise.
    require_deal_on_qualify: bool = False
    require_disqualification_reason: bool = False

    def is_trigger(self, stage: str | None) -> bool:
        """Whether a contact entering `stage` should get a lead (SET-3, SET-5)."""
        rule = self.create_lead_on_lifecycle
        return rule.enabled and stage is not None and stage in rule.stages


def validate_settings(settings: LeadSettings) -> list[FieldError]:
    """Every broken rule of a settings save (SET-2, SET-6); empty when it may be saved."""
    errors: list[FieldError] = []
    create = settings.create_lead_on_lifecycle
    if create.enabled and not create.stages:
        errors.append(
            FieldError(
                "create_lead_on_lifecycle.stages",
                "required",
                "choose at least one lifecycle stage to create leads from",
            )
        )
    if len(set(create.stages)) != len(create.stages):
        errors.append(
            FieldError(
                "create_lead_on_lifecycle.stages", "unique", "a lifecycle stage is listed twice"
            )
        )
    associate = settings.set_lifecycle_on_associate
    if associate.enabled and associate.stage is None:
        errors.append(
            FieldError(
                "set_lifecycle_on_associate.stage",
                "required",
                "choose the lifecycle stage associated records are set to",
            )
        )
    return errors
