"""SQLAlchemy models. They stay inside: API schemas and workflow messages are separate types."""

from db.models.activities import Activity
from db.models.base import Base
from db.models.companies import Company
from db.models.contacts import Contact
from db.models.deals import Deal
from db.models.leads import Lead, LeadStageChange
from db.models.outbox import OutboxMessage
from db.models.pipelines import Pipeline, Stage
from db.models.tasks import Task
from db.models.users import User

__all__ = [
    "Activity",
    "Base",
    "Company",
    "Contact",
    "Deal",
    "Lead",
    "LeadStageChange",
    "OutboxMessage",
    "Pipeline",
    "Stage",
    "Task",
    "User",
]
