"""The columns every worker job keeps on its own row (issue 17: one job layer).

Analysis jobs, retraining runs and gesture adaptation sessions are each one
row that a Celery task claims and updates (clinic/services/jobs.py). They share
the fields here; the rest of each row (the upload, the training settings, the
calibration files) stays on the concrete model.

This is an abstract model: it has no table, and each concrete model keeps its
own table and columns, exactly as before.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models


class JobStatus(models.TextChoices):
    """The life of a job; a kind may add its own finished values (CANCELLED)."""

    QUEUED = "QUEUED", "Queued"
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"


class TrackedJob(models.Model):
    """A job whose state lives on its row: status, progress, error, lease."""

    Status = JobStatus
    #: A job in one of these is never claimed again; a kind with more finished
    #: values (a retraining's CANCELLED) lists them here.
    FINISHED_STATUSES: tuple[str, ...] = (JobStatus.SUCCEEDED, JobStatus.FAILED)

    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )
    # What the user reads when the job FAILED: never a traceback.
    error_message = models.TextField(blank=True)
    task_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Lease (clinic/services/jobs.py): renewed while a worker runs the job.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES
