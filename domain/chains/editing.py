"""Walking the action tree and editing it: insert, patch and delete actions, fill in comments."""

from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any, Literal

from domain.chains.actions import Action, BranchAction
from domain.chains.base import Comment
from domain.chains.parsing import assign_ids, dump_actions, new_action_id, parse_actions
from domain.errors import NotFound, invalid


def walk(
    actions: Sequence[Action], prefix: str = "actions", depth: int = 1
) -> Iterator[tuple[str, int, Action]]:
    """Every action, depth first in chain order, with its path and depth."""
    for i, action in enumerate(actions):
        path = f"{prefix}.{i}"
        yield path, depth, action
        if isinstance(action, BranchAction):
            yield from walk(action.config.then, f"{path}.config.then", depth + 1)
            if action.config.else_ is not None:
                yield from walk(action.config.else_, f"{path}.config.else", depth + 1)


def find_action(actions: Sequence[Action], action_id: str) -> Action:
    """Raises NotFound."""
    for _, _, action in walk(actions):
        if action.id == action_id:
            return action
    raise NotFound(f"action {action_id} is not in this chain")


def action_ids(actions: Sequence[Action]) -> set[str]:
    return {a.id for _, _, a in walk(actions)}


Branch = Literal["then", "else"]


def insert_action(
    actions: Sequence[Action],
    new: Mapping[str, Any],
    position: int | None = None,
    parent_id: str | None = None,
    branch: Branch = "then",
    make_id: Callable[[], str] = new_action_id,
) -> tuple[list[Action], str]:
    """A new action list with raw action `new` ({type, config}) inserted; returns it and the new
    action's id.

    At `position` in the top-level list, or in the `branch` list of branch `parent_id`; at the
    end when `position` is None (ACT-3). Raises NotFound (unknown parent), InvalidInput (parent
    is not a branch, position out of range, or an invalid action, with its path).
    """
    raw = dump_actions(actions)
    item = {k: v for k, v in new.items() if k not in ("id", "comments")}
    target = _target_list(raw, parent_id, branch)
    if position is None:
        position = len(target)
    if not 0 <= position <= len(target):
        raise invalid("position", "range", f"position must be between 0 and {len(target)}")
    target.insert(position, item)
    raw = assign_ids(raw, make_id)
    # Errors (depth included) are reported at the inserted action's real path.
    result = parse_actions(raw)
    return result, _raw_id_at(raw, parent_id, branch, position)


def _target_list(raw: list[Any], parent_id: str | None, branch: Branch) -> list[Any]:
    if parent_id is None:
        return raw
    for _, item in _raw_paths(raw, "actions"):
        if item["id"] == parent_id:
            if item["type"] != "branch":
                raise invalid(
                    "parent_action_id", "not_a_branch", f"action {parent_id} is not a branch"
                )
            config = item["config"]
            if config.get(branch) is None:
                config[branch] = []
            target: list[Any] = config[branch]
            return target
    raise NotFound(f"action {parent_id} is not in this chain")


def _raw_paths(raw: list[dict[str, Any]], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for i, item in enumerate(raw):
        yield f"{prefix}.{i}", item
        if item["type"] == "branch":
            for key in ("then", "else"):
                if item["config"].get(key) is not None:
                    yield from _raw_paths(item["config"][key], f"{prefix}.{i}.config.{key}")


def _raw_id_at(raw: list[Any], parent_id: str | None, branch: Branch, position: int) -> str:
    target = raw
    if parent_id is not None:
        target = next(
            item["config"][branch] for _, item in _raw_paths(raw, "") if item["id"] == parent_id
        )
    new_id: str = target[position]["id"]
    return new_id


def patch_action(
    actions: Sequence[Action], action_id: str, config: Mapping[str, Any]
) -> list[Action]:
    """A new action list where `action_id`'s config has the keys of `config` (a null removes
    a key, so its default applies). A branch's `then`/`else` lists change through insert and
    delete, not here. Raises NotFound, InvalidInput (with the path of the broken field)."""
    raw = dump_actions(actions)
    for _, item in _raw_paths(raw, "actions"):
        if item["id"] != action_id:
            continue
        if item["type"] == "branch":
            for key in ("then", "else"):
                if key in config:
                    raise invalid(
                        f"config.{key}",
                        "not_patchable",
                        "add and delete actions inside a branch with the action endpoints",
                    )
        merged = dict(item["config"])
        for key, value in config.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        item["config"] = merged
        return parse_actions(raw)
    raise NotFound(f"action {action_id} is not in this chain")


class DeleteMode(StrEnum):
    ONLY = "only"
    FOLLOWING = "following"


def delete_action(
    actions: Sequence[Action], action_id: str, mode: DeleteMode = DeleteMode.ONLY
) -> list[Action]:
    """A new action list without `action_id` (ACT-6).

    `only`: the action goes and the rest of its list closes the gap; a deleted branch takes
    its `then` and `else` paths with it. `following`: the action and every action after it in
    the same list go, so inside a branch the rest of that path is cut and the actions after the
    branch stay. Raises NotFound.
    """
    result, found = _delete(list(actions), action_id, mode)
    if not found:
        raise NotFound(f"action {action_id} is not in this chain")
    return result


def _delete(actions: list[Action], action_id: str, mode: DeleteMode) -> tuple[list[Action], bool]:
    for i, action in enumerate(actions):
        if action.id == action_id:
            return (
                actions[:i] if mode == DeleteMode.FOLLOWING else actions[:i] + actions[i + 1 :]
            ), True
        if isinstance(action, BranchAction):
            then, found = _delete(action.config.then, action_id, mode)
            else_ = action.config.else_
            if not found and else_ is not None:
                else_, found = _delete(else_, action_id, mode)
            if found:
                config = action.config.model_copy(update={"then": then, "else_": else_})
                return [
                    *actions[:i],
                    action.model_copy(update={"config": config}),
                    *actions[i + 1 :],
                ], True
    return actions, False


def with_comments(
    actions: Sequence[Action], comments: Mapping[str, Sequence[Comment]]
) -> list[Action]:
    """The actions with their comments (stored by action id) filled in, oldest first."""
    out: list[Action] = []
    for action in actions:
        update: dict[str, Any] = {"comments": list(comments.get(action.id, ()))}
        if isinstance(action, BranchAction):
            config = action.config
            update["config"] = config.model_copy(
                update={
                    "then": with_comments(config.then, comments),
                    "else_": None
                    if config.else_ is None
                    else with_comments(config.else_, comments),
                }
            )
        out.append(action.model_copy(update=update))
    return out
