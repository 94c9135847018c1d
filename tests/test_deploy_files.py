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
        if svc.get("restart") == "no":
            continue  # a one-shot job (the bucket init), checked by its exit code
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


APP_SERVICES = ("web", "worker", "training-worker")


def test_files_live_in_the_s3_service_and_no_media_volume_is_shared():
    compose = _compose()
    services = compose["services"]
    assert "minio" in services and "minio-init" in services
    assert "healthcheck" in services["minio"]
    assert "mc mb" in " ".join(services["minio-init"]["entrypoint"])
    for name in APP_SERVICES:
        svc = services[name]
        env = svc["environment"]
        assert env["EMG_STORAGE"] == "s3"
        assert env["AWS_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert svc["depends_on"]["minio-init"]["condition"] == (
            "service_completed_successfully"
        )
        # Web and workers may be on different hosts: no shared disk at all.
        assert not svc.get("volumes"), f"{name} mounts {svc.get('volumes')}"
    assert "media" not in (compose.get("volumes") or {})


def test_workers_scale_without_fixed_names_or_ports():
    # `docker compose up --scale worker=N` needs neither.
    worker = _compose()["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker
