"""Contact and company lifecycle stages (a CRM property, not a lead stage)."""

from enum import StrEnum


class LifecycleStage(StrEnum):
    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MARKETING_QUALIFIED_LEAD = "marketingqualifiedlead"
    SALES_QUALIFIED_LEAD = "salesqualifiedlead"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    EVANGELIST = "evangelist"
    OTHER = "other"


class ChangeSource(StrEnum):
    """Where a lifecycle-stage change came from (SET-4 needs to tell sync apart)."""

    MANUAL = "manual"
    COMPANY_SYNC = "company_sync"
    INTEGRATION = "integration"


# Recorded as the source when SET-6 sets the stage of a record associated with a lead. Leadpipe
# sets it itself, so it is not a ChangeSource a client may send.
LEAD_ASSOCIATION_SOURCE = "lead_association"
