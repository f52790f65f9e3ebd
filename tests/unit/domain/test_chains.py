from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.addresses import AllowList
from domain.chains import (
    MAX_ACTIONS,
    MAX_DEPTH,
    Action,
    BranchAction,
    ChainContext,
    Comment,
    Condition,
    DelayConfig,
    DeleteMode,
    action_ids,
    assign_ids,
    delete_action,
    dump_actions,
    find_action,
    insert_action,
    mask_url,
    mask_urls_in,
    next_time_of_day,
    parse_actions,
    patch_action,
    plan_steps,
    redact_secrets,
    render_template,
    resolve_delay,
    validate_chain,
    webhook_target_errors,
    with_comments,
)
from domain.errors import InvalidInput, NotFound

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday


def ids(prefix: str = "a_000000") -> Callable[[], str]:
    counter: Iterator[int] = iter(range(10, 100))
    return lambda: f"{prefix}{next(counter)}"


def task(title: str = "Call", **config: Any) -> dict[str, Any]:
    return {"type": "create_task", "config": {"title": title, **config}}


def delay(duration: str = "P1D") -> dict[str, Any]:
    return {"type": "delay", "config": {"duration": duration}}


def branch(
    prop: str = "lead.label",
    op: str = "eq",
    value: Any = "hot",
    then: list[Any] | None = None,
    else_: list[Any] | None = None,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "if": {"property": prop, "op": op, "value": value},
        "then": then or [],
    }
    if else_ is not None:
        config["else"] = else_
    return {"type": "branch", "config": config}


def chain(*raw: dict[str, Any]) -> list[Action]:
    return parse_actions(assign_ids(list(raw), ids()))


def rules(raw: list[Any]) -> set[tuple[str, str]]:
    return {(e.field, e.rule) for e in validate_chain(assign_ids(raw, ids()))}


CONTEXT = ChainContext(
    lead={"id": 7, "name": "Acme deal", "label": "hot", "owner_id": 3, "stage_id": 11},
    contact={"first_name": "Jo", "email": "jo@example.com", "lifecycle_stage": "lead"},
    company={"name": "Acme", "is_target_account": True, "created_at": "2025-01-01T00:00:00+00:00"},
    owner={"id": 3, "name": "Sam", "email": "sam@example.com"},
)


