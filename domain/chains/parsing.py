"""Parsing and validation: raw JSON action lists to actions (ids assigned, every broken rule
reported with its path) and back."""

import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import ValidationError

from domain.chains.actions import _ACTIONS, ACTION_TYPES, Action
from domain.errors import FieldError, InvalidInput

MAX_DEPTH = 5
"""Action lists nest at most this deep (the top-level list is depth 1)."""
MAX_ACTIONS = 200
"""Actions in one chain, counting those inside branches."""


def new_action_id() -> str:
    return "a_" + secrets.token_hex(4)


def assign_ids(raw: Any, make_id: Callable[[], str] = new_action_id) -> Any:
    """A copy of a raw (JSON) action list where every action without an `id` has a fresh one.

    Tolerates malformed input (validation reports it); comments are dropped because they are
    stored by action id, never inside a chain version.
    """
    if not isinstance(raw, list):
        return raw
    taken = {a.get("id") for a in _raw_walk(raw) if isinstance(a.get("id"), str)}
    return _with_ids(raw, make_id, taken)


def _with_ids(raw: list[Any], make_id: Callable[[], str], taken: set[Any]) -> list[Any]:
    out: list[Any] = []
    for item in raw:
        if not isinstance(item, dict):
            out.append(item)
            continue
        action = {k: v for k, v in item.items() if k != "comments"}
        if action.get("id") is None:
            new = make_id()
            while new in taken:
                new = make_id()
            taken.add(new)
            action["id"] = new
        config = action.get("config")
        if action.get("type") == "branch" and isinstance(config, dict):
            config = dict(config)
            for key in ("then", "else"):
                if isinstance(config.get(key), list):
                    config[key] = _with_ids(config[key], make_id, taken)
            action["config"] = config
        out.append(action)
    return out


def _raw_walk(raw: list[Any]) -> Iterator[dict[str, Any]]:
    for item in raw:
        if isinstance(item, dict):
            yield item
            config = item.get("config")
            if item.get("type") == "branch" and isinstance(config, dict):
                for key in ("then", "else"):
                    if isinstance(config.get(key), list):
                        yield from _raw_walk(config[key])


def _structure_errors(raw: list[Any], prefix: str, depth: int, seen: set[str]) -> list[FieldError]:
    """Depth, size and id uniqueness, checked on the raw tree before pydantic recurses."""
    errors: list[FieldError] = []
    for i, item in enumerate(raw):
        path = f"{prefix}.{i}"
        if not isinstance(item, dict):
            continue
        if depth > MAX_DEPTH:
            errors.append(
                FieldError(path, "too_deep", f"branches nest at most {MAX_DEPTH} levels deep")
            )
            continue
        action_id = item.get("id")
        if isinstance(action_id, str):
            if action_id in seen:
                errors.append(
                    FieldError(f"{path}.id", "duplicate_id", f"{action_id} appears twice")
                )
            seen.add(action_id)
        config = item.get("config")
        if item.get("type") == "branch" and isinstance(config, dict):
            for key in ("then", "else"):
                if isinstance(config.get(key), list):
                    errors += _structure_errors(
                        config[key], f"{path}.config.{key}", depth + 1, seen
                    )
    return errors


_RULES = {"union_tag_invalid": "unknown_type", "union_tag_not_found": "missing_type"}


def _field_errors(exc: ValidationError, prefix: str) -> list[FieldError]:
    errors = []
    for e in exc.errors():
        parts: list[str] = []
        loc = e["loc"]
        for n, part in enumerate(loc):
            # A discriminated union adds the tag after the list index; the path is the JSON's.
            if isinstance(part, str) and part in ACTION_TYPES and n and isinstance(loc[n - 1], int):
                continue
            parts.append(str(part))
        field = ".".join([prefix, *parts])
        rule = _RULES.get(e["type"], e["type"])
        message = e["msg"]
        if rule == "unknown_type":
            message = f"unknown action type; use one of {', '.join(sorted(ACTION_TYPES))}"
            field += ".type"
        elif rule == "missing_type":
            field += ".type"
        errors.append(FieldError(field, rule, message))
    return errors


def validate_chain(raw: Any, prefix: str = "actions") -> list[FieldError]:
    """Every broken rule in a raw action list, each with the dotted path to its field
    (`actions.1.config.then.0.config.duration`); empty when the chain is valid."""
    return _parse(raw, prefix)[1]


def parse_actions(raw: Any, prefix: str = "actions") -> list[Action]:
    """Validated actions from a raw list whose actions all have ids (see `assign_ids`).

    Raises InvalidInput listing every broken rule with its path.
    """
    actions, errors = _parse(raw, prefix)
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    return actions


def _parse(raw: Any, prefix: str) -> tuple[list[Action], list[FieldError]]:
    if not isinstance(raw, list):
        return [], [FieldError(prefix, "list_type", "actions must be a list")]
    errors = _structure_errors(raw, prefix, 1, set())
    if errors:
        return [], errors
    if sum(1 for _ in _raw_walk(raw)) > MAX_ACTIONS:
        return [], [FieldError(prefix, "too_many", f"a chain has at most {MAX_ACTIONS} actions")]
    try:
        return _ACTIONS.validate_python(raw), []
    except ValidationError as exc:
        return [], _field_errors(exc, prefix)


def dump_actions(actions: Sequence[Action], *, comments: bool = False) -> list[dict[str, Any]]:
    """JSON form (durations as ISO 8601, `if`/`else` keys); without comments unless asked."""
    # Unset optional fields are left out, so a stored version reads like what was written.
    dumped: list[dict[str, Any]] = _ACTIONS.dump_python(
        list(actions), mode="json", exclude_none=True
    )
    return dumped if comments else _strip_comments(dumped)


def _strip_comments(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in raw:
        action = {k: v for k, v in item.items() if k != "comments"}
        if action["type"] == "branch":
            config = dict(action["config"])
            for key in ("then", "else"):
                if config.get(key) is not None:
                    config[key] = _strip_comments(config[key])
            action["config"] = config
        out.append(action)
    return out
