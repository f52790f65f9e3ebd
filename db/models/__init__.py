"""SQLAlchemy models. They stay inside: API schemas and workflow messages are separate types."""

from db.models.activities import Activity
from db.models.audit import AuditEntry
from db.models.automation import PipelineAutomation
from db.models.base import Base
from db.models.chains import (
    ChainComment,
    ChainEffect,
    ChainRun,
    ChainStep,
    ChainVersion,
    EmailOutboxMessage,
    WebhookCall,
)
from db.models.companies import Company
from db.models.contact_lists import ContactList, ContactListMember
from db.models.contacts import Contact, ContactLifecycleChange
from db.models.deals import (
    Deal,
    DealCloseDateChange,
    DealColumns,
    DealStageChange,
    DealStageNorm,
)
from db.models.guided_actions import GuidedAction, GuidedActionFeedback, GuidedActionItem
from db.models.insights import AiSettingsRow, DealScoreRow, InsightFeedback
from db.models.lead_config import DisqualificationReason, LeadSettingsRow, LeadType
from db.models.leads import Lead, LeadStageChange
from db.models.meetings import Call, Meeting, MeetingContact
from db.models.outbox import OutboxMessage
from db.models.pipelines import Pipeline, Stage
from db.models.sequences import SalesSequence, SequenceEnrollment
from db.models.tasks import Task
from db.models.users import User
from db.models.workspace import WorkspaceSettingsRow

__all__ = [
    "Activity",
    "AiSettingsRow",
    "AuditEntry",
    "Base",
    "Call",
    "ChainComment",
    "ChainEffect",
    "ChainRun",
    "ChainStep",
    "ChainVersion",
    "Company",
    "Contact",
    "ContactLifecycleChange",
    "ContactList",
    "ContactListMember",
    "Deal",
    "DealCloseDateChange",
    "DealColumns",
    "DealScoreRow",
    "DealStageChange",
    "DealStageNorm",
    "DisqualificationReason",
    "EmailOutboxMessage",
    "GuidedAction",
    "GuidedActionFeedback",
    "GuidedActionItem",
    "InsightFeedback",
    "Lead",
    "LeadSettingsRow",
    "LeadStageChange",
    "LeadType",
    "Meeting",
    "MeetingContact",
    "OutboxMessage",
    "Pipeline",
    "PipelineAutomation",
    "SalesSequence",
    "SequenceEnrollment",
    "Stage",
    "Task",
    "User",
    "WebhookCall",
    "WorkspaceSettingsRow",
]