class TestValidation:
    def test_a_valid_chain_has_no_errors_and_keeps_durations_as_iso_8601(self) -> None:
        actions = chain(task(due_in="P1D", priority="high"), branch(then=[delay("PT2H")]))
        dumped = dump_actions(actions)
        assert dumped[0]["config"]["due_in"] == "P1D"
        assert dumped[1]["config"]["then"][0]["config"] == {
            "duration": "PT2H",
            "weekdays_only": False,
            "time_zone": "UTC",
        }
        assert parse_actions(dumped) == actions

    def test_an_unknown_type_points_at_the_action_type(self) -> None:
        assert rules([task(), {"type": "fax", "config": {}}]) == {
            ("actions.1.type", "unknown_type")
        }

    def test_a_bad_duration_inside_a_branch_names_its_path(self) -> None:
        found = rules([task(), branch(then=[delay("soon")])])
        assert found == {("actions.1.config.then.0.config.duration", "time_delta_parsing")}

    def test_a_non_positive_duration_is_refused(self) -> None:
        assert rules([delay("-P1D")]) == {("actions.0.config.duration", "positive_duration")}
        assert rules([delay("PT0S")]) == {("actions.0.config.duration", "positive_duration")}

    def test_a_branch_on_an_unknown_property_is_refused(self) -> None:
        assert rules([branch(prop="lead.colour")]) == {
            ("actions.0.config.if.property", "unknown_property")
        }

    def test_an_unknown_placeholder_points_at_the_field(self) -> None:
        found = rules(
            [task(), task(), {"type": "send_email", "config": {"subject": "Hi", "body": "{{x.y}}"}}]
        )
        assert found == {("actions.2.config.body", "unknown_placeholder")}

    def test_nesting_deeper_than_the_limit_is_too_deep(self) -> None:
        inner: dict[str, Any] = task()
        for _ in range(MAX_DEPTH):
            inner = branch(then=[inner])
        path = "actions.0" + ".config.then.0" * MAX_DEPTH
        assert rules([inner]) == {(path, "too_deep")}
        assert rules([branch(then=[branch(then=[task()])])]) == set()

    def test_duplicate_ids_are_refused(self) -> None:
        found = rules([{**task(), "id": "a_00000001"}, {**task(), "id": "a_00000001"}])
        assert found == {("actions.1.id", "duplicate_id")}

    def test_delay_needs_exactly_one_kind_and_a_known_time_zone(self) -> None:
        both = {"type": "delay", "config": {"duration": "P1D", "until": "2026-01-01T00:00:00Z"}}
        assert rules([both]) == {("actions.0.config", "delay_kind")}
        zone = {"type": "delay", "config": {"time_of_day": "09:00", "time_zone": "Mars/Base"}}
        assert rules([zone]) == {("actions.0.config.time_zone", "time_zone")}
        event = {"type": "delay", "config": {"until_event": "email_reply"}}
        assert rules([event]) == {("actions.0.config", "timeout_required")}
        naive = {"type": "delay", "config": {"until": "2026-01-01T00:00:00"}}
        assert rules([naive]) == {("actions.0.config.until", "timezone_aware")}

    def test_condition_values_must_fit_the_property_and_operator(self) -> None:
        assert rules([branch(value="lukewarm")]) == {("actions.0.config.if", "value_choice")}
        assert rules([branch(op="in", value="hot")]) == {("actions.0.config.if", "value_type")}
        gt_bool = branch(prop="company.is_target_account", op="gt", value=1)
        assert rules([gt_bool]) == {("actions.0.config.if", "op_not_supported")}

    def test_set_property_only_changes_writable_properties(self) -> None:
        owner = {"type": "set_property", "config": {"property": "lead.owner_id", "value": 1}}
        assert rules([owner]) == {("actions.0.config.property", "read_only_property")}
        label = {"type": "set_property", "config": {"property": "lead.label", "value": "cold"}}
        assert rules([label]) == set()

    def test_unknown_config_keys_are_refused(self) -> None:
        assert rules([task(colour="red")]) == {("actions.0.config.colour", "extra_forbidden")}

    def test_parse_raises_invalid_input_listing_every_error(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            parse_actions(assign_ids([delay("x"), branch(prop="nope")], ids()))
        assert [e.field for e in caught.value.errors] == [
            "actions.0.config.duration",
            "actions.1.config.if.property",
        ]


class TestBounds:
    """What a stored chain may hold, so neither a dry run nor a running chain overflows."""

    @pytest.mark.parametrize(
        ("action", "field"),
        [
            (delay("P366D"), "duration"),
            (
                {"type": "delay", "config": {"until_event": "email_reply", "timeout": "P2Y"}},
                "timeout",
            ),
            (task(due_in="P999999999D"), "due_in"),
            ({"type": "create_deal", "config": {"close_in": "P1826D"}}, "close_in"),
        ],
    )
    def test_durations_beyond_their_bound_are_refused(
        self, action: dict[str, Any], field: str
    ) -> None:
        assert rules([action]) == {(f"actions.0.config.{field}", "duration_range")}

    def test_the_longest_chain_of_the_longest_delays_plans_without_overflow(self) -> None:
        until = {"type": "delay", "config": {"until": "2999-12-31T23:59:59Z"}}
        raw = [until, *[delay("P365D")] * (MAX_ACTIONS - 2), task(due_in="P365D")]
        actions = parse_actions(assign_ids(raw))
        steps = plan_steps(actions, CONTEXT, NOW)
        assert steps[-1].details["due_at"] is not None

    def test_ids_in_a_config_stay_within_the_column(self) -> None:
        assert rules([task(assignee_id=2**40)]) == {
            ("actions.0.config.assignee_id", "less_than_equal")
        }
        owner = {"type": "assign_owner", "config": {"user_id": 0}}
        assert rules([owner]) == {("actions.0.config.user_id", "greater_than_equal")}

    def test_an_email_subject_is_one_line_and_text_has_no_nul(self) -> None:
        email = {"type": "send_email", "config": {"subject": "Hi\r\nBcc: x", "body": "a\x00"}}
        assert rules([email]) == {
            ("actions.0.config.subject", "single_line"),
            ("actions.0.config.body", "no_nul"),
        }

    def test_set_property_values_fit_their_column(self) -> None:
        def set_name(value: str) -> dict[str, Any]:
            return {"type": "set_property", "config": {"property": "lead.name", "value": value}}

        assert rules([set_name("x" * 201)]) == {("actions.0.config", "value_length")}
        assert rules([set_name("Acme\nBcc")]) == {("actions.0.config", "single_line")}
        assert rules([set_name("Acme Oy")]) == set()


class TestIds:
    def test_missing_ids_are_assigned_and_given_ids_kept(self) -> None:
        raw = assign_ids([{**task(), "id": "a_abcdef01"}, branch(then=[task()])])
        assert raw[0]["id"] == "a_abcdef01"
        assert raw[1]["id"].startswith("a_") and len(raw[1]["id"]) == 10
        assert raw[1]["config"]["then"][0]["id"] not in (raw[0]["id"], raw[1]["id"])

    def test_comments_in_input_are_dropped(self) -> None:
        raw = assign_ids([{**task(), "comments": [{"text": "x"}]}], ids())
        assert "comments" not in raw[0]


class TestInsert:
    def test_insert_at_the_end_by_default_act_3(self) -> None:
        actions = chain(task("a"), task("b"))
        result, new_id = insert_action(actions, task("c"), make_id=ids("a_111111"))
        assert [a.id for a in result][-1] == new_id == "a_11111110"
        assert [a.id for a in result][:2] == [a.id for a in actions]

    def test_insert_at_a_position(self) -> None:
        actions = chain(task("a"), task("b"))
        result, new_id = insert_action(actions, delay(), position=1, make_id=ids("a_111111"))
        assert [a.type for a in result] == ["create_task", "delay", "create_task"]
        assert result[1].id == new_id

    def test_insert_inside_a_branch_else_path(self) -> None:
        actions = chain(branch(then=[task()]))
        result, new_id = insert_action(
            actions, delay(), parent_id=actions[0].id, branch="else", make_id=ids("a_111111")
        )
        top = result[0]
        assert isinstance(top, BranchAction) and top.config.else_ is not None
        assert [a.id for a in top.config.else_] == [new_id]

    def test_an_invalid_action_is_reported_at_its_real_path(self) -> None:
        actions = chain(task(), branch(then=[task()]))
        with pytest.raises(InvalidInput) as caught:
            insert_action(actions, delay("nope"), position=0, parent_id=actions[1].id)
        assert caught.value.errors[0].field == "actions.1.config.then.0.config.duration"

    def test_position_out_of_range_and_bad_parents_are_refused(self) -> None:
        actions = chain(task())
        with pytest.raises(InvalidInput):
            insert_action(actions, task(), position=5)
        with pytest.raises(InvalidInput):
            insert_action(actions, task(), parent_id=actions[0].id)
        with pytest.raises(NotFound):
            insert_action(actions, task(), parent_id="a_ffffffff")


class TestPatch:
    def test_patch_merges_config_keys_and_keeps_the_id_act_4(self) -> None:
        actions = chain(task("a", priority="low"))
        result = patch_action(actions, actions[0].id, {"title": "b", "due_in": "PT1H"})
        dumped = dump_actions(result)[0]
        assert dumped["id"] == actions[0].id
        assert dumped["config"]["title"] == "b" and dumped["config"]["priority"] == "low"
        assert dumped["config"]["due_in"] == "PT1H"

    def test_patch_with_null_removes_a_key(self) -> None:
        actions = chain(task("a", priority="low"))
        result = patch_action(actions, actions[0].id, {"priority": None})
        assert dump_actions(result)[0]["config"]["priority"] == "none"

    def test_a_bad_patch_is_refused_with_its_path(self) -> None:
        actions = chain(branch(then=[task()]))
        inner = actions[0].config.then[0].id  # type: ignore[union-attr]
        with pytest.raises(InvalidInput) as caught:
            patch_action(actions, inner, {"due_in": "later"})
        assert caught.value.errors[0].field == "actions.0.config.then.0.config.due_in"

    def test_branch_paths_are_not_patched(self) -> None:
        actions = chain(branch())
        with pytest.raises(InvalidInput):
            patch_action(actions, actions[0].id, {"then": []})


class TestDelete:
    def test_only_closes_the_gap_act_6(self) -> None:
        actions = chain(task("a"), task("b"), task("c"))
        result = delete_action(actions, actions[1].id, DeleteMode.ONLY)
        assert [a.id for a in result] == [actions[0].id, actions[2].id]

    def test_following_removes_the_action_and_all_after_it_act_6(self) -> None:
        actions = chain(task("a"), task("b"), task("c"))
        result = delete_action(actions, actions[1].id, DeleteMode.FOLLOWING)
        assert [a.id for a in result] == [actions[0].id]

    def test_only_inside_a_branch_keeps_the_rest_of_that_path_act_6(self) -> None:
        actions = chain(branch(then=[task("x"), task("y"), task("z")]), task("after"))
        then = actions[0].config.then  # type: ignore[union-attr]
        result = delete_action(actions, then[1].id, DeleteMode.ONLY)
        assert [a.id for a in result[0].config.then] == [then[0].id, then[2].id]  # type: ignore[union-attr]
        assert result[1].id == actions[1].id

    def test_following_inside_a_branch_cuts_the_rest_of_that_path_only_act_6(self) -> None:
        actions = chain(
            branch(then=[task("x"), task("y"), task("z")], else_=[task("e")]), task("after")
        )
        branch_action = actions[0]
        assert isinstance(branch_action, BranchAction)
        then = branch_action.config.then
        result = delete_action(actions, then[1].id, DeleteMode.FOLLOWING)
        kept = result[0]
        assert isinstance(kept, BranchAction)
        assert [a.id for a in kept.config.then] == [then[0].id]
        assert kept.config.else_ == branch_action.config.else_
        assert result[1].id == actions[1].id

    def test_deleting_a_branch_takes_its_paths_along(self) -> None:
        actions = chain(task(), branch(then=[task()], else_=[task()]))
        result = delete_action(actions, actions[1].id)
        assert action_ids(result) == {actions[0].id}

    def test_an_unknown_action_is_not_found(self) -> None:
        with pytest.raises(NotFound):
            delete_action(chain(task()), "a_ffffffff")


class TestTemplates:
    def test_placeholders_are_replaced_with_context_values(self) -> None:
        text = "Hi {{contact.first_name}}, {{ owner.name }} at {{company.name}} here"
        assert render_template(text, CONTEXT) == "Hi Jo, Sam at Acme here"

    def test_missing_values_and_unknown_names_render_empty(self) -> None:
        text = "[{{contact.last_name}}][{{lead.secret}}][{{__import__('os')}}]"
        assert render_template(text, CONTEXT) == "[][][]"

    def test_booleans_render_as_true_false(self) -> None:
        assert render_template("{{company.is_target_account}}", CONTEXT) == "true"

    def test_rendered_values_are_not_rendered_again(self) -> None:
        context = ChainContext(contact={"first_name": "{{owner.email}}"}, owner={"email": "x"})
        assert render_template("{{contact.first_name}}", context) == "{{owner.email}}"


def cond(prop: str, op: str, value: Any = None) -> Condition:
    return Condition.model_validate({"property": prop, "op": op, "value": value})


class TestConditions:
    @pytest.mark.parametrize(
        ("condition", "expected"),
        [
            (cond("lead.label", "eq", "hot"), True),
            (cond("contact.first_name", "eq", "JO"), True),
            (cond("lead.label", "eq", "cold"), False),
            (cond("lead.label", "neq", "cold"), True),
            (cond("lead.label", "neq", "hot"), False),
            (cond("lead.label", "in", ["warm", "hot"]), True),
            (cond("lead.label", "in", ["warm", "cold"]), False),
            (cond("contact.email", "contains", "@EXAMPLE"), True),
            (cond("contact.email", "contains", "acme"), False),
            (cond("lead.stage_id", "gt", 10), True),
            (cond("lead.stage_id", "lt", 10), False),
            (cond("company.created_at", "lt", "2025-06-01T00:00:00Z"), True),
            (cond("company.created_at", "gt", "2025-06-01"), False),
            (cond("contact.first_name", "is_set"), True),
            (cond("contact.last_name", "is_set"), False),
            (cond("contact.last_name", "is_set", False), True),
            (cond("company.is_target_account", "eq", True), True),
            (cond("company.is_target_account", "eq", False), False),
        ],
    )
    def test_every_operator(self, condition: Condition, expected: bool) -> None:
        from domain.chains import evaluate_condition

        assert evaluate_condition(condition, CONTEXT) is expected

    def test_an_unset_property_matches_nothing_but_null(self) -> None:
        from domain.chains import evaluate_condition

        empty = ChainContext()
        assert evaluate_condition(cond("lead.label", "eq", None), empty)
        assert not evaluate_condition(cond("lead.label", "in", ["hot"]), empty)
        assert not evaluate_condition(cond("lead.stage_id", "gt", 1), empty)
        assert not evaluate_condition(cond("lead.name", "contains", "a"), empty)


class TestNextTimeOfDay:
    def test_later_today_when_the_time_is_still_ahead(self) -> None:
        result = next_time_of_day(NOW, time(15, 0), "UTC")
        assert result == datetime(2026, 3, 4, 15, 0, tzinfo=UTC)

    def test_tomorrow_when_the_time_has_passed(self) -> None:
        result = next_time_of_day(NOW, time(9, 0), "UTC")
        assert result == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)

    def test_weekdays_only_skips_the_weekend(self) -> None:
        friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
        result = next_time_of_day(friday_evening, time(9, 0), "Europe/Helsinki", True)
        assert result.weekday() == 0
        assert result == datetime(2026, 3, 9, 9, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
        assert next_time_of_day(friday_evening, time(9, 0), "Europe/Helsinki").weekday() == 5

    def test_the_wall_time_holds_across_a_dst_change(self) -> None:
        # Helsinki moves from UTC+2 to UTC+3 on Sunday 2026-03-29.
        saturday = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
        result = next_time_of_day(saturday, time(9, 0), "Europe/Helsinki", True)
        assert result.astimezone(UTC) == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
        before = next_time_of_day(
            datetime(2026, 3, 27, 0, 0, tzinfo=UTC), time(9), "Europe/Helsinki"
        )
        assert before.astimezone(UTC) == datetime(2026, 3, 27, 7, 0, tzinfo=UTC)

    def test_a_wall_time_skipped_by_dst_moves_forward(self) -> None:
        result = next_time_of_day(
            datetime(2026, 3, 28, 12, 0, tzinfo=UTC), time(3, 30), "Europe/Helsinki"
        )
        assert result.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)

    def test_naive_now_is_refused(self) -> None:
        with pytest.raises(ValueError):
            next_time_of_day(datetime(2026, 1, 1), time(9), "UTC")


