"""The Celery application; configuration comes from Django settings (CELERY_*)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Threads per worker process (EMG_WORKER_THREADS) and the lost-job sweep at
# start-up and every lease (clinic/services/jobs.py): signal handlers.
from clinic import worker_sweep, worker_threads  # noqa: E402,F401
