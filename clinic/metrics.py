"""Prometheus metrics at /metrics: django-prometheus plus the clinic's own.

django-prometheus measures requests (latency, status codes, per view) and the
database. The collector here adds what operators ask of the job system, read
from the database and the broker *at scrape time*, so every web process
reports the same numbers whichever worker ran the jobs, and nothing is lost
when a worker restarts:

- ``myolens_jobs{kind, state}``: jobs by state per kind (a gauge).
- ``myolens_job_duration_seconds{kind}``: a histogram of run times (claim to
  finish) of the jobs that finished in the last ``EMG_METRICS_WINDOW_HOURS``.
- ``myolens_jobs_failed_total{kind, reason}``: FAILED jobs by reason code,
  derived from their (user-facing) message, see :data:`FAILURE_REASONS`.
- ``myolens_celery_queue_length{queue}``: messages waiting on each queue
  (Redis: the list's LLEN, through kombu), ``myolens_celery_queue_up`` 0 when
  a queue's length could not be read.

Access: from the addresses in ``EMG_METRICS_ALLOWED_IPS`` or with
``Authorization: Bearer <EMG_METRICS_TOKEN>`` (docs/OPERATIONS.md).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import (
    REGISTRY,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from clinic.security import client_ip
from clinic.services.jobs import KINDS

logger = logging.getLogger(__name__)

#: kind label -> model label: the kinds of the job layer.
JOB_KINDS = {kind.log_kind: label for label, kind in KINDS.items()}

#: Reason codes of failed jobs, the first whose phrase is in the message. The
#: phrases come from the message templates (clinic.stored_files,
#: clinic.services.*); anything else is a problem with the user's input
#: (an unreadable recording, too few trials, ...).
FAILURE_REASONS = (
    ("storage_missing", "is missing from the file storage"),
    ("integrity", "failed its integrity check"),
    ("integrity", "does not match its registered checksum"),
    ("queue_unavailable", "the task queue is unavailable"),
    ("worker_lost", "times before it could finish"),
    ("time_limit", "took longer than the"),
    ("application_error", "because of a problem in the application"),
    ("no_active_model", "No disease model is active"),
)
INPUT_REASON = "input"

#: Upper bounds (s) of the duration histogram: analyses take seconds, retraining
#: and adaptation minutes to hours.
DURATION_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600)


def failure_reason(message: str) -> str:
    for code, phrase in FAILURE_REASONS:
        if phrase in message:
            return code
    return INPUT_REASON


def _queues() -> list[str]:
    from clinic.services.health import _job_queue

    return sorted({_job_queue(kind) for kind in ("analysis", "retraining")})


#: kombu's Redis transport keeps messages of priority p > 0 in "<queue>\x06\x16p".
_REDIS_PRIORITY_KEYS = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def _queue_lengths(queues: list[str]) -> dict[str, int | None]:
    """Waiting messages per queue; None where the broker could not say.

    On Redis, the LLEN of each queue's lists: 0 for a queue no one has used
    yet, where a passive declare would fail. Other brokers: kombu's passive
    declare, as /health/ does.
    """
    from clinic.celery import app
    from clinic.services.health import _queue_length

    url = app.conf.broker_read_url or app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://")):
        return {q: _queue_length(q) for q in queues}
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return {
            q: sum(int(client.llen(q + key)) for key in _REDIS_PRIORITY_KEYS)
            for q in queues
        }
    except redis.RedisError:
        logger.warning("Could not read the queue lengths from Redis", exc_info=True)
        return dict.fromkeys(queues)
    finally:
        client.close()


class JobsCollector:
    """Collects the job metrics from the database and the broker per scrape."""

    def describe(self):
        # Without it the registry would call collect() at registration, i.e.
        # query the database at start-up (before migrations, in every command).
        return []

    def collect(self):
        jobs = GaugeMetricFamily(
            "myolens_jobs", "Jobs by state per kind.", labels=["kind", "state"]
        )
        durations = HistogramMetricFamily(
            "myolens_job_duration_seconds",
            "Run time (claim to finish) of the jobs that finished in the last "
            f"{settings.EMG_METRICS_WINDOW_HOURS:g} hours.",
            labels=["kind"],
        )
        failed = CounterMetricFamily(
            "myolens_jobs_failed",
            "FAILED jobs by reason code (clinic/metrics.py FAILURE_REASONS).",
            labels=["kind", "reason"],
        )
        since = timezone.now() - timedelta(hours=settings.EMG_METRICS_WINDOW_HOURS)
        for kind, label in JOB_KINDS.items():
            model = apps.get_model(label)
            counts = dict.fromkeys(model.Status.values, 0)
            for row in model.objects.values("status").order_by():
                counts[row["status"]] = counts.get(row["status"], 0) + 1
            for state, n in sorted(counts.items()):
                jobs.add_metric([kind, state], n)
            self._durations(durations, kind, model, since)
            reasons: dict[str, int] = {}
            messages = model.objects.filter(status=model.Status.FAILED).values_list(
                "error_message", flat=True
            )
            for message in messages:
                code = failure_reason(message or "")
                reasons[code] = reasons.get(code, 0) + 1
            for code, n in sorted(reasons.items()):
                failed.add_metric([kind, code], n)
        yield jobs
        yield durations
        yield failed
        yield from self._queue_metrics()

    @staticmethod
    def _durations(family, kind: str, model, since) -> None:
        rows = model.objects.filter(
            finished_at__gte=since, started_at__isnull=False
        ).values_list("started_at", "finished_at")
        seconds = [max((end - start).total_seconds(), 0.0) for start, end in rows]
        buckets = [
            (str(float(b)), sum(1 for s in seconds if s <= b)) for b in DURATION_BUCKETS
        ]
        buckets.append(("+Inf", len(seconds)))
        family.add_metric([kind], buckets, sum_value=sum(seconds))

    @staticmethod
    def _queue_metrics():
        length = GaugeMetricFamily(
            "myolens_celery_queue_length",
            "Messages waiting on the Celery queue.",
            labels=["queue"],
        )
        up = GaugeMetricFamily(
            "myolens_celery_queue_up",
            "1 when the queue's length could be read from the broker.",
            labels=["queue"],
        )
        for queue, n in _queue_lengths(_queues()).items():
            up.add_metric([queue], 0 if n is None else 1)
            if n is not None:
                length.add_metric([queue], n)
        yield length
        yield up


_COLLECTOR = JobsCollector()


def register() -> None:
    """Add the collector to the default registry once (AppConfig.ready)."""
    if _COLLECTOR not in getattr(REGISTRY, "_collector_to_names", {}):
        REGISTRY.register(_COLLECTOR)


def _allowed(request: HttpRequest) -> bool:
    token = settings.EMG_METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer "):
        # Constant time: the token must not leak through response timing.
        return hmac.compare_digest(header[7:].strip().encode(), token.encode())
    ip = client_ip(request)
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False)
        for net in settings.EMG_METRICS_ALLOWED_IPS
    )


def _registry():
    """The registry to expose: under gunicorn with PROMETHEUS_MULTIPROC_DIR, the
    request metrics of every process (prometheus_client multiprocess mode)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_COLLECTOR)
    return registry


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format, for allowed scrapers only (else 403)."""
    if not _allowed(request):
        return HttpResponse(
            "Metrics are only served to the allowed addresses or with the bearer "
            "token (docs/OPERATIONS.md).\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