class TestResolveDelay:
    @pytest.mark.parametrize(
        ("config", "expected"),
        [
            ({"duration": "P3D"}, NOW + timedelta(days=3)),
            ({"until": "2026-04-01T00:00:00Z"}, datetime(2026, 4, 1, tzinfo=UTC)),
            ({"until": "2020-01-01T00:00:00Z"}, NOW),
            ({"time_of_day": "09:00"}, datetime(2026, 3, 5, 9, tzinfo=UTC)),
            ({"until_event": "email_reply", "timeout": "P7D"}, NOW + timedelta(days=7)),
        ],
    )
    def test_each_kind(self, config: dict[str, Any], expected: datetime) -> None:
        assert resolve_delay(DelayConfig.model_validate(config), NOW) == expected


class TestPlan:
    def test_steps_follow_the_branch_the_snapshot_takes(self) -> None:
        actions = chain(
            task("Call {{contact.first_name}}", due_in="P1D"),
            branch(then=[delay("PT2H"), task("hot")], else_=[task("cold")]),
            {"type": "send_email", "config": {"subject": "Hi {{contact.first_name}}", "body": "b"}},
        )
        steps = plan_steps(actions, CONTEXT, NOW)
        assert [(s.type, s.would_run) for s in steps] == [
            ("create_task", True),
            ("branch", True),
            ("delay", True),
            ("create_task", True),
            ("create_task", False),
            ("send_email", True),
        ]
        assert steps[0].details["title"] == "Call Jo" and steps[0].details["assignee_id"] == 3
        assert steps[1].summary == "take the then path" and "'hot'" in (steps[1].reason or "")
        assert steps[2].wait == timedelta(hours=2)
        assert steps[3].at == NOW + timedelta(hours=2)
        assert steps[4].path == "actions.1.config.else.0"
        assert steps[5].at == NOW + timedelta(hours=2)
        assert steps[5].details["to"] == "jo@example.com"

    def test_an_email_without_a_recipient_says_it_would_fail(self) -> None:
        actions = chain({"type": "send_email", "config": {"subject": "s", "body": "b"}})
        step = plan_steps(actions, ChainContext(), NOW)[0]
        assert step.summary.startswith("would fail")

    def test_each_action_type_is_planned(self) -> None:
        actions = chain(
            {"type": "set_property", "config": {"property": "lead.label", "value": "cold"}},
            {"type": "create_deal", "config": {"amount": "100", "close_in": "P30D"}},
            {"type": "assign_owner", "config": {"user_id": 5, "only_if_unassigned": True}},
            {"type": "notify_owner", "config": {"message": "{{lead.name}} moved"}},
            {"type": "webhook", "config": {"url": "https://example.com/hook"}},
        )
        steps = plan_steps(actions, CONTEXT, NOW)
        assert steps[0].details == {"property": "lead.label", "from": "hot", "to": "cold"}
        assert steps[1].details["name"] == "Acme deal"
        assert steps[1].details["close_date"] == "2026-04-03"
        assert steps[2].summary.startswith("keep owner")
        assert steps[3].details["message"] == "Acme deal moved"
        assert steps[4].details["url"] == "https://example.com/hook"


