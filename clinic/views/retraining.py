"""Retraining runs: list, start (admins), follow the progress, cancel.

Thin views (STYLE.md §2): permission -> form -> one service -> render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clinic import selectors, services
from clinic.errors import UserFacingError
from clinic.forms import (
    RetrainingForm,
)
from clinic.forms_governance import ConfirmForm
from clinic.models import RetrainingRun
from clinic.views._common import _require


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
