"""Threads per Celery worker process (EMG_WORKER_THREADS, clinic/worker_threads.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clinic.worker_threads import available_cores, worker_threads

REPO_ROOT = Path(__file__).resolve().parents[2]
POOL_LINE = re.compile(
    r"Worker process (\d+): torch uses (\d+) thread\(s\); thread pools: (.*)"
)


def test_it_divides_the_cores_between_the_worker_processes():
    assert worker_threads(1, cores=2) == 2
    assert worker_threads(2, cores=2) == 1
    assert worker_threads(4, cores=16) == 4
    # Never zero threads, even with more processes than cores.
    assert worker_threads(4, cores=2) == 1
    assert worker_threads(3, cores=8) == 2


def test_a_configured_number_of_threads_wins():
    assert worker_threads(2, configured=3, cores=2) == 3
    assert worker_threads(2, configured=0, cores=8) == 4  # 0 means automatic


def _pool_lines(tmp_path: Path, concurrency: int, **env: str) -> list[tuple]:
    """Start a real prefork worker; return its pool processes' thread reports."""
    var = tmp_path / f"var{concurrency}"
    full_env = dict(os.environ)
    full_env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        SECRET_KEY="test-only",
        MYOLENS_VAR_DIR=str(var),
        # The filesystem broker and SQLite: starting needs no server.
        CELERY_BROKER_URL="filesystem://",
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        **env,
    )
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        full_env.pop(name, None)
    log_path = tmp_path / f"worker{concurrency}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "clinic", "worker"]
            + ["-Q", f"threads-test-{os.getpid()}", "--pool", "prefork"]
            + ["--concurrency", str(concurrency), "--loglevel", "INFO"]
            + ["-n", f"threads{concurrency}-{os.getpid()}@%h"],
            cwd=REPO_ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        lines: list[tuple] = []
        while time.monotonic() < deadline and proc.poll() is None:
            lines = POOL_LINE.findall(log_path.read_text())
            if len(lines) >= concurrency:
                break
            time.sleep(0.5)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert len(lines) == concurrency, log_path.read_text()[-3000:]
    return lines


@pytest.mark.slow
def test_two_worker_processes_share_the_cores(tmp_path):
    expected = max(1, available_cores() // 2)
    lines = _pool_lines(tmp_path, 2, EMG_WORKER_THREADS="0")
    assert len({pid for pid, _, _ in lines}) == 2
    for _pid, torch_threads, pools in lines:
        assert int(torch_threads) == expected
        # torch's OpenMP pool (and numpy's BLAS when loaded) obey the same limit.
        counts = dict(p.split("=") for p in pools.split(", "))
        assert counts.get("openmp") == str(expected), pools
        assert all(int(n) == expected for n in counts.values()), pools


@pytest.mark.slow
def test_emg_worker_threads_sets_the_threads_of_each_process(tmp_path):
    (line,) = _pool_lines(tmp_path, 1, EMG_WORKER_THREADS="3")
    assert int(line[1]) == 3
