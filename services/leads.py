"""Lead use cases: create, read, move between stages, reassign."""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import SessionFactory
from db.errors import constraint_name
from db.models import Base, Company, Contact, Lead, LeadStageChange, OutboxMessage, User
from db.repositories import lead_config as config_repo
from db.repositories import leads as leads_repo
from db.repositories import pipelines as pipelines_repo
from db.repositories import records
from db.repositories.leads import LeadFilter
from domain.errors import Conflict, NotFound, invalid, key_reused
from domain.guided import ObjectKind
from domain.idempotency import fingerprint
from domain.leads import (
    CreationCause,
    DealDraft,
    LeadLabel,
    LeadSource,
    MoveCause,
    MoveStageRequest,
    workflow_id_for,
)
from domain.roles import RECORD_EDITORS
from domain.stages import PipelineObject, StageKind, is_closed
from services import guided_actions, lifecycle, outbox
from services.auth import require_role
from services.lead_settings import load_settings
from services.lead_transitions import check_move
from services.orchestrator import Orchestrator
from services.pagination import Page, PageRequest, to_page
from services.references import require_record

M = TypeVar("M", bound=Base)


@dataclass(frozen=True)
class NewLead:
    name: str | None = None
    contact_id: int | None = None
    company_id: int | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    owner_id: int | None = None
    lead_type: str | None = None
    label: LeadLabel | None = None
    source: LeadSource = LeadSource.MANUAL
    parent_lead_id: int | None = None


@dataclass(frozen=True)
class StageMove:
    stage_id: int
    disqualification_reason_id: int | None = None
    deal: DealDraft | None = None


LEAD_IDEMPOTENCY_KEY = "uq_leads_idempotency_key"


async def create_lead(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    actor: User | None,
    data: NewLead,
    *,
    idempotency_key: str | None = None,
) -> tuple[Lead, bool]:
    """Create a lead and start its workflow; returns (lead, created).

    With an idempotency key a retry (the same caller, key and body) returns the first lead
    (created=False) and starts no second workflow, even when the retries run at once. Keys
    are the caller's own: another caller's same key makes another lead. Raises
    IdempotencyKeyReused (the key came first with another body), InvalidInput naming the
    field for unknown references.
    """
    if actor is not None:
        require_role(actor, RECORD_EDITORS, "creating leads")
    key = scoped_key(actor, idempotency_key) if idempotency_key is not None else None
    request = fingerprint(asdict(data)) if key is not None else None
    try:
        async with session_factory() as session, session.begin():
            if key is not None:
                existing = await leads_repo.get_by_idempotency_key(session, key)
                if existing is not None:
                    return _replay(existing, request, idempotency_key), False
            lead = await insert_lead(
                session,
                data,
                actor_id=actor.id if actor else None,
                idempotency_key=key,
                request_fingerprint=request,
            )
            message = await enqueue_start(session, lead)
    except IntegrityError as err:
        if key is None or constraint_name(err) != LEAD_IDEMPOTENCY_KEY:
            raise
        # A concurrent request with this key committed first: this one is its retry.
        async with session_factory() as session:
            first = await leads_repo.get_by_idempotency_key(session, key)
        if first is None:  # the first one's lead was deleted since: nothing to replay
            raise
        return _replay(first, request, idempotency_key), False
    # The outbox row guarantees the start even if this fast path fails.
    await outbox.relay(session_factory, orchestrator, ids=[message.id])
    return lead, True


def scoped_key(actor: User | None, key: str) -> str:
    """A client's Idempotency-Key as stored: per caller, apart from automation's keys."""
    return f"user/{actor.id}/{key}" if actor is not None else f"system/{key}"


def _replay(lead: Lead, request: str | None, key: str | None) -> Lead:
    if lead.request_fingerprint is not None and lead.request_fingerprint != request:
        raise key_reused("Idempotency-Key", key or "")
    return lead


async def enqueue_start(session: AsyncSession, lead: Lead) -> OutboxMessage:
    """Owe the start of the lead's workflow, in the transaction that inserted the lead.

    Relay the returned message after the commit (`outbox.relay(..., ids=[message.id])`).
    """
    return await outbox.enqueue(
        session,
        outbox.START_LEAD,
        workflow_id_for(lead.id),
        {"lead_id": lead.id, "summary": f"Lead {lead.id}: {lead.name}"},
    )


