"""Who a caller is and what each role may do."""

from enum import StrEnum


class Role(StrEnum):
    SUPER_ADMIN = "super_admin"
    ADMIN = "admin"
    SALES_USER = "sales_user"
    SERVICE = "service"


ADMINS = frozenset({Role.SUPER_ADMIN, Role.ADMIN})
# Roles that work records (create leads, move stages); services post activities and read.
RECORD_EDITORS = frozenset({Role.SUPER_ADMIN, Role.ADMIN, Role.SALES_USER})
EVERYONE = frozenset(Role)


def may_create_role(creator: Role, new_role: Role) -> bool:
    """Admins create users; only a super admin creates another super admin."""
    if creator == Role.SUPER_ADMIN:
        return True
    return creator == Role.ADMIN and new_role != Role.SUPER_ADMIN
