"""Database rows of the clinic: uploads, analysis jobs, results, models, audit."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import Q

from clinic.job_model import TrackedJob
from clinic.stored_files import content_name

PATIENT_CODE_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
patient_code_validator = RegexValidator(
    PATIENT_CODE_PATTERN,
    "Use 1 to 32 letters, digits, '-' or '_' (a pseudonym, never a name).",
)


class WorkerHeartbeat(models.Model):
    """When a Celery worker last processed a task; one row per queue."""

    queue = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.queue} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class Team(models.Model):
    """A group of clinicians who share their uploads."""

    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """Per-user clinic data; roles are Django groups (clinician, admin, auditor)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.team or 'no team'})"


class Upload(models.Model):
    """One recording (one or more files) submitted for analysis."""

    class Side(models.TextChoices):
        LEFT = "LEFT", "Left"
        RIGHT = "RIGHT", "Right"
        NOT_APPLICABLE = "NA", "Not applicable"

    class ElectrodeType(models.TextChoices):
        NEEDLE = "NEEDLE", "Needle"
        SURFACE = "SURFACE", "Surface"
        UNKNOWN = "UNKNOWN", "Not stated"

    patient_code = models.CharField(
        max_length=32, validators=[patient_code_validator], db_index=True
    )
    muscle = models.CharField(max_length=64, blank=True)
    side = models.CharField(
        max_length=5, choices=Side.choices, default=Side.NOT_APPLICABLE
    )
    electrode_type = models.CharField(
        max_length=7, choices=ElectrodeType.choices, default=ElectrodeType.UNKNOWN
    )
    notes = models.TextField(blank=True)
    sfreq_hz = models.FloatField(
        null=True, blank=True, help_text="Sampling rate for files that do not state it."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="uploads"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="uploads"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Soft removal of a failed upload (clinic.services.removal): the row and its
    # stored files stay, for the audit trail; every list and page hides it.
    removed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    removal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_all_uploads", "Can view the uploads of every team (read-only)"),
            ("view_upload_notes", "Can read the free-text notes of uploads"),
            ("export_result", "Can export results as JSON or CSV"),
        ]

    def __str__(self) -> str:
        return f"Upload {self.pk} ({self.patient_code}, {self.muscle})"

    @property
    def latest_job(self) -> AnalysisJob | None:
        return self.jobs.order_by("-created_at", "-id").first()


#: Where recordings lie in the file store (clinic.stored_files).
UPLOADS_PREFIX = "uploads"


def upload_file_path(instance: UploadFile, filename: str) -> str:
    """Content-addressed storage name: the same bytes always get the same name."""
    return content_name(UPLOADS_PREFIX, instance.sha256, filename)


class UploadFile(models.Model):
    """One stored file of an upload; the stored bytes never change."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=upload_file_path, max_length=255)
    original_name = models.CharField(max_length=255)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"


class ModelVersion(models.Model):
    """A registered checkpoint; at most one is active per kind."""

    class Kind(models.TextChoices):
        DISEASE = "DISEASE", "Disease classification"
        GESTURE = "GESTURE", "Gesture decoding"

    class Status(models.TextChoices):
        CANDIDATE = "CANDIDATE", "Candidate"
        ACTIVE = "ACTIVE", "Active"
        RETIRED = "RETIRED", "Retired"

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DISEASE)
    checkpoint_path = models.CharField(
        max_length=500, help_text="Relative to EMG_MODEL_DIR (or absolute)."
    )
    sha256 = models.CharField(max_length=64)
    metadata = models.JSONField(default=dict, blank=True)
    model_card = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.CANDIDATE
    )
    previous_active = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The version that was active before this one was promoted.",
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    # Set when the version was activated although it misses the promotion
    # thresholds (only the shipped default at installation); shown with results.
    activation_note = models.TextField(blank=True)
    report_cache = models.JSONField(
        default=dict,
        blank=True,
        help_text="Evaluation curves computed on demand for the auditor report.",
    )
    # Provenance (clinic.provenance documents the keys): how the card's
    # figures were measured, and which people and recordings trained the weights.
    evaluation = models.JSONField(
        default=dict,
        blank=True,
        help_text="The evaluation's protocol, data, people and recordings.",
    )
    training_data = models.JSONField(
        default=dict,
        blank=True,
        help_text="The datasets, people and recording sha256s the model saw.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("promote_modelversion", "Can promote and roll back model versions"),
            ("view_model_report", "Can read the per-class reports of model versions"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(is_active=True),
                name="one_active_model_per_kind",
            ),
            models.UniqueConstraint(
                fields=["name", "version"], name="unique_model_name_version"
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(status="ACTIVE"),
                name="active_flag_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class AnalysisJob(TrackedJob):
    """The asynchronous analysis of one upload; its state lives on this row."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="jobs")
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.status})"