async def insert_lead(
    session: AsyncSession,
    data: NewLead,
    *,
    actor_id: int | None,
    idempotency_key: str | None = None,
    request_fingerprint: str | None = None,
    cause: str = MoveCause.CREATED.value,
    event_id: str | None = None,
    caused_by: CreationCause | None = None,
) -> Lead:
    """Validate and insert a lead and its `created` history row in the caller's transaction.

    When automation creates the lead, `cause` names the rule and `caused_by` the event that
    made it fire (AUT-13); `event_id` an activity, if one did.

    Sets the lifecycle stage of the lead's contact and company when the settings say so (SET-6).
    Raises InvalidInput naming the field (unknown reference or lead type, closed stage).
    """
    if data.contact_id is None and data.company_id is None:
        raise invalid(
            "contact_id", "contact_or_company", "a lead needs a contact_id or a company_id"
        )
    contact = await require_record(session, Contact, data.contact_id, "contact_id")
    company = await require_record(session, Company, data.company_id, "company_id")
    await require_record(session, User, data.owner_id, "owner_id")
    await require_record(session, Lead, data.parent_lead_id, "parent_lead_id")
    await _require_lead_type(session, data.lead_type)
    if data.pipeline_id is None:
        pipeline = await pipelines_repo.get_default(session, PipelineObject.LEAD)
        if pipeline is None:
            raise Conflict("there is no default lead pipeline")
    else:
        pipeline = await pipelines_repo.get(session, data.pipeline_id)
        if pipeline is None or pipeline.object != PipelineObject.LEAD:
            raise invalid(
                "pipeline_id",
                "lead_pipeline",
                f"pipeline {data.pipeline_id} is not a lead pipeline",
            )
    if data.stage_id is None:
        stage = pipeline.stages[0]
    else:
        found = next((s for s in pipeline.stages if s.id == data.stage_id), None)
        if found is None:
            raise invalid(
                "stage_id",
                "stage_in_pipeline",
                f"stage {data.stage_id} is not in pipeline {pipeline.id}",
            )
        stage = found
    if is_closed(StageKind(stage.kind)):
        # Closing a lead has its own rules (deal, reason): create it open, then move it.
        raise invalid(
            "stage_id",
            "open_stage",
            f"a lead is created in an open stage; {stage.label} is {stage.kind}",
        )
    name = (data.name or "").strip() or _default_name(contact, company)
    lead = await leads_repo.add(
        session,
        Lead(
            name=name,
            contact_id=data.contact_id,
            company_id=data.company_id,
            pipeline_id=pipeline.id,
            stage_id=stage.id,
            owner_id=data.owner_id,
            lead_type=data.lead_type,
            label=data.label.value if data.label else None,
            source=data.source.value,
            parent_lead_id=data.parent_lead_id,
            idempotency_key=idempotency_key,
            request_fingerprint=request_fingerprint,
            created_by_id=actor_id,
        ),
    )
    await leads_repo.add_stage_change(
        session,
        LeadStageChange(
            lead_id=lead.id,
            from_stage_id=None,
            to_stage_id=stage.id,
            cause=cause,
            actor_id=actor_id,
            event_id=event_id,
            caused_by=caused_by.model_dump(mode="json") if caused_by is not None else None,
        ),
    )
    await lifecycle.apply_on_associate(session, await load_settings(session), contact, company)
    await guided_actions.enqueue_evaluation(session, [(ObjectKind.LEAD, lead.id)])
    return lead


async def _require_lead_type(session: AsyncSession, key: str | None) -> None:
    """Raises InvalidInput on `lead_type` unless `key` is None or a lead type in use."""
    if key is None:
        return
    lead_type = await config_repo.get_lead_type_by_key(session, key)
    if lead_type is None or lead_type.removed_at is not None:
        raise invalid("lead_type", "exists", f"lead type {key!r} does not exist")


def _default_name(contact: Contact | None, company: Company | None) -> str:
    if contact is not None and company is not None:
        return f"{contact.display_name} ({company.name})"
    if contact is not None:
        return contact.display_name
    assert company is not None
    return company.name


async def get_lead(session: AsyncSession, lead_id: int) -> Lead:
    lead = await leads_repo.get(session, lead_id)
    if lead is None:
        raise NotFound(f"lead {lead_id} does not exist")
    return lead


async def list_leads(session: AsyncSession, filters: LeadFilter, page: PageRequest) -> Page[Lead]:
    rows = await leads_repo.list_leads(
        session, filters, after_id=page.after_id, limit=page.limit + 1
    )
    return to_page(rows, page, lambda r: r.id)


async def lead_history(session: AsyncSession, lead_id: int) -> Sequence[LeadStageChange]:
    await get_lead(session, lead_id)
    return await leads_repo.history(session, lead_id)


