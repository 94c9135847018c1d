"""A real ``celery worker`` process for the tests that cross Redis."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_database_url() -> str:
    """The URL of the database this test runs on, for a worker process to share."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return (
        f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )


def this_tests_app_env(
    redis_url: str, model_dir: Path, var_dir: Path
) -> dict[str, str]:
    """What a worker needs to see this test's database, files and models."""
    from django.conf import settings

    return {
        "CELERY_BROKER_URL": redis_url,
        "DATABASE_URL": shared_database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "EMG_MODEL_DIR": str(model_dir),
        "MYOLENS_VAR_DIR": str(var_dir),
    }


def pool_processes(pid: int) -> list[int]:
    """The children of worker ``pid``: its prefork pool processes."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


@contextlib.contextmanager
def celery_worker(
    queue: str, log_path: Path, pool: str = "solo", **env_overrides: str
) -> Iterator[subprocess.Popen]:
    """Run a worker (solo pool, or ``pool="prefork"`` with one child) on ``queue``.

    ``env_overrides`` reach the worker's environment (broker URL, database,
    folders). The worker's log is printed when it did not stop cleanly, so a
    failing test shows why.
    """
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "test-only")
    env.update(DJANGO_SETTINGS_MODULE="clinic.settings", **env_overrides)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", "worker", "-Q", queue]
            + ["--pool", pool, "--concurrency", "1", "--loglevel", "INFO"]
            + ["-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if proc.returncode not in (0, -15, -9):
        print(Path(log_path).read_text()[-3000:])
