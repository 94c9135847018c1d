"""Clinic tests run on the real PostgreSQL and Redis servers (never skipped)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("CI") == "true" and "postgresql" not in engine:
        raise pytest.UsageError(
            "CI must run the clinic tests on PostgreSQL; DATABASE_URL points at "
            f"{engine}. Run them through `make test`."
        )


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis used by broker tests; fails (not skips) when it is down."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is not reachable ({exc}); start it (see README).")
    return url


@pytest.fixture(autouse=True)
def _plain_static_storage(settings, tmp_path):
    # The manifest storage needs `collectstatic`; tests serve static files as-is
    # and keep uploads in a temporary MEDIA_ROOT.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