async def move_stage(
    session: AsyncSession, orchestrator: Orchestrator, actor: User, lead_id: int, move: StageMove
) -> Lead:
    """Move a lead by hand through its workflow and return it as it is after the move.

    Raises NotFound, InvalidInput/InvalidTransition (the move the settings forbid, naming the
    missing piece), Conflict (already in that stage).
    """
    require_role(actor, RECORD_EDITORS, "moving leads")
    lead = await get_lead(session, lead_id)
    # Answer plain mistakes without a workflow round trip; the activity checks again.
    await check_move(
        session,
        lead,
        move.stage_id,
        deal=move.deal,
        disqualification_reason_id=move.disqualification_reason_id,
    )
    await session.rollback()
    await orchestrator.move_stage(
        lead_id,
        MoveStageRequest(
            stage_id=move.stage_id,
            actor_id=actor.id,
            disqualification_reason_id=move.disqualification_reason_id,
            deal=move.deal,
        ),
    )
    await session.refresh(lead)
    return lead


LEAD_FIELDS = frozenset({"name", "label", "lead_type", "contact_id", "company_id"})
# What the lead workflow keeps of these and shows (LeadType is a search attribute).
CACHED_BY_WORKFLOW = frozenset({"name", "lead_type"})


async def update_lead(
    session_factory: SessionFactory,
    orchestrator: Orchestrator,
    actor: User,
    lead_id: int,
    values: Mapping[str, Any],
) -> Lead:
    """Change the fields given: name, label, lead_type, contact_id, company_id.

    A contact or company newly associated with the lead takes the lifecycle stage the lead
    settings set, as at creation (SET-6). A running workflow reloads the lead when its name or
    type changed, through the outbox, so the change reaches it even if the fast path fails.

    Raises Forbidden, NotFound, InvalidInput naming the field (unknown contact, company or lead
    type; a lead left with neither contact nor company).
    """
    require_role(actor, RECORD_EDITORS, "editing leads")
    unknown = set(values) - LEAD_FIELDS
    assert not unknown, f"not lead fields: {unknown}"
    async with session_factory() as session:
        async with session.begin():
            lead = await leads_repo.get(session, lead_id, for_update=True)
            if lead is None:
                raise NotFound(f"lead {lead_id} does not exist")
            contact = company = None
            if values.get("contact_id") not in (None, lead.contact_id):
                contact = await require_record(session, Contact, values["contact_id"], "contact_id")
            if values.get("company_id") not in (None, lead.company_id):
                company = await require_record(session, Company, values["company_id"], "company_id")
            if "lead_type" in values:
                await _require_lead_type(session, values["lead_type"])
            before = {name: getattr(lead, name) for name in CACHED_BY_WORKFLOW}
            # GA-12 and GA-18 read a contact's leads: the one it leaves is told too.
            await guided_actions.enqueue_evaluation(
                session, [(ObjectKind.LEAD, lead.id), (ObjectKind.CONTACT, lead.contact_id)]
            )
            for name, value in values.items():
                setattr(lead, name, LeadLabel(value).value if name == "label" and value else value)
            if lead.contact_id is None and lead.company_id is None:
                raise invalid(
                    "contact_id" if "contact_id" in values else "company_id",
                    "contact_or_company",
                    "a lead needs a contact_id or a company_id",
                )
            await lifecycle.apply_on_associate(
                session, await load_settings(session), contact, company
            )
            message = None
            if any(getattr(lead, name) != before[name] for name in CACHED_BY_WORKFLOW):
                message = await outbox.enqueue(
                    session,
                    outbox.REFRESH_LEAD,
                    workflow_id_for(lead.id),
                    {"lead_id": lead.id},
                )
        if message is not None:
            await outbox.relay(session_factory, orchestrator, ids=[message.id])
    return lead


async def change_owner(
    session: AsyncSession,
    orchestrator: Orchestrator,
    actor: User,
    lead_id: int,
    owner_id: int | None,
) -> Lead:
    require_role(actor, RECORD_EDITORS, "reassigning leads")
    async with session.begin():
        lead = await leads_repo.get(session, lead_id, for_update=True)
        if lead is None:
            raise NotFound(f"lead {lead_id} does not exist")
        if owner_id is not None and await records.get(session, User, owner_id) is None:
            raise invalid("owner_id", "exists", f"user {owner_id} does not exist")
        lead.owner_id = owner_id
        await guided_actions.enqueue_evaluation(session, [(ObjectKind.LEAD, lead.id)])
    await orchestrator.refresh_lead(lead_id)
    return lead
