"""docker-compose.yml and .env.example stay consistent with the settings."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env_example_names() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line)
        if m:
            names.add(m.group(1))
    return names


def test_compose_has_every_service_with_a_health_check():
    services = _compose()["services"]
    assert {"web", "worker", "training-worker", "redis", "postgres"} <= set(services)
    for name, svc in services.items():
        assert "healthcheck" in svc, f"{name} has no health check"
    assert "gunicorn" in services["web"]["command"]
    assert "-Q training" in services["training-worker"]["command"]


def test_compose_reads_the_env_file_and_waits_for_healthy_backends():
    services = _compose()["services"]
    for name in ("web", "worker", "training-worker"):
        assert services[name]["env_file"] == ".env"
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"


def test_every_env_example_variable_is_read_by_the_settings_or_compose():
    settings_text = (ROOT / "clinic" / "settings.py").read_text()
    compose_text = (ROOT / "docker-compose.yml").read_text()
    unused = [
        name
        for name in _env_example_names()
        if f'"{name}"' not in settings_text
        and f"${{{name}" not in compose_text
        and not (name.endswith("_FILE") and f'"{name[:-5]}"' in settings_text)
    ]
    assert unused == []


def test_the_database_and_broker_in_env_example_point_at_the_compose_services():
    names = (ROOT / ".env.example").read_text()
    assert "@postgres:5432/" in names
    assert "redis://redis:6379" in names
