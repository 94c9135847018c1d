"""The read side of the clinic: what each user may see (STYLE.md §1).

Clinicians see their team's uploads (their own when they have no team);
users with ``view_all_uploads`` (auditors) see every upload read-only, of
every team and of team-less users alike (docs/SECURITY.md, "Who sees what");
other users see none. Removed uploads (clinic.services.removal) are hidden
from everyone. Objects a user may not see raise Http404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

# The job pages' clock (elapsed time, estimate) is read side too.
from clinic.job_timing import (  # noqa: F401
    analysis_job_timing,
    retraining_run_timing,
)
from clinic.models import (
    AnalysisJob,
    AuditEvent,
    ModelVersion,
    Profile,
    Result,
    RetrainingRun,
    Upload,
    UploadFile,
)


def user_team_id(user) -> int | None:
    """The id of ``user``'s team (None without one)."""
    return Profile.objects.filter(user=user).values_list("team_id", flat=True).first()


def uploads_list_for_user(*, user, patient_code: str = "") -> QuerySet[Upload]:
    """Uploads ``user`` may see, newest first; optionally only those whose
    patient code starts with ``patient_code`` (any case: "p-00" finds "P-0012")."""
    # Removed uploads keep their row and files for the audit trail, but no
    # list or page shows them again.
    qs = Upload.objects.select_related("uploaded_by", "team").filter(
        removed_at__isnull=True
    )
    if patient_code.strip():
        qs = qs.filter(patient_code__istartswith=patient_code.strip())
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.has_perm("clinic.view_all_uploads"):
        return qs
    if not user.has_perm("clinic.view_upload"):
        return qs.none()
    team_id = user_team_id(user)
    if team_id is None:
        return qs.filter(uploaded_by=user)
    return qs.filter(Q(team_id=team_id) | Q(uploaded_by=user))


def with_jobs_and_results(qs: QuerySet[Upload]) -> QuerySet[Upload]:
    """``qs`` with each upload's jobs (newest first) and their results, and its
    confirmed diagnoses, fetched in three queries for a whole page."""
    jobs = AnalysisJob.objects.select_related("result", "model_version").order_by(
        "-created_at", "-id"
    )
    return qs.prefetch_related(Prefetch("jobs", queryset=jobs), "confirmed_diagnoses")


def patient_uploads_for_user(*, user, patient_code: str) -> QuerySet[Upload]:
    """One patient's uploads that ``user`` may see, oldest first (a timeline);
    404 when there are none, so a page never tells whether a code exists."""
    qs = uploads_list_for_user(user=user).filter(
        patient_code__iexact=patient_code.strip()
    )
    if not qs.exists():
        raise Http404("No recordings of this patient.")
    return with_jobs_and_results(qs.order_by("created_at", "id"))


def upload_get_for_removal(*, user, upload_id: int) -> Upload:
    """An upload ``user`` may look at to remove it: admins (``delete_upload``)
    any that is not removed, others those they may see (404 otherwise)."""
    qs = Upload.objects.filter(removed_at__isnull=True)
    if not user.has_perm("clinic.delete_upload"):
        qs = uploads_list_for_user(user=user)
    try:
        return with_jobs_and_results(qs.select_related("uploaded_by")).get(pk=upload_id)
    except Upload.DoesNotExist:
        raise Http404("No such upload.") from None


def upload_get_for_user(*, user, upload_id: int) -> Upload:
    try:
        return uploads_list_for_user(user=user).get(pk=upload_id)
    except Upload.DoesNotExist:
        raise Http404("No such upload.") from None


def jobs_list_for_user(*, user) -> QuerySet[AnalysisJob]:
    return AnalysisJob.objects.select_related(
        "upload", "model_version", "result"
    ).filter(upload__in=uploads_list_for_user(user=user))


def job_get_for_user(*, user, job_id: int) -> AnalysisJob:
    try:
        return jobs_list_for_user(user=user).get(pk=job_id)
    except AnalysisJob.DoesNotExist:
        raise Http404("No such job.") from None


def result_get_for_user(*, user, result_id: int) -> Result:
    """A result of a job ``user`` may see (404 otherwise)."""
    try:
        return Result.objects.select_related("job__upload", "model_version").get(
            pk=result_id, job__in=jobs_list_for_user(user=user)
        )
    except Result.DoesNotExist:
        raise Http404("No such result.") from None


def upload_file_get_for_user(*, user, upload_id: int, file_id: int) -> UploadFile:
    upload = upload_get_for_user(user=user, upload_id=upload_id)
    try:
        return upload.files.get(pk=file_id)
    except UploadFile.DoesNotExist:
        raise Http404("No such file.") from None


def job_status_payload(job: AnalysisJob) -> dict[str, Any]:
    """The small JSON the job page and the API poll."""
    result = None
    if job.status == AnalysisJob.Status.SUCCEEDED and hasattr(job, "result"):
        r = job.result
        result = {
            "probabilities": r.probabilities,
            "label": r.label,
            "confidence": r.confidence,
            "analysable": r.analysable,
            "message": (r.gate or {}).get("message") or None,
            "reasons": [x.get("message") for x in (r.gate or {}).get("reasons", [])],
            "excluded_s": (r.gate or {}).get("excluded_s"),
            "excluded_fraction": (r.gate or {}).get("excluded_fraction"),
            # Quantitative EMG beside the probabilities (emgcore.qemg_report).
            "qemg": (r.features or {}).get("qemg"),
            "model": {
                "name": r.model_version.name,
                "version": r.model_version.version,
                "sha256": r.model_version.sha256,
            },
        }
    return {
        "id": job.pk,
        "status": job.status,
        "progress": job.progress,
        "error": job.error_message or None,
        "finished": job.is_finished,
        "result": result,
    }


