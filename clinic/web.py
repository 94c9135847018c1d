"""Thin HTML views (STYLE.md §2): permission -> form -> one service -> render.

Every view needs a signed-in user. Objects a user may not see are 404 (the
selectors raise it); actions a role may not take are 403.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clinic import provenance, selectors, services
from clinic.audit_display import audit_rows
from clinic.errors import UserFacingError
from clinic.forms import (
    AuditFilterForm,
    ConfirmedDiagnosisForm,
    RetrainingForm,
    UploadForm,
    upload_request_too_large,
)
from clinic.forms_governance import ConfirmForm
from clinic.models import AnalysisJob, RetrainingRun
from clinic.plots import report_figures, result_figure
from clinic.result_display import result_headline
from clinic.services.quota import UploadQuotaExceeded


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _succeeded_job(request: HttpRequest, job_id: int) -> AnalysisJob:
    job = selectors.job_get_for_user(user=request.user, job_id=job_id)
    if job.status != AnalysisJob.Status.SUCCEEDED or not hasattr(job, "result"):
        raise Http404("This job has no result.")
    return job


@login_required
def upload_new(request: HttpRequest) -> HttpResponse:
    _require(request, "clinic.add_upload")
    if request.method == "POST":
        too_large = upload_request_too_large(request.META.get("CONTENT_LENGTH"))
        if too_large:
            form = UploadForm()
            form.too_large = too_large
            return render(
                request, "clinic/uploads/new.html", {"form": form}, status=413
            )
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


@login_required
@require_GET
def job_result(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _succeeded_job(request, job_id)
    services.result_view_record(user=request.user, job=job)
    context = _result_context(request, job, figure=result_figure(job.result))
    return render(request, "clinic/results/detail.html", context)


@login_required
@require_GET
def job_report(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _succeeded_job(request, job_id)
    services.result_view_record(user=request.user, job=job)
    context = _result_context(request, job, figure=result_figure(job.result))
    return render(request, "clinic/results/report.html", context)


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


@login_required
@require_POST
def upload_reanalyse(request: HttpRequest, upload_id: int) -> HttpResponse:
    """Analyse an upload again, with the model that is active now."""
    _require(request, "clinic.add_upload")
    upload = selectors.upload_get_for_user(user=request.user, upload_id=upload_id)
    job = services.analysis_request(upload=upload)
    return redirect("job_detail", job_id=job.pk)


@login_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    _require(request, "clinic.view_modelversion")
    versions = [
        {
            "mv": mv,
            "metrics": selectors.model_version_class_metrics(mv),
            "problems": services.model_version_promotion_problems(mv),
            "evaluation": provenance.evaluation_summary(mv),
        }
        for mv in selectors.model_versions_list()
    ]
    return render(
        request,
        "clinic/models/list.html",
        {
            "versions": versions,
            "can_promote": request.user.has_perm("clinic.promote_modelversion"),
            "min_sensitivity": settings.EMG_MIN_SENSITIVITY,
            "min_specificity": settings.EMG_MIN_SPECIFICITY,
            "min_people": settings.EMG_MIN_EVAL_PEOPLE_PER_CLASS,
        },
    )


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    _require(request, "clinic.view_auditevent")
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.audit_events_list(
        action=filters.get("action") or None,
        actor_username=filters.get("actor") or None,
        since=filters.get("since"),
        until=filters.get("until"),
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clinic/audit/list.html",
        {
            "form": form,
            "page": page,
            "rows": audit_rows(page.object_list),
            "query": query.urlencode(),
            "can_export": request.user.has_perm("clinic.export_auditevent"),
        },
    )


@login_required
@require_GET
def retraining_list(request: HttpRequest) -> HttpResponse:
    _require(request, "clinic.view_retrainingrun")
    runs = selectors.retraining_runs_list(user=request.user)
    page = Paginator(runs, 25).get_page(request.GET.get("page"))
    return render(request, "clinic/retraining/list.html", {"page": page})


@login_required
def retraining_new(request: HttpRequest) -> HttpResponse:
    _require(request, "clinic.add_retrainingrun")
    form = RetrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.retraining_start(user=request.user, **form.cleaned_data)
        except UserFacingError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("retraining_detail", run_id=run.pk)
    status = 400 if form.is_bound else 200
    return render(request, "clinic/retraining/new.html", {"form": form}, status=status)


@login_required
@require_GET
def retraining_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.retraining_run_get_for_user(user=request.user, run_id=run_id)
    return render(
        request,
        "clinic/retraining/detail.html",
        {
            "run": run,
            "status": selectors.retraining_status_payload(run),
            "timing": selectors.retraining_run_timing(run),
            "can_cancel": request.user.has_perm("clinic.change_retrainingrun"),
        },
    )


@login_required
@require_GET
def retraining_status(request: HttpRequest, run_id: int) -> JsonResponse:
    run = selectors.retraining_run_get_for_user(user=request.user, run_id=run_id)
    payload = selectors.retraining_status_payload(run)
    payload["timing"] = selectors.retraining_run_timing(run)
    if payload["candidate"] is not None:
        payload["candidate"]["report_url"] = reverse(
            "model_report", args=[payload["candidate"]["id"]]
        )
    return JsonResponse(payload)


@login_required
def retraining_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    """GET: a confirmation page; POST with the tick: ask the run to stop."""
    _require(request, "clinic.change_retrainingrun")
    run = selectors.retraining_run_get_for_user(user=request.user, run_id=run_id)
    form = ConfirmForm(
        # Bound on every POST, an empty one too: no tick is an error, not a GET.
        request.POST if request.method == "POST" else None,
        confirm_label="Stop this retraining. Its epochs so far are discarded and "
        "no candidate model is made.",
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = services.retraining_cancel(user=request.user, run=run)
        except UserFacingError as exc:
            messages.error(request, str(exc))
        else:
            # A queued run ends at once; a running one after its epoch.
            messages.success(
                request,
                "The run was cancelled."
                if run.status == RetrainingRun.Status.CANCELLED
                else "Cancellation requested; the run stops after its epoch.",
            )
        return redirect("retraining_detail", run_id=run.pk)
    return render(
        request,
        "clinic/retraining/cancel.html",
        {"run": run, "form": form, "timing": selectors.retraining_run_timing(run)},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_GET
def model_report(request: HttpRequest, model_version_id: int) -> HttpResponse:
    _require(request, "clinic.view_model_report")
    mv = selectors.model_version_get(model_version_id=model_version_id)
    report = services.model_version_report(user=request.user, model_version=mv)
    evaluation, confirmed = report["evaluation"], report["confirmed"]
    job = services.report_job(mv)
    job_active = job.get("state") in ("queued", "running")
    card = {
        f"evaluation-{k}": v
        for k, v in report_figures(evaluation, "Card's evaluation").items()
    }
    # Computed curves are figures of their own, titled with the data they were
    # computed on; the card's figures (and its confusion matrix) stay.
    curves = evaluation["curves"] or {}
    computed = {
        f"evaluation-{'roc' if k == 'roc' else 'curves-' + k}": v
        for k, v in report_figures(
            curves, f"Computed on the {curves.get('evaluation_set', '')}"
        ).items()
        if k != "confusion"
    }
    return render(
        request,
        "clinic/models/report.html",
        {
            "mv": mv,
            "evaluation": evaluation,
            "provenance": provenance.evaluation_summary(mv),
            "confirmed": confirmed,
            "evaluation_rows": _metric_rows(evaluation),
            "confirmed_rows": _metric_rows(confirmed),
            "card_figures": list(card),
            "curve_figures": list(computed),
            "figures": {
                **card,
                **computed,
                **{
                    f"confirmed-{k}": v
                    for k, v in report_figures(confirmed, "Confirmed cases").items()
                },
            },
            "job": job,
            "job_active": job_active,
            "can_compute": not curves and not job_active,
        },
    )


def _metric_rows(evaluation: dict) -> list[dict]:
    """Per-class rows of (value, low, high) for the template."""
    per_class = (evaluation.get("report") or {}).get("per_class") or {}
    rows = []
    for cls, pc in per_class.items():
        cells = []
        for metric in ("precision", "sensitivity", "specificity", "f1", "auc"):
            ci = pc.get(f"{metric}_ci") or [None, None]
            cells.append({"value": pc.get(metric), "low": ci[0], "high": ci[1]})
        rows.append({"cls": cls, "cells": cells, "support": pc.get("support")})
    return rows


@login_required
@require_POST
def model_report_compute(request: HttpRequest, model_version_id: int) -> HttpResponse:
    """Queue the evaluation of the checkpoint on its evaluation set (a worker job)."""
    _require(request, "clinic.view_model_report")
    mv = selectors.model_version_get(model_version_id=model_version_id)
    try:
        services.model_version_report_request(user=request.user, model_version=mv)
    except UserFacingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "The curves are being computed by the training worker; "
            "this page shows them when they are ready.",
        )
    return redirect("model_report", model_version_id=mv.pk)


@login_required
@require_GET
def model_report_csv(request: HttpRequest, model_version_id: int) -> HttpResponse:
    _require(request, "clinic.view_model_report")
    mv = selectors.model_version_get(model_version_id=model_version_id)
    content = services.model_version_report_export(user=request.user, model_version=mv)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    filename = f"myolens-report-{mv.name}-{mv.version}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
