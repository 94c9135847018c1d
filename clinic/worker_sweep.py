"""Every worker sweeps for lost jobs and says it is alive, from threads.

It sweeps for lost jobs at start-up and then every lease.

A job whose worker died (an analysis job, a retraining run or a gesture
adaptation session) is sent again by :func:`jobs_sweep`
(clinic/services/jobs.py explains the lease). Sweeping at start-up bounds
the wait after a restart; the periodic sweep (a daemon thread of the worker's
main process, so no Celery beat is needed) covers a worker that lost only a pool
process, or a message that was lost with the broker. Every worker sweeps every
kind, whatever queue it serves: the send routes each task to its own queue.

A second thread records a heartbeat (WorkerHeartbeat) for every queue the
worker consumes, every ``EMG_WORKER_BEAT_S``; ``/health/`` reads it to tell a
queue with no live worker (clinic/services/health.py: queues_report).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown

logger = logging.getLogger(__name__)
_stop = threading.Event()


def _sweep_once() -> None:
    from django.db import close_old_connections

    from clinic.services.jobs import KINDS, job_models, jobs_sweep

    try:
        close_old_connections()  # a long-lived thread: drop a broken connection
        models = job_models()
    except Exception:  # the database may be down: try again next time
        logger.exception("The sweep for lost jobs failed")
        return
    for model in models:
        noun = KINDS[model._meta.label].noun
        try:
            ids = jobs_sweep(model)
        except Exception:  # one kind failing must not hide the others' lost jobs
            logger.exception("The sweep for lost %ss failed", noun)
            continue
        if ids:
            logger.warning("Sweep sent %d %s(s) again: %s", len(ids), noun, ids)


def _loop(every_s: float) -> None:
    _sweep_once()
    while not _stop.wait(every_s):
        _sweep_once()


def _beat_once(queues: list[str], hostname: str) -> None:
    from django.db import close_old_connections

    from clinic.services.health import worker_heartbeat_record

    try:
        close_old_connections()
        for queue in queues:
            worker_heartbeat_record(queue=queue, hostname=hostname)
    except Exception:  # the database may be down: try again next time
        logger.exception("Recording the worker heartbeat failed")


def _beat_loop(queues: list[str], hostname: str, every_s: float) -> None:
    _beat_once(queues, hostname)
    while not _stop.wait(every_s):
        _beat_once(queues, hostname)


def _consumed_queues(sender: Any) -> list[str]:
    try:
        return sorted(q.name for q in sender.task_consumer.queues)
    except AttributeError:  # an unexpected sender: fall back to the default queue
        return ["celery"]


@worker_ready.connect
def _start_sweeping(sender: Any = None, **_: Any) -> None:
    from django.conf import settings

    _stop.clear()
    thread = threading.Thread(
        target=_loop, args=(settings.EMG_JOB_LEASE_S,), name="job-sweep", daemon=True
    )
    thread.start()
    hostname = str(getattr(sender, "hostname", "") or "")
    beat = threading.Thread(
        target=_beat_loop,
        args=(_consumed_queues(sender), hostname, settings.EMG_WORKER_BEAT_S),
        name="worker-beat",
        daemon=True,
    )
    beat.start()


@worker_shutdown.connect
def _stop_sweeping(**_: Any) -> None:
    _stop.set()
