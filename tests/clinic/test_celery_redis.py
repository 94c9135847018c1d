"""A Celery round trip through the real Redis with a real worker process."""

from __future__ import annotations

import time
import uuid

import pytest
from celery import Celery

from tests.clinic.workers import celery_worker


@pytest.fixture
def redis_worker(redis_url, tmp_path):
    """Start ``celery worker`` for the clinic app on Redis; yield its queue name."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    with celery_worker(
        queue,
        tmp_path / "worker.log",
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        MYOLENS_VAR_DIR=str(tmp_path),
    ):
        yield queue


@pytest.mark.services
def test_a_task_goes_through_redis_to_a_real_worker_and_back(redis_url, redis_worker):
    client = Celery("clinic", broker=redis_url, backend=redis_url)
    token = uuid.uuid4().hex
    started = time.monotonic()
    result = client.send_task(
        "clinic.tasks.ping_task", args=[token], queue=redis_worker
    )
    assert result.get(timeout=90) == f"pong:{token}"
    assert time.monotonic() - started < 90
