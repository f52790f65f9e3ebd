"""The facts guided-action rules read, computed from the stored records: one query per record
(domain/guided/snapshots.py documents each field), plus a few rows for the facts a rule reads
from an activity's details (domain/guided/facts.py)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.guided import (
    CallSnapshot,
    ContactSnapshot,
    DealSnapshot,
    LeadSnapshot,
    MeetingSnapshot,
    TaskSnapshot,
)
from domain.guided.facts import DEAL_ENGAGEMENT_TYPES, email_domain, is_reply_to_user

# An inbound activity (facts.is_inbound) in SQL: a reply, an open, or a meeting the contact
# booked. `a` is the activities row.
INBOUND_SQL = (
    "(a.type IN ('email_reply', 'email_open')"
    " OR (a.type = 'meeting' AND a.details -> 'meeting' -> 'booked_by_contact' = 'true'::jsonb))"
)
# Replies read in Python for "to the owner as primary recipient": the newest few suffice, as
# only the newest matching one counts.
REPLIES_READ = 50


def _first_stage_sql(alias: str) -> str:
    return (
        f"{alias}_s.position = (SELECT min(s2.position) FROM stages s2"
        f" WHERE s2.pipeline_id = {alias}.pipeline_id AND s2.removed_at IS NULL)"
    )


async def _one(session: AsyncSession, sql: str, **params: Any) -> RowMapping | None:
    return (await session.execute(text(sql), params)).mappings().first()


async def _last_reply_to(
    session: AsyncSession,
    column: str,
    record_id: int,
    owner_id: int | None,
    owner_email: str | None,
) -> datetime | None:
    """The newest `email_reply` on the record to its owner as primary recipient."""
    if owner_id is None or owner_email is None:
        return None
    rows = await session.execute(
        text(
            "SELECT a.occurred_at, a.details FROM activities a"
            f" WHERE a.{column} = :id AND a.type = 'email_reply' AND a.user_id = :owner"
            " ORDER BY a.occurred_at DESC, a.id DESC LIMIT :n"
        ),
        {"id": record_id, "owner": owner_id, "n": REPLIES_READ},
    )
    for occurred_at, details in rows.tuples():
        if is_reply_to_user("email_reply", owner_id, details or {}, owner_id, owner_email):
            return occurred_at  # type: ignore[no-any-return]  # a timestamptz column
    return None


async def contact(session: AsyncSession, contact_id: int) -> ContactSnapshot | None:
    row = await _one(
        session,
        f"""
        SELECT c.id, c.owner_id, c.lifecycle_stage, c.email, u.email AS owner_email,
          EXISTS (SELECT 1 FROM deals d WHERE d.contact_id = c.id) AS has_deal,
          EXISTS (SELECT 1 FROM leads l JOIN stages s ON s.id = l.stage_id
                  WHERE l.contact_id = c.id AND s.kind = 'open') AS has_open_lead,
          (SELECT CASE WHEN s.kind = 'disqualified' THEN
                    (SELECT max(h.at) FROM lead_stage_history h
                     WHERE h.lead_id = l.id AND h.to_stage_id = l.stage_id) END
             FROM leads l JOIN stages s ON s.id = l.stage_id
            WHERE l.contact_id = c.id ORDER BY l.created_at DESC, l.id DESC LIMIT 1)
            AS latest_lead_disqualified_at,
          coalesce(co.is_target_account, false) AS is_target_account,
          (SELECT max(a.occurred_at) FROM activities a
            WHERE a.contact_id = c.id AND a.type = 'email_sent') AS last_email_sent_at,
          (SELECT max(a.occurred_at) FROM activities a
            WHERE a.contact_id = c.id AND a.type = 'email_sent' AND a.user_id = c.owner_id)
            AS last_owner_email_sent_at,
          r.occurred_at AS last_reply_at, r.user_id AS last_reply_user_id,
          (SELECT max(a.occurred_at) FROM activities a
            WHERE a.contact_id = c.id AND a.type = 'email_sent' AND a.user_id = r.user_id)
            AS reply_user_last_email_sent_at,
          (SELECT max(a.occurred_at) FROM activities a
            WHERE a.contact_id = c.id AND {INBOUND_SQL}) AS last_engaged_at,
          (SELECT coalesce(array_agg(DISTINCT d.owner_id), '{{}}') FROM deals d
             JOIN stages s ON s.id = d.stage_id
            WHERE d.contact_id = c.id AND s.kind = 'open' AND d.owner_id IS NOT NULL)
            AS open_deal_owner_ids
        FROM contacts c
        LEFT JOIN users u ON u.id = c.owner_id
        LEFT JOIN companies co ON co.id = c.company_id
        LEFT JOIN LATERAL (
          SELECT a.occurred_at, a.user_id FROM activities a
           WHERE a.contact_id = c.id AND a.type = 'email_reply'
           ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1) r ON true
        WHERE c.id = :id
        """,
        id=contact_id,
    )
    if row is None:
        return None
    return ContactSnapshot(
        contact_id=row["id"],
        owner_id=row["owner_id"],
        lifecycle_stage=row["lifecycle_stage"],
        email_domain=email_domain(row["email"]),
        owner_email_domain=email_domain(row["owner_email"]),
        has_deal=row["has_deal"],
        has_open_lead=row["has_open_lead"],
        latest_lead_disqualified_at=row["latest_lead_disqualified_at"],
        is_target_account=row["is_target_account"],
        last_email_sent_at=row["last_email_sent_at"],
        last_owner_email_sent_at=row["last_owner_email_sent_at"],
        last_reply_at=row["last_reply_at"],
        last_reply_to_owner_at=await _last_reply_to(
            session, "contact_id", contact_id, row["owner_id"], row["owner_email"]
        ),
        last_engaged_at=row["last_engaged_at"],
        last_reply_user_id=row["last_reply_user_id"],
        reply_user_last_email_sent_at=row["reply_user_last_email_sent_at"],
        open_deal_owner_ids=frozenset(row["open_deal_owner_ids"]),
    )


async def lead(session: AsyncSession, lead_id: int) -> LeadSnapshot | None:
    row = await _one(
        session,
        f"""
        SELECT l.id, l.owner_id, l_s.kind AS stage_kind, {_first_stage_sql("l")} AS is_first,
          ct.email, u.email AS owner_email,
          (SELECT max(a.occurred_at) FROM activities a
            WHERE a.lead_id = l.id AND a.user_id = l.owner_id AND NOT {INBOUND_SQL})
            AS last_owner_activity_at,
          (SELECT max(a.occurred_at) FROM activities a
            WHERE a.lead_id = l.id AND a.user_id = l.owner_id AND a.type = 'email_sent')
            AS last_owner_email_sent_at,
          (SELECT max(a.occurred_at) FROM activities a
            WHERE a.lead_id = l.id AND {INBOUND_SQL}) AS last_engaged_at
        FROM leads l
        JOIN stages l_s ON l_s.id = l.stage_id
        LEFT JOIN contacts ct ON ct.id = l.contact_id
        LEFT JOIN users u ON u.id = l.owner_id
        WHERE l.id = :id
        """,
        id=lead_id,
    )
    if row is None:
        return None
    return LeadSnapshot(
        lead_id=row["id"],
        owner_id=row["owner_id"],
        stage_kind=row["stage_kind"],
        is_first_stage=row["is_first"],
        email_domain=email_domain(row["email"]),
        owner_email_domain=email_domain(row["owner_email"]),
        last_owner_activity_at=row["last_owner_activity_at"],
        last_owner_email_sent_at=row["last_owner_email_sent_at"],
        last_reply_to_owner_at=await _last_reply_to(
            session, "lead_id", lead_id, row["owner_id"], row["owner_email"]
        ),
        last_engaged_at=row["last_engaged_at"],
    )


async def meeting(session: AsyncSession, meeting_id: int) -> MeetingSnapshot | None:
    row = await _one(
        session,
        """
        SELECT m.id, m.owner_id, m.start_at, m.end_at, m.kind, m.outcome,
          f.total AS follow_up_tasks, f.open AS open_follow_up_tasks
        FROM meetings m
        LEFT JOIN LATERAL (
          SELECT count(*) AS total, count(*) FILTER (WHERE t.status = 'open') AS open
            FROM tasks t
           WHERE t.owner_id = m.owner_id AND t.created_at >= m.start_at
             AND (t.deal_id = m.deal_id OR t.lead_id = m.lead_id
                  OR t.contact_id IN (SELECT mc.contact_id FROM meeting_contacts mc
                                       WHERE mc.meeting_id = m.id))) f ON true
        WHERE m.id = :id
        """,
        id=meeting_id,
    )
    if row is None:
        return None
    return MeetingSnapshot(
        meeting_id=row["id"],
        owner_id=row["owner_id"],
        start_at=row["start_at"],
        end_at=row["end_at"],
        kind=row["kind"],
        outcome=row["outcome"],
        follow_up_tasks=row["follow_up_tasks"] or 0,
        open_follow_up_tasks=row["open_follow_up_tasks"] or 0,
    )


async def call(session: AsyncSession, call_id: int) -> CallSnapshot | None:
    row = await _one(
        session,
        "SELECT id, owner_id, started_at, status, outcome, via_platform FROM calls WHERE id = :id",
        id=call_id,
    )
    if row is None:
        return None
    return CallSnapshot(
        call_id=row["id"],
        owner_id=row["owner_id"],
        started_at=row["started_at"],
        status=row["status"] or None,
        outcome=row["outcome"] or None,
        via_platform=row["via_platform"],
    )


async def task(session: AsyncSession, task_id: int) -> TaskSnapshot | None:
    row = await _one(
        session,
        """
        SELECT t.id, t.owner_id, t.status, t.completed_at, t.priority, t.due_at, t.sequence_id,
          coalesce(u.time_zone, 'UTC') AS time_zone
        FROM tasks t LEFT JOIN users u ON u.id = t.owner_id
        WHERE t.id = :id
        """,
        id=task_id,
    )
    if row is None:
        return None
    return TaskSnapshot(
        task_id=row["id"],
        owner_id=row["owner_id"],
        status=row["status"],
        completed_at=row["completed_at"],
        priority=row["priority"],
        due_at=row["due_at"],
        sequence_id=row["sequence_id"],
        owner_time_zone=row["time_zone"],
    )


async def deal(session: AsyncSession, deal_id: int) -> DealSnapshot | None:
    row = await _one(
        session,
        f"""
        SELECT d.id, d.owner_id, d.created_at, d_s.kind AS stage_kind, d.stage_entered_at,
          {_first_stage_sql("d")} AS is_first, d.contact_id, d.next_steps_changed_at,
          (SELECT max(CASE WHEN a.type = 'meeting' AND m.id IS NOT NULL THEN m.end_at
                           ELSE a.occurred_at END)
             FROM activities a LEFT JOIN meetings m ON m.id = a.meeting_id
            WHERE a.deal_id = d.id AND a.type = ANY(:engagement_types))
            AS last_engagement_end_at,
          (SELECT max(a.occurred_at) FROM activities a
            WHERE a.contact_id = d.contact_id AND a.type = 'email_open') AS contact_last_open_at,
          (SELECT max(a.occurred_at) FROM activities a
            WHERE a.contact_id = d.contact_id AND a.type = 'email_reply')
            AS contact_last_reply_at
        FROM deals d JOIN stages d_s ON d_s.id = d.stage_id
        WHERE d.id = :id
        """,
        id=deal_id,
        engagement_types=sorted(DEAL_ENGAGEMENT_TYPES),
    )
    if row is None:
        return None
    return DealSnapshot(
        deal_id=row["id"],
        owner_id=row["owner_id"],
        created_at=row["created_at"],
        stage_kind=row["stage_kind"],
        stage_entered_at=row["stage_entered_at"],
        is_first_stage=row["is_first"],
        contact_id=row["contact_id"],
        last_engagement_end_at=row["last_engagement_end_at"],
        next_steps_changed_at=row["next_steps_changed_at"],
        contact_last_open_at=row["contact_last_open_at"],
        contact_last_reply_at=row["contact_last_reply_at"],
    )


async def open_deal_ids_of_contact(session: AsyncSession, contact_id: int) -> Sequence[int]:
    """The deals naming the contact that are in an open stage: their rules read its emails."""
    rows = await session.scalars(
        text(
            "SELECT d.id FROM deals d JOIN stages s ON s.id = d.stage_id"
            " WHERE d.contact_id = :id AND s.kind = 'open'"
        ),
        {"id": contact_id},
    )
    return rows.all()


async def contact_of(session: AsyncSession, kind: str, object_id: int) -> int | None:
    """The contact a lead or a deal names."""
    table = {"lead": "leads", "deal": "deals"}[kind]
    found = await session.scalar(
        text(f"SELECT contact_id FROM {table} WHERE id = :id"), {"id": object_id}
    )
    return found if isinstance(found, int) else None


async def meetings_followed_up(session: AsyncSession, task_id: int) -> Sequence[int]:
    """The meetings of the task's owner that it may follow up (MeetingSnapshot's
    follow_up_tasks): started at or before the task's creation, ended within the last 7 days,
    sharing its contact, deal or lead."""
    rows = await session.scalars(
        text(
            """
            SELECT m.id FROM tasks t JOIN meetings m ON m.owner_id = t.owner_id
             WHERE t.id = :id AND m.start_at <= t.created_at
               AND m.end_at > now() - interval '7 days'
               AND (m.deal_id = t.deal_id OR m.lead_id = t.lead_id
                    OR EXISTS (SELECT 1 FROM meeting_contacts mc
                                WHERE mc.meeting_id = m.id AND mc.contact_id = t.contact_id))
            """
        ),
        {"id": task_id},
    )
    return rows.all()
