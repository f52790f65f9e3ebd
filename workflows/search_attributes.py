"""Search attributes operators filter lead workflows by in the Temporal UI."""

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from domain.leads import LeadSnapshot

LEAD_STAGE = SearchAttributeKey.for_keyword("LeadStage")  # the stage *label*
LEAD_PIPELINE = SearchAttributeKey.for_keyword("LeadPipeline")  # the pipeline label
# The owner's user id, not email: visibility stores are no place for personal data.
LEAD_OWNER = SearchAttributeKey.for_int("LeadOwner")
LEAD_TYPE = SearchAttributeKey.for_keyword("LeadType")  # the lead type key

ALL = (LEAD_STAGE, LEAD_PIPELINE, LEAD_OWNER, LEAD_TYPE)


def lead_updates(lead: LeadSnapshot) -> list[SearchAttributeUpdate[Any]]:
    """The lead's search attributes as it is now; an absent type or owner is unset."""
    return [
        LEAD_STAGE.value_set(lead.stage_label),
        LEAD_PIPELINE.value_set(lead.pipeline_label),
        LEAD_TYPE.value_set(lead.lead_type) if lead.lead_type else LEAD_TYPE.value_unset(),
        LEAD_OWNER.value_set(lead.owner_id) if lead.owner_id else LEAD_OWNER.value_unset(),
    ]
