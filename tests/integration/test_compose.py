"""docker-compose.yml agrees with the code it runs (read as a file: no Docker needed)."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from config import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
APP_SERVICES = ("api", "worker", "migrate")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(COMPOSE.read_text())
    result: dict[str, dict[str, Any]] = document["services"]
    return result


def settings_env_names() -> set[str]:
    """Every environment variable name Settings reads."""
    prefix = Settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "NAME=value" form
        return dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def published(service: dict[str, Any]) -> dict[int, int]:
    """Container port -> host port, from "[ip:]host:container" entries."""
    result: dict[int, int] = {}
    for entry in service.get("ports", []):
        *_, host, container = str(entry).split(":")
        result[int(container)] = int(host)
    return result


def default(field: str) -> Any:
    return Settings.model_fields[field].default


def test_the_whole_stack_is_declared(services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres", "temporal", "temporal-ui", "api", "worker", "migrate"} <= set(services)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_only_variables_settings_reads(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    unknown = set(environment(services[name])) - settings_env_names()
    assert not unknown, f"{name} sets variables Settings ignores: {sorted(unknown)}"


@pytest.mark.parametrize("name", ["api", "worker"])
def test_app_services_reach_the_compose_database_and_temporal(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    env = environment(services[name])
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["LEADPIPE_TEMPORAL_ADDRESS"] == "temporal:7233"
    depends = services[name]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_api_listens_on_the_default_api_port(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    port = default("api_port")
    command = api["command"]
    assert command[command.index("--port") + 1] == str(port)
    assert published(api) == {port: port}
    assert environment(api).get("LEADPIPE_API_PORT", str(port)) == str(port)


def test_temporal_ui_is_on_the_dev_ui_port(services: dict[str, dict[str, Any]]) -> None:
    ui = services["temporal-ui"]
    assert published(ui) == {8080: default("temporal_ui_port")} == {8080: 8233}
    assert environment(ui)["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_worker_can_be_scaled(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker


def test_every_image_is_pinned_and_none_is_deprecated(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        image = service.get("image", "")
        if name in APP_SERVICES:
            continue
        repository, _, tag = image.partition(":")
        assert tag and tag != "latest", f"{name} runs an unpinned image: {image}"
        # Temporal deprecated auto-setup: schemas and the namespace are explicit one-shots.
        assert repository != "temporalio/auto-setup", name


def test_temporal_starts_on_a_set_up_schema_and_the_app_on_its_namespace(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["temporal"]["image"].startswith("temporalio/server:")
    schema = services["temporal"]["depends_on"]["temporal-schema"]
    assert schema["condition"] == "service_completed_successfully"
    for name in ("api", "worker"):
        namespace = services[name]["depends_on"]["temporal-namespace"]
        assert namespace["condition"] == "service_completed_successfully"
    tools = {services[n]["image"] for n in ("temporal-schema", "temporal-namespace")}
    assert len(tools) == 1 and tools.pop().startswith("temporalio/admin-tools:")
