"""Who a caller is and what each role may do."""

from enum import StrEnum


class Role(StrEnum):
    SUPER_ADMIN = "super_admin"
    ADMIN = "admin"
    SALES_USER = "sales_user"
    SERVICE = "service"


class Visibility(StrEnum):
    """PERM-7: the CRM records of a kind a user sees: all, or the ones they own (activities:
    the ones they logged)."""

    ALL = "all"
    OWNED = "owned"


class Seat(StrEnum):
    """A user's sales seat; `None` on the user is no seat."""

    CURRENT = "current"
    LEGACY = "legacy"


ADMINS = frozenset({Role.SUPER_ADMIN, Role.ADMIN})
# Roles that work records (create leads, move stages); services post activities and read.
RECORD_EDITORS = frozenset({Role.SUPER_ADMIN, Role.ADMIN, Role.SALES_USER})
# Roles that may have a sales workspace (tasks, guided actions, deals tab), given a seat.
WORKSPACE_ROLES = RECORD_EDITORS
EVERYONE = frozenset(Role)


def may_create_role(creator: Role, new_role: Role) -> bool:
    """Admins create users; only a super admin creates another super admin."""
    if creator == Role.SUPER_ADMIN:
        return True
    return creator == Role.ADMIN and new_role != Role.SUPER_ADMIN


def has_workspace(role: Role, seat: Seat | None) -> bool:
    """PERM-3: one's own workspace needs a workspace role and a current seat; a legacy seat or
    none is refused."""
    return role in WORKSPACE_ROLES and seat == Seat.CURRENT


def may_view_workspace_of_others(role: Role) -> bool:
    """PERM-4: only a super admin sees another user's workspace, with or without a seat."""
    return role == Role.SUPER_ADMIN


def user_change_refusal(actor: Role, target: Role, new_role: Role | None) -> str | None:
    """Why an admin `actor` may not change a user whose role is `target` (to `new_role`, if
    the change names one); None when allowed.

    Only a super admin grants super_admin, and only a super admin changes a super admin (an
    admin could otherwise demote or deactivate the account's owners).
    """
    if actor == Role.SUPER_ADMIN:
        return None
    if target == Role.SUPER_ADMIN:
        return "only a super_admin may change a super_admin"
    if new_role == Role.SUPER_ADMIN:
        return "only a super_admin may grant super_admin"
    return None
