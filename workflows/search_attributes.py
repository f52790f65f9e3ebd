"""Search attributes operators filter lead workflows by in the Temporal UI."""

from temporalio.common import SearchAttributeKey

LEAD_STAGE = SearchAttributeKey.for_keyword("LeadStage")  # the stage *label*
LEAD_PIPELINE = SearchAttributeKey.for_keyword("LeadPipeline")  # the pipeline label
# The owner's user id, not email: visibility stores are no place for personal data.
LEAD_OWNER = SearchAttributeKey.for_int("LeadOwner")
LEAD_TYPE = SearchAttributeKey.for_keyword("LeadType")  # the lead type key

ALL = (LEAD_STAGE, LEAD_PIPELINE, LEAD_OWNER, LEAD_TYPE)
