from domain.roles import (
    Role,
    Seat,
    has_workspace,
    may_create_role,
    may_view_workspace_of_others,
    user_change_refusal,
)


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


class TestChangingUsers:
    def test_an_admin_changes_reps_and_admins(self) -> None:
        assert user_change_refusal(Role.ADMIN, Role.SALES_USER, Role.ADMIN) is None
        assert user_change_refusal(Role.ADMIN, Role.ADMIN, None) is None

    def test_only_a_super_admin_grants_super_admin(self) -> None:
        assert user_change_refusal(Role.ADMIN, Role.SALES_USER, Role.SUPER_ADMIN) is not None
        assert user_change_refusal(Role.SUPER_ADMIN, Role.SALES_USER, Role.SUPER_ADMIN) is None

    def test_only_a_super_admin_changes_a_super_admin(self) -> None:
        assert user_change_refusal(Role.ADMIN, Role.SUPER_ADMIN, None) is not None
        assert user_change_refusal(Role.ADMIN, Role.SUPER_ADMIN, Role.SALES_USER) is not None
        assert user_change_refusal(Role.SUPER_ADMIN, Role.SUPER_ADMIN, Role.ADMIN) is None