class Result(models.Model):
    """What the model said about one job's recording."""

    job = models.OneToOneField(
        AnalysisJob, on_delete=models.CASCADE, related_name="result"
    )
    # A recording the signal-quality gate refused (emgcore.gate) gets the label
    # "not_analysable", no probabilities and no confidence (a database check).
    NOT_ANALYSABLE = "not_analysable"

    probabilities = models.JSONField(null=True, blank=True)
    label = models.CharField(max_length=32)
    confidence = models.FloatField(null=True, blank=True)
    gate = models.JSONField(
        default=dict,
        blank=True,
        help_text="emgcore.gate verdict: reasons, excluded seconds and fraction.",
    )
    windows = models.JSONField(default=list, blank=True)
    quality = models.JSONField(default=dict, blank=True)
    features = models.JSONField(default=dict, blank=True)
    notes = models.JSONField(
        default=list, blank=True, help_text="What the reader should know (emgcore)."
    )
    signal_preview = models.JSONField(
        default=dict, blank=True, help_text="Decimated raw/filtered signal for plots."
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="results"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(label="not_analysable")
                    & Q(probabilities__isnull=True)
                    & Q(confidence__isnull=True)
                )
                | (
                    ~Q(label="not_analysable")
                    & Q(probabilities__isnull=False)
                    & Q(confidence__isnull=False)
                ),
                name="not_analysable_has_no_probabilities",
            ),
        ]

    def __str__(self) -> str:
        return f"Result of job {self.job_id}: {self.label}"

    @property
    def analysable(self) -> bool:
        return self.label != self.NOT_ANALYSABLE


class ConfirmedDiagnosis(models.Model):
    """The clinical diagnosis a clinician recorded later for an upload."""

    class Diagnosis(models.TextChoices):
        HEALTHY = "HEALTHY", "Healthy"
        MYOPATHY = "MYOPATHY", "Myopathy"
        NEUROPATHY = "NEUROPATHY", "Neuropathy"
        OTHER = "OTHER", "Other"

    upload = models.ForeignKey(
        Upload, on_delete=models.CASCADE, related_name="confirmed_diagnoses"
    )
    diagnosis = models.CharField(max_length=10, choices=Diagnosis.choices)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-confirmed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_diagnosis_display()} for upload {self.upload_id}"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only: rows cannot be updated.")

    def delete(self):
        raise PermissionError("The audit trail is append-only: rows cannot be deleted.")


class AuditEvent(models.Model):
    """One entry of the append-only audit trail."""

    class Action(models.TextChoices):
        LOGIN = "LOGIN", "Logged in"
        LOGOUT = "LOGOUT", "Logged out"
        LOGIN_FAILED = "LOGIN_FAILED", "Login failed"
        LOCKED_OUT = "LOCKED_OUT", "Locked out after failed logins"
        UNLOCKED = "UNLOCKED", "Unlocked a locked-out login"
        UPLOADED = "UPLOADED", "Uploaded"
        VIEWED = "VIEWED", "Viewed"
        EXPORTED = "EXPORTED", "Exported"
        CONFIRMED = "CONFIRMED", "Confirmed diagnosis"
        REGISTERED = "REGISTERED", "Registered model"
        PROMOTED = "PROMOTED", "Promoted model"
        PROMOTION_REFUSED = "PROMOTION_REFUSED", "Promotion refused"
        ROLLED_BACK = "ROLLED_BACK", "Rolled back model"
        RETRAINED = "RETRAINED", "Retrained model"
        RETRAINING_STARTED = "RETRAINING_STARTED", "Started a retraining"
        RETRAINING_CANCELLED = "RETRAINING_CANCELLED", "Cancelled a retraining"
        REPORT_COMPUTED = "REPORT_COMPUTED", "Computed report curves"
        UPLOAD_REMOVED = "UPLOAD_REMOVED", "Removed a failed upload"
        TOKEN_CREATED = "TOKEN_CREATED", "Created API token"
        ADAPTED = "ADAPTED", "Adapted gesture model"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(max_length=24, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=50, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("export_auditevent", "Can export the audit trail as CSV")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The audit trail is append-only: rows cannot change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only: rows cannot be deleted.")


class RetrainingRun(TrackedJob):
    """One retraining of a disease model, started by an admin; runs on the
    ``training`` queue and records its progress on this row."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"
        CANCELLED = "CANCELLED", "Cancelled"

    FINISHED_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    class Method(models.TextChoices):
        TL = "tl", "Fine-tune the base model (transfer learning)"
        SCRATCH = "scratch", "Train the same architecture from scratch"

    base_model = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="retraining_runs"
    )
    # N2001 by default: several people per class, so whole people can be held
    # out for the evaluation (emgdb has one person per class).
    use_emgdb = models.BooleanField("PhysioNet emgdb (built-in)", default=False)
    use_n2001 = models.BooleanField("EMGLAB N2001 (built-in)", default=True)
    use_confirmed = models.BooleanField("Clinician-confirmed uploads", default=False)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.TL)
    epochs = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    learning_rate = models.FloatField(
        default=1e-4, validators=[MinValueValidator(1e-7), MaxValueValidator(1.0)]
    )
    seed = models.PositiveIntegerField(default=0)
    # Its own choices: CANCELLED besides the statuses every job has.
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    history = models.JSONField(
        default=list, blank=True, help_text="One entry per epoch (loss, val acc)."
    )
    data_summary = models.JSONField(default=dict, blank=True)
    cancel_requested = models.BooleanField(default=False)
    candidate = models.ForeignKey(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="produced_by_runs",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(TrackedJob.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(use_emgdb=True) | Q(use_n2001=True) | Q(use_confirmed=True),
                name="retraining_has_training_data",
            ),
        ]

    def __str__(self) -> str:
        return f"Retraining {self.pk} ({self.status})"

    @property
    def data_sources(self) -> list[str]:
        names = []
        if self.use_emgdb:
            names.append("emgdb")
        if self.use_n2001:
            names.append("N2001")
        if self.use_confirmed:
            names.append("confirmed uploads")
        return names
