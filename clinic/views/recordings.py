"""Uploads and the clinician's recordings: upload, list, one patient, remove, re-analyse.

The list searches by patient-code prefix; a patient's page shows their
recordings over time; only a failed upload can be removed (with a reason).

Thin views (STYLE.md §2): permission -> form -> one service -> render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clinic import selectors, services
from clinic.errors import UserFacingError
from clinic.forms import UploadForm
from clinic.forms_governance import ConfirmWithReasonForm
from clinic.models import AnalysisJob
from clinic.result_display import job_outcome
from clinic.services.quota import UploadQuotaExceeded
from clinic.views._common import _require, upload_too_large_page


def _job_url(job: AnalysisJob | None) -> str | None:
    if job is None:
        return None
    if job.status == AnalysisJob.Status.SUCCEEDED and hasattr(job, "result"):
        return reverse("job_result", args=[job.pk])
    return reverse("job_detail", args=[job.pk])


def _row(request: HttpRequest, upload) -> dict:
    """One upload as a list row: its latest analysis and what it came to."""
    jobs = list(upload.jobs.all())  # prefetched, newest first
    latest = jobs[0] if jobs else None
    confirmed = list(upload.confirmed_diagnoses.all())
    removable = services.upload_may_remove(
        user=request.user, upload=upload
    ) and not services.upload_removal_problem(upload)
    return {
        "upload": upload,
        "job": latest,
        "outcome": job_outcome(latest),
        "url": _job_url(latest),
        "confirmed": confirmed[0] if confirmed else None,
        "removable": removable,
        "analyses": [
            {"job": j, "outcome": job_outcome(j), "url": _job_url(j)} for j in jobs
        ],
    }


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    patient_code = request.GET.get("patient", "").strip()[:32]
    uploads = selectors.with_jobs_and_results(
        selectors.uploads_list_for_user(user=request.user, patient_code=patient_code)
    )
    page = Paginator(uploads, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "clinic/uploads/list.html",
        {
            "page": page,
            "rows": [_row(request, u) for u in page.object_list],
            "patient": patient_code,
        },
    )


@login_required
@require_GET
def patient_detail(request: HttpRequest, patient_code: str) -> HttpResponse:
    """One patient's recordings and every analysis of them, oldest first."""
    uploads = selectors.patient_uploads_for_user(
        user=request.user, patient_code=patient_code
    )
    rows = [_row(request, u) for u in uploads]
    return render(
        request,
        "clinic/uploads/patient.html",
        {"patient_code": rows[0]["upload"].patient_code, "rows": rows},
    )


@login_required
def upload_new(request: HttpRequest) -> HttpResponse:
    _require(request, "clinic.add_upload")
    refused = upload_too_large_page(request, UploadForm, "clinic/uploads/new.html")
    if refused is not None:
        return refused
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.upload_create(user=request.user, **form.upload_fields())
        except UploadQuotaExceeded as exc:
            form.add_error(None, str(exc))
            return render(
                request, "clinic/uploads/new.html", {"form": form}, status=429
            )
        return redirect("job_detail", job_id=job.pk)
    status = 400 if form.is_bound else 200
    return render(request, "clinic/uploads/new.html", {"form": form}, status=status)


@login_required
def upload_remove(request: HttpRequest, upload_id: int) -> HttpResponse:
    """GET: what would be removed and a confirmation with a reason; POST: remove."""
    upload = selectors.upload_get_for_removal(user=request.user, upload_id=upload_id)
    if not services.upload_may_remove(user=request.user, upload=upload):
        raise PermissionDenied
    problem = services.upload_removal_problem(upload)
    form = ConfirmWithReasonForm(
        # Bound on every POST, an empty one too: no tick is an error, not a GET.
        request.POST if request.method == "POST" else None,
        confirm_label="Remove this upload from the recordings lists. Its files "
        "and the record of its analyses are kept.",
    )
    status = 200
    if request.method == "POST":
        if problem:
            status = 400
        elif form.is_valid():
            try:
                services.upload_remove(
                    user=request.user,
                    upload=upload,
                    reason=form.cleaned_data["reason"],
                )
            except UserFacingError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    f"The upload of {upload.patient_code} was removed from the lists.",
                )
            return redirect("dashboard")
        else:
            status = 400
    row = _row(request, upload)
    return render(
        request,
        "clinic/uploads/remove.html",
        {"row": row, "upload": upload, "form": form, "problem": problem},
        status=status,
    )


@login_required
@require_POST
def upload_reanalyse(request: HttpRequest, upload_id: int) -> HttpResponse:
    """Analyse an upload again, with the model that is active now."""
    _require(request, "clinic.add_upload")
    upload = selectors.upload_get_for_user(user=request.user, upload_id=upload_id)
    job = services.analysis_request(upload=upload)
    return redirect("job_detail", job_id=job.pk)
