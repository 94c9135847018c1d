"""Uploads: storing files, confirmed diagnoses, result views and exports."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from clinic.fhir import bundle_json, result_fhir_bundle
from clinic.models import (
    UPLOADS_PREFIX,
    AnalysisJob,
    AuditEvent,
    ConfirmedDiagnosis,
    Result,
    Upload,
    UploadFile,
)
from clinic.selectors import user_team_id
from clinic.services.analysis import analysis_request
from clinic.services.audit import audit_files_uploaded, audit_record
from clinic.services.quota import upload_files_checked
from clinic.stored_files import (
    stored_file_open_verified,
    uploaded_file_store,
)

logger = logging.getLogger(__name__)


def upload_file_store(*, upload: Upload, f: UploadedFile) -> UploadFile:
    """Store one file under its content address (clinic.stored_files)."""
    stored = uploaded_file_store(f, prefix=UPLOADS_PREFIX, default_name="recording")
    return UploadFile.objects.create(upload=upload, **stored.columns())


@transaction.atomic
def upload_create(
    *,
    user,
    files: Iterable[UploadedFile],
    patient_code: str,
    muscle: str = "",
    side: str = Upload.Side.NOT_APPLICABLE,
    electrode_type: str = Upload.ElectrodeType.UNKNOWN,
    notes: str = "",
    sfreq_hz: float | None = None,
) -> AnalysisJob:
    """Store an upload and its files, audit it and queue its analysis.

    Returns the new (QUEUED) job; the task is sent after the transaction commits.
    Raises UploadQuotaExceeded (nothing stored) past the user's daily quota.
    """
    files = upload_files_checked(user=user, files=files)
    upload = Upload.objects.create(
        patient_code=patient_code,
        muscle=muscle,
        side=side,
        electrode_type=electrode_type,
        notes=notes,
        sfreq_hz=sfreq_hz,
        uploaded_by=user,
        team_id=user_team_id(user),
    )
    stored = [upload_file_store(upload=upload, f=f) for f in files]
    audit_files_uploaded(
        actor=user, obj=upload, files=stored, details={"patient_code": patient_code}
    )
    return analysis_request(upload=upload)


def result_view_record(*, user, job: AnalysisJob) -> None:
    """Audit that ``user`` looked at a job's result."""
    audit_record(
        actor=user,
        action=AuditEvent.Action.VIEWED,
        obj=job,
        details={"patient_code": job.upload.patient_code},
    )


def result_as_dict(result: Result) -> dict:
    """The JSON export of a result (no free-text notes: those may identify people)."""
    job = result.job
    upload = job.upload
    mv = result.model_version
    return {
        "job_id": job.pk,
        "upload": {
            "id": upload.pk,
            "patient_code": upload.patient_code,
            "muscle": upload.muscle,
            "side": upload.side,
            "electrode_type": upload.electrode_type,
            "created_at": upload.created_at.isoformat(),
            "files": [
                {"name": f.original_name, "sha256": f.sha256, "size": f.size_bytes}
                for f in upload.files.all()
            ],
        },
        "label": result.label,
        "outcome": "analysed" if result.analysable else "not_analysable",
        "message": (result.gate or {}).get("message") or None,
        "reasons": [r.get("message") for r in (result.gate or {}).get("reasons", [])],
        "gate": result.gate,
        "confidence": result.confidence,
        "probabilities": result.probabilities,
        "windows": result.windows,
        "quality": result.quality,
        "features": result.features,
        "model": {
            "name": mv.name,
            "version": mv.version,
            "sha256": mv.sha256,
        },
        "created_at": result.created_at.isoformat(),
        "intended_use": "Decision support, not a diagnosis.",
    }


def _flat(prefix: str, value, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), sub, rows)
    elif isinstance(value, list):
        rows.append((prefix, json.dumps(value)))
    else:
        rows.append((prefix, "" if value is None else str(value)))


def result_export(*, user, job: AnalysisJob, fmt: str) -> tuple[str, str, str]:
    """Export a result as JSON or CSV and audit it.

    Returns ``(content, content_type, filename)``. The CSV has one ``field,value``
    row per scalar plus one row per analysis window.
    """
    if fmt not in ("json", "csv"):
        raise ValueError(f"Unknown export format {fmt!r}; use 'json' or 'csv'.")
    data = result_as_dict(job.result)
    name = f"myolens-job{job.pk}-{job.upload.patient_code}"
    if fmt == "json":
        content = json.dumps(data, indent=2)
        content_type = "application/json"
    else:
        summary = {k: v for k, v in data.items() if k != "windows"}
        rows: list[tuple[str, str]] = []
        _flat("", summary, rows)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["field", "value"])
        writer.writerows(rows)
        classes = sorted(data["probabilities"] or {})
        writer.writerow([])
        writer.writerow(["window_start_s", "window_stop_s", *classes])
        for w in data["windows"]:
            probs = w.get("probabilities", {})
            writer.writerow(
                [w.get("start_s"), w.get("stop_s"), *(probs.get(c) for c in classes)]
            )
        content = buf.getvalue()
        content_type = "text/csv"
    audit_record(
        actor=user,
        action=AuditEvent.Action.EXPORTED,
        obj=job,
        details={"format": fmt, "patient_code": job.upload.patient_code},
    )
    return content, content_type, f"{name}.{fmt}"


def result_fhir_export(*, user, result: Result, absolute_url) -> str:
    """The result as a FHIR Bundle (JSON), audited like the other exports."""
    content = bundle_json(result_fhir_bundle(result, absolute_url=absolute_url))
    audit_record(
        actor=user,
        action=AuditEvent.Action.EXPORTED,
        obj=result.job,
        details={"format": "fhir", "patient_code": result.job.upload.patient_code},
    )
    return content


def upload_file_download(*, user, upload_file: UploadFile):
    """Open a stored recording file for download, audited as an export."""
    audit_record(
        actor=user,
        action=AuditEvent.Action.EXPORTED,
        obj=upload_file.upload,
        details={
            "format": "recording",
            "file_id": upload_file.pk,
            "sha256": upload_file.sha256,
            "patient_code": upload_file.upload.patient_code,
        },
    )
    # Verified before the first byte is sent (clinic.stored_files).
    return stored_file_open_verified(
        upload_file.file.name,
        upload_file.sha256,
        label=f'"{upload_file.original_name}"',
    )


def confirmed_diagnosis_create(
    *, user, upload: Upload, diagnosis: str, note: str = ""
) -> ConfirmedDiagnosis:
    """Record the clinical diagnosis confirmed for an upload (latest one counts)."""
    row = ConfirmedDiagnosis.objects.create(
        upload=upload, diagnosis=diagnosis, note=note, confirmed_by=user
    )
    audit_record(
        actor=user,
        action=AuditEvent.Action.CONFIRMED,
        obj=upload,
        details={"diagnosis": diagnosis, "patient_code": upload.patient_code},
    )
    return row