def model_versions_list(*, kind: str | None = None) -> QuerySet[ModelVersion]:
    qs = ModelVersion.objects.all()
    return qs.filter(kind=kind) if kind else qs


def model_version_active_or_none(
    *, kind: str = ModelVersion.Kind.DISEASE
) -> ModelVersion | None:
    return ModelVersion.objects.filter(kind=kind, is_active=True).first()


def model_version_get(*, model_version_id: int) -> ModelVersion:
    try:
        return ModelVersion.objects.get(pk=model_version_id)
    except ModelVersion.DoesNotExist:
        raise Http404("No such model version.") from None


def _metric_value(raw: Any) -> dict[str, float | None] | None:
    """Normalise one metric: a number, or a dict with a value and a CI."""
    if raw is None:
        return None
    if isinstance(raw, int | float):
        return {"value": float(raw), "ci_low": None, "ci_high": None}
    if isinstance(raw, dict):
        value = next(
            (raw[k] for k in ("value", "estimate", "point", "mean") if k in raw), None
        )
        low = next((raw[k] for k in ("ci_low", "low", "lower") if k in raw), None)
        high = next((raw[k] for k in ("ci_high", "high", "upper") if k in raw), None)
        ci = raw.get("ci") or raw.get("ci95")
        if isinstance(ci, list | tuple) and len(ci) == 2:
            low, high = ci
        if value is None:
            return None
        return {
            "value": float(value),
            "ci_low": None if low is None else float(low),
            "ci_high": None if high is None else float(high),
        }
    return None


def _per_class_report(metrics: dict[str, Any]) -> dict[str, Any]:
    """``per_class`` of an emgcore.metrics report, at the top or under a split."""
    if isinstance(metrics.get("per_class"), dict):
        return metrics["per_class"]
    # n2001_loso: the shipped default model's leave-one-subject-out estimate
    # (emgcore.disease_model), the best evidence of performance on new people.
    for split in ("test", "evaluation", "eval", "val", "validation", "n2001_loso"):
        sub = metrics.get(split)
        if isinstance(sub, dict) and isinstance(sub.get("per_class"), dict):
            return sub["per_class"]
    return {}


def model_version_class_metrics(
    model_version: ModelVersion,
) -> dict[str, dict[str, dict[str, float | None] | None]]:
    """Per-class sensitivity and specificity, each {value, ci_low, ci_high} or None.

    Reads the checkpoint metadata's ``metrics`` in the layout of
    ``emgcore.metrics.report_with_ci`` (``per_class[cls]["sensitivity"]`` and
    ``["sensitivity_ci"]``), at the top level or under a split such as ``test``.
    Returns {} when the version was never evaluated.
    """
    meta = model_version.metadata or {}
    per_class = _per_class_report(meta.get("metrics") or {})
    classes = list(meta.get("class_names") or per_class)
    out: dict[str, dict[str, dict[str, float | None] | None]] = {}
    for cls in classes:
        row = per_class.get(cls) or {}
        values: dict[str, dict[str, float | None] | None] = {}
        for metric in ("sensitivity", "specificity"):
            raw = row.get(metric)
            ci = row.get(f"{metric}_ci")
            if isinstance(raw, int | float) and isinstance(ci, list | tuple):
                raw = {"value": raw, "ci": ci}
            values[metric] = _metric_value(raw)
        out[cls] = values
    if not any(v for values in out.values() for v in values.values()):
        return {}
    return out


def audit_events_list(
    *,
    action: str | None = None,
    actor_username: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events, newest first; ``since``/``until`` are inclusive dates."""
    qs = AuditEvent.objects.select_related("actor")
    if action:
        qs = qs.filter(action=action)
    if actor_username:
        qs = qs.filter(actor__username=actor_username)
    if since:
        qs = qs.filter(created_at__date__gte=since)
    if until:
        qs = qs.filter(created_at__date__lte=until)
    return qs


def retraining_runs_list(*, user) -> QuerySet[RetrainingRun]:
    """Retraining runs, newest first, for users who may see them (admins)."""
    qs = RetrainingRun.objects.select_related("base_model", "candidate", "started_by")
    if not user.is_authenticated or not user.has_perm("clinic.view_retrainingrun"):
        return qs.none()
    return qs


def retraining_run_get_for_user(*, user, run_id: int) -> RetrainingRun:
    try:
        return retraining_runs_list(user=user).get(pk=run_id)
    except RetrainingRun.DoesNotExist:
        raise Http404("No such retraining run.") from None


def retraining_candidate_registered(*, run_id: int) -> ModelVersion | None:
    """The candidate ModelVersion that run ``run_id`` registered, if any.

    Its version is ``retrain-<run>`` and its metrics name the run
    (clinic/services/retraining.py: _train_candidate).
    """
    return ModelVersion.objects.filter(
        version=f"retrain-{run_id}", metadata__metrics__retraining_run=run_id
    ).first()


def retraining_status_payload(run: RetrainingRun) -> dict[str, Any]:
    """The small JSON the run page and the API poll."""
    candidate = None
    if run.candidate_id is not None:
        mv = run.candidate
        candidate = {
            "id": mv.pk,
            "name": mv.name,
            "version": mv.version,
            "sha256": mv.sha256,
            "status": mv.status,
            "metrics": model_version_class_metrics(mv),
        }
    return {
        "id": run.pk,
        "status": run.status,
        "progress": run.progress,
        "epochs": run.epochs,
        "history": run.history,
        "data": run.data_summary,
        "error": run.error_message or None,
        "cancel_requested": run.cancel_requested,
        "finished": run.is_finished,
        "candidate": candidate,
    }