class TestReadHelpers:
    def test_comments_are_attached_by_action_id(self) -> None:
        actions = chain(branch(then=[task()]))
        inner = actions[0].config.then[0].id  # type: ignore[union-attr]
        comment = Comment(id=1, author_id=2, text="why?", at=NOW)
        result = with_comments(actions, {inner: [comment]})
        assert find_action(result, inner).comments == [comment]
        assert find_action(result, actions[0].id).comments == []
        assert "comments" not in dump_actions(result)[0]

    def test_webhook_secrets_are_hidden(self) -> None:
        hook = {"type": "webhook", "config": {"url": "https://x.test", "secret": "s3cret-key"}}
        actions = chain(branch(then=[hook]))
        shown = dump_actions(redact_secrets(actions))
        assert shown[0]["config"]["then"][0]["config"]["secret"] == "********"

    def test_credentials_in_webhook_urls_are_masked_and_the_rest_kept(self) -> None:
        url = "https://bot:pa55@hooks.example/in/abc?team=7&token=t0k&X-Amz-Signature=f00"
        actions = chain(branch(then=[{"type": "webhook", "config": {"url": url}}]))
        shown = dump_actions(redact_secrets(actions))[0]["config"]["then"][0]["config"]["url"]
        assert shown == (
            "https://********:********@hooks.example/in/abc"
            "?team=7&token=********&X-Amz-Signature=********"
        )


