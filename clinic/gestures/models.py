"""Rows of the gesture adaptation section: pretrained models, sessions, files."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from clinic.job_model import TrackedJob
from clinic.models import Team, patient_code_validator
from clinic.stored_files import content_name

MAX_K = 10


class GestureModel(models.Model):
    """A registered pretrained gesture checkpoint (the starting point of sessions)."""

    name = models.CharField(max_length=100)
    dataset = models.CharField(
        max_length=64, help_text="emgcore gesture dataset spec, e.g. myo-readings."
    )
    layout = models.CharField(
        max_length=32, help_text="File layout the checkpoint's dataset uses."
    )
    checkpoint_path = models.CharField(
        max_length=500, help_text="Relative to EMG_MODEL_DIR (or absolute)."
    )
    sha256 = models.CharField(max_length=64, unique=True)
    metadata = models.JSONField(default=dict, blank=True)
    model_card = models.TextField(blank=True)
    is_enabled = models.BooleanField(
        default=True, help_text="Offered for new adaptation sessions."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:12]})"

    @property
    def class_names(self) -> list[str]:
        return list((self.metadata or {}).get("class_names", []))

    @property
    def sfreq(self) -> float | None:
        return (self.metadata or {}).get("sfreq")

    @property
    def n_chans(self) -> int | None:
        return (self.metadata or {}).get("n_chans")


class GestureSession(TrackedJob):
    """One person's calibration recordings and the adaptation job run on them.

    The job's state lives on this row; a successful run keeps the adapted
    checkpoint as this person's version of the base model.
    """

    person_code = models.CharField(
        max_length=32, validators=[patient_code_validator], db_index=True
    )
    base_model = models.ForeignKey(
        GestureModel, on_delete=models.PROTECT, related_name="sessions"
    )
    layout = models.CharField(max_length=32)
    sfreq_hz = models.FloatField(
        null=True, blank=True, help_text="Sampling rate of CSV files."
    )
    k = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_K)],
        help_text="Adaptation trials per gesture; later trials are held back.",
    )
    seed = models.IntegerField(default=0)
    history = models.JSONField(
        default=list, blank=True, help_text="One record per adaptation epoch."
    )
    report = models.JSONField(default=dict, blank=True)
    adapted_checkpoint = models.FileField(max_length=255, blank=True)
    adapted_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(TrackedJob.Meta):
        permissions = [
            (
                "view_all_gesturesessions",
                "Can view the gesture sessions of every team (read-only)",
            ),
        ]

    def __str__(self) -> str:
        return f"Gesture session {self.pk} ({self.person_code}, {self.status})"


#: Where calibration files and adapted checkpoints lie in the file store
#: (clinic.stored_files).
CALIBRATION_PREFIX = "gestures/calibration"
ADAPTED_PREFIX = "gestures/adapted"


def calibration_file_path(instance: GestureCalibrationFile, filename: str) -> str:
    """Content-addressed storage name: the same bytes always get the same name."""
    return content_name(CALIBRATION_PREFIX, instance.sha256, filename)


class GestureCalibrationFile(models.Model):
    """One stored calibration file of a session; the stored bytes never change."""

    session = models.ForeignKey(
        GestureSession, on_delete=models.CASCADE, related_name="files"
    )
    file = models.FileField(upload_to=calibration_file_path, max_length=255)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"
