from domain.roles import Role, may_create_role


def test_only_a_super_admin_creates_super_admins() -> None:
    assert may_create_role(Role.SUPER_ADMIN, Role.SUPER_ADMIN)
    assert not may_create_role(Role.ADMIN, Role.SUPER_ADMIN)
    assert may_create_role(Role.ADMIN, Role.SALES_USER)


def test_sales_users_and_services_create_no_users() -> None:
    assert not may_create_role(Role.SALES_USER, Role.SALES_USER)
    assert not may_create_role(Role.SERVICE, Role.SERVICE)
