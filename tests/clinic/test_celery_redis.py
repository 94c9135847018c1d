"""A Celery round trip through the real Redis with a real worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_worker(redis_url, tmp_path):
    """Start ``celery worker`` for the clinic app on Redis; yield its queue name."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        DJANGO_SETTINGS_MODULE="clinic.settings",
        SECRET_KEY=env.get("SECRET_KEY", "test-only"),
        MYOLENS_VAR_DIR=str(tmp_path),
    )
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "clinic",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "-n",
            f"{queue}@%h",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
