"""Model versions: the list, a version's report (computed in a worker), promote, roll back.

Promotion and rollback go through a confirmation with a reason; the report
shows the version's evaluation provenance and per-class metrics.

Thin views (STYLE.md §2): permission -> form -> one service -> render.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinic import provenance, selectors, services
from clinic.errors import UserFacingError
from clinic.forms_governance import ConfirmWithReasonForm
from clinic.plots import report_figures
from clinic.views._common import _require


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


def _confirm_page(request, mv, *, action: str, form, problems, status=200):
    return render(
        request,
        "clinic/models/confirm.html",
        {
            "mv": mv,
            "action": action,
            "form": form,
            "problems": problems,
            "evaluation": provenance.evaluation_summary(mv),
            "metrics": selectors.model_version_class_metrics(mv),
            "previous": mv.previous_active if action == "rollback" else None,
        },
        status=status,
    )


def _governance_action(request, mv, *, action, problems, confirm_label, act, success):
    """GET: the confirmation page; POST: ``act`` with the reason given, its
    outcome as a message, then the model list."""
    form = ConfirmWithReasonForm(request.POST or None, confirm_label=confirm_label)
    if request.method == "POST" and form.is_valid():
        try:
            active = act(
                actor=request.user,
                model_version=mv,
                reason=form.cleaned_data["reason"],
            )
        except UserFacingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, success(active))
        return redirect("model_list")
    status = 400 if form.is_bound else 200
    return _confirm_page(
        request, mv, action=action, form=form, problems=problems, status=status
    )


@login_required
def model_promote(request: HttpRequest, model_version_id: int) -> HttpResponse:
    """GET: the version's evaluation and a confirmation form; POST: promote."""
    _require(request, "clinic.promote_modelversion")
    mv = selectors.model_version_get(model_version_id=model_version_id)
    return _governance_action(
        request,
        mv,
        action="promote",
        problems=services.model_version_promotion_problems(mv),
        confirm_label="I have read this version's evaluation and want it to "
        "analyse every new recording.",
        act=services.model_version_promote,
        success=lambda _active: f"{mv} is now the active model.",
    )


@login_required
def model_rollback(request: HttpRequest, model_version_id: int) -> HttpResponse:
    """GET: what the rollback would restore and a confirmation; POST: roll back."""
    _require(request, "clinic.promote_modelversion")
    mv = selectors.model_version_get(model_version_id=model_version_id)
    return _governance_action(
        request,
        mv,
        action="rollback",
        problems=[],
        confirm_label="I want to retire this version and reactivate the one it "
        "replaced.",
        act=services.model_version_rollback,
        success=lambda active: f"Rolled back: {active} is the active model again.",
    )
