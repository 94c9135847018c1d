"""One analysis job: its progress, its result page and report, exports, confirmation.

The result page, the printable report and the JSON/CSV exports read the same
succeeded job; a clinician confirms the diagnosis from the result page.

Thin views (STYLE.md §2): permission -> form -> one service -> render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clinic import selectors, services
from clinic.forms import (
    ConfirmedDiagnosisForm,
)
from clinic.models import AnalysisJob
from clinic.plots import result_figure
from clinic.result_display import result_headline
from clinic.views._common import _require


def _succeeded_job(request: HttpRequest, job_id: int) -> AnalysisJob:
    job = selectors.job_get_for_user(user=request.user, job_id=job_id)
    if job.status != AnalysisJob.Status.SUCCEEDED or not hasattr(job, "result"):
        raise Http404("This job has no result.")
    return job


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_user(user=request.user, job_id=job_id)
    upload = job.upload
    may_remove = services.upload_may_remove(user=request.user, upload=upload)
    return render(
        request,
        "clinic/jobs/detail.html",
        {
            "job": job,
            "upload": upload,
            "status": selectors.job_status_payload(job),
            "timing": selectors.analysis_job_timing(job),
            # Offered on a failed job's next steps (a finished, failed upload).
            "can_remove": may_remove and not services.upload_removal_problem(upload),
        },
    )


@login_required
@require_GET
def job_status(request: HttpRequest, job_id: int) -> JsonResponse:
    job = selectors.job_get_for_user(user=request.user, job_id=job_id)
    payload = selectors.job_status_payload(job)
    payload["timing"] = selectors.analysis_job_timing(job)
    if payload["result"] is not None:
        payload["result_url"] = reverse("job_result", args=[job.pk])
    return JsonResponse(payload)


def _result_context(request: HttpRequest, job: AnalysisJob, **extra) -> dict:
    result = job.result
    mv = result.model_version
    upload = job.upload
    probabilities = sorted(
        (result.probabilities or {}).items(), key=lambda kv: kv[1], reverse=True
    )
    can_confirm = request.user.has_perm("clinic.add_confirmeddiagnosis")
    return {
        "job": job,
        "upload": upload,
        "result": result,
        "model_version": mv,
        # Registration names a version after its hash unless told otherwise.
        "model_version_named_by_hash": bool(mv.version)
        and mv.sha256.startswith(mv.version),
        "probabilities": probabilities,
        "class_metrics": selectors.model_version_class_metrics(mv),
        "min_confidence": (mv.metadata or {}).get("min_confidence"),
        "headline": result_headline(result),
        "confirmed": upload.confirmed_diagnoses.select_related("confirmed_by").first(),
        "can_confirm": can_confirm,
        "can_export": request.user.has_perm("clinic.export_result"),
        "can_reanalyse": request.user.has_perm("clinic.add_upload"),
        # A not-analysable recording may be removed from the lists (by its
        # uploader or an admin); other results stay.
        "can_remove": not result.analysable
        and services.upload_may_remove(user=request.user, upload=upload)
        and not services.upload_removal_problem(upload),
        "active_model": selectors.model_version_active_or_none(),
        "show_notes": request.user.has_perm("clinic.view_upload_notes"),
        "confirm_form": extra.pop("confirm_form", None)
        or (ConfirmedDiagnosisForm() if can_confirm else None),
        **extra,
    }


def _result_page(request: HttpRequest, job_id: int, template: str) -> HttpResponse:
    # The page and its printable report show the same result: both are views.
    job = _succeeded_job(request, job_id)
    services.result_view_record(user=request.user, job=job)
    context = _result_context(request, job, figure=result_figure(job.result))
    return render(request, template, context)


@login_required
@require_GET
def job_result(request: HttpRequest, job_id: int) -> HttpResponse:
    return _result_page(request, job_id, "clinic/results/detail.html")


@login_required
@require_GET
def job_report(request: HttpRequest, job_id: int) -> HttpResponse:
    return _result_page(request, job_id, "clinic/results/report.html")


@login_required
@require_GET
def job_export(request: HttpRequest, job_id: int, fmt: str) -> HttpResponse:
    _require(request, "clinic.export_result")
    job = _succeeded_job(request, job_id)
    content, content_type, filename = services.result_export(
        user=request.user, job=job, fmt=fmt
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def job_confirm(request: HttpRequest, job_id: int) -> HttpResponse:
    _require(request, "clinic.add_confirmeddiagnosis")
    job = _succeeded_job(request, job_id)
    form = ConfirmedDiagnosisForm(request.POST)
    if form.is_valid():
        services.confirmed_diagnosis_create(
            user=request.user, upload=job.upload, **form.diagnosis_fields()
        )
        messages.success(request, "The confirmed diagnosis was recorded.")
        return redirect("job_result", job_id=job.pk)
    context = _result_context(
        request, job, confirm_form=form, figure=result_figure(job.result)
    )
    return render(request, "clinic/results/detail.html", context, status=400)