class TestMaskUrl:
    @pytest.mark.parametrize(
        ("url", "masked"),
        [
            ("https://h.example/x?a=1", "https://h.example/x?a=1"),
            ("https://u@h.example/", "https://********@h.example/"),
            ("https://:pw@h.example/", "https://********:********@h.example/"),
            ("https://h.example/?api_key=k&apiKey=k&access_token=t", None),
            ("https://h.example/?password=p&sig=s&client_secret=c", None),
            ("https://h.example/#access_token=t", "https://h.example/#access_token=********"),
            ("https://h.example/?key=", "https://h.example/?key="),
        ],
    )
    def test_user_info_and_credential_parameters_are_masked(
        self, url: str, masked: str | None
    ) -> None:
        shown = mask_url(url)
        if masked is not None:
            assert shown == masked
        else:
            assert shown.count("=********") == 3 and "=k" not in shown and "=t" not in shown

    def test_urls_inside_text_are_masked_and_the_text_kept(self) -> None:
        text = "calling https://u:p@h.example/x?token=abc, then https://h.example/ok."
        assert mask_urls_in(text) == (
            "calling https://********:********@h.example/x?token=********, "
            "then https://h.example/ok."
        )


class TestWebhookTargets:
    def hook(self, url: str) -> dict[str, Any]:
        return {"type": "webhook", "config": {"url": url}}

    def test_each_non_public_url_is_named_by_its_path(self) -> None:
        actions = chain(
            self.hook("https://hooks.example/x"),
            branch(then=[self.hook("http://[::1]:8900/v1/users")]),
            self.hook("http://0x7f000001/"),
        )
        errors = webhook_target_errors(actions)
        assert [(e.field, e.rule) for e in errors] == [
            ("actions.1.config.then.0.config.url", "public_address"),
            ("actions.2.config.url", "public_address"),
        ]
        assert "[::1] is not a public address (loopback)" in errors[0].message
        assert "127.0.0.1 is not a public address (loopback)" in errors[1].message

    def test_an_allowed_host_passes(self) -> None:
        actions = chain(self.hook("http://127.0.0.1:9000/hook"))
        assert webhook_target_errors(actions, AllowList.parse(["127.0.0.1"])) == []

    def test_a_webhook_unchanged_since_the_last_version_is_not_judged_again(self) -> None:
        old = chain(self.hook("http://10.0.0.5/hook"))
        assert webhook_target_errors(old, unchanged=old) == []
        moved = chain(self.hook("http://10.0.0.6/hook"))
        assert moved[0].id == old[0].id
        assert len(webhook_target_errors(moved, unchanged=old)) == 1


def test_a_chain_round_trips_through_json_as_workflow_inputs_do() -> None:
    from domain.chains import Chain

    actions = chain(
        task(due_in="P1D"),
        branch(then=[delay("PT2H")], else_=[]),
        {"type": "create_deal", "config": {"amount": "10.50"}},
        {"type": "delay", "config": {"time_of_day": "09:00", "time_zone": "Europe/Helsinki"}},
    )
    pinned = Chain(version=3, actions=actions)
    assert Chain.model_validate_json(pinned.model_dump_json()) == pinned
    assert ChainContext.model_validate_json(CONTEXT.model_dump_json()) == CONTEXT
