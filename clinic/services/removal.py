"""Removing a failed upload from the lists (issue 16).

A clinician who sent the wrong file, or a recording that could not be
analysed, should be able to clear it from the recordings list. Removal is
soft: the row, its jobs and its stored files stay (the files are
content-addressed and may be shared with other uploads, and the audit trail
must still be able to name what was removed); the selectors hide it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clinic.errors import UserFacingError
from clinic.models import AnalysisJob, AuditEvent, Result, Upload
from clinic.services.audit import audit_record


def upload_removal_problem(upload: Upload) -> str | None:
    """Why ``upload`` cannot be removed, in words; None when it can.

    Only uploads whose every analysis failed or found the recording not
    analysable qualify: a result a clinician may have read, or a confirmed
    diagnosis that feeds retraining and the auditor reports, must stay.
    """
    jobs = list(upload.jobs.all())
    if any(not job.is_finished for job in jobs):
        return "It is still being analysed; wait until the analysis has finished."
    for job in jobs:
        # A job without a result raises RelatedObjectDoesNotExist, an AttributeError.
        result = getattr(job, "result", None)
        if job.status == AnalysisJob.Status.SUCCEEDED and result is not None:
            if result.label != Result.NOT_ANALYSABLE:
                return (
                    "It has a result that clinicians may have read, so it stays "
                    "in the record; only failed or not-analysable uploads can be "
                    "removed."
                )
    # .all() reads a page's prefetched rows (no query per row of a list).
    if upload.confirmed_diagnoses.all():
        return (
            "It carries a confirmed diagnosis, which retraining and the auditor "
            "reports rely on."
        )
    return None


def upload_may_remove(*, user, upload: Upload) -> bool:
    """The uploader may remove their own upload, an admin anyone's."""
    if user.has_perm("clinic.delete_upload"):
        return True
    return upload.uploaded_by_id == user.pk and user.has_perm("clinic.add_upload")


@transaction.atomic
def upload_remove(*, user, upload: Upload, reason: str) -> Upload:
    """Hide ``upload`` from every list and page; audited with the reason."""
    # Lock the row: two removals (or a re-analysis started meanwhile) must not
    # both pass the checks.
    locked = Upload.objects.select_for_update().get(pk=upload.pk)
    if locked.removed_at is not None:
        raise UserFacingError("This upload has already been removed.")
    problem = upload_removal_problem(locked)
    if problem:
        raise UserFacingError(f"This upload cannot be removed. {problem}")
    locked.removed_at = timezone.now()
    locked.removed_by = user
    locked.removal_reason = reason
    locked.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    audit_record(
        actor=user,
        action=AuditEvent.Action.UPLOAD_REMOVED,
        obj=locked,
        details={
            "reason": reason,
            "patient_code": locked.patient_code,
            "files": [f.original_name for f in locked.files.all()],
        },
    )
    return locked
