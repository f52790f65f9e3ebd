from domain.roles import Role, Seat, has_workspace, may_create_role, may_view_workspace_of_others


def test_only_a_super_admin_creates_super_admins() -> None:
    assert may_create_role(Role.SUPER_ADMIN, Role.SUPER_ADMIN)
    assert not may_create_role(Role.ADMIN, Role.SUPER_ADMIN)
    assert may_create_role(Role.ADMIN, Role.SALES_USER)


def test_sales_users_and_services_create_no_users() -> None:
    assert not may_create_role(Role.SALES_USER, Role.SALES_USER)
    assert not may_create_role(Role.SERVICE, Role.SERVICE)


class TestWorkspace:
    def test_a_current_seat_opens_the_workspace_perm_3(self) -> None:
        assert has_workspace(Role.SALES_USER, Seat.CURRENT)
        assert has_workspace(Role.ADMIN, Seat.CURRENT)

    def test_a_legacy_seat_or_none_is_refused_perm_3(self) -> None:
        assert not has_workspace(Role.SALES_USER, Seat.LEGACY)
        assert not has_workspace(Role.SALES_USER, None)
        assert not has_workspace(Role.SUPER_ADMIN, None)

    def test_a_service_has_no_workspace_even_with_a_seat(self) -> None:
        assert not has_workspace(Role.SERVICE, Seat.CURRENT)

    def test_only_a_super_admin_views_another_users_workspace_perm_4(self) -> None:
        assert may_view_workspace_of_others(Role.SUPER_ADMIN)
        assert not any(
            may_view_workspace_of_others(r) for r in (Role.ADMIN, Role.SALES_USER, Role.SERVICE)
        )
