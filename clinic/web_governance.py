"""Governance pages: promote and roll back model versions after a confirmation
with a reason, read a version's evaluation provenance, export the audit trail.

Thin views (STYLE.md §2): permission -> form -> one service -> render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from clinic import provenance, selectors, services
from clinic.errors import UserFacingError
from clinic.forms import AuditFilterForm
from clinic.forms_governance import ConfirmWithReasonForm


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


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


@login_required
def model_promote(request: HttpRequest, model_version_id: int) -> HttpResponse:
    """GET: the version's evaluation and a confirmation form; POST: promote."""
    _require(request, "clinic.promote_modelversion")
    mv = selectors.model_version_get(model_version_id=model_version_id)
    problems = services.model_version_promotion_problems(mv)
    form = ConfirmWithReasonForm(
        request.POST or None,
        confirm_label="I have read this version's evaluation and want it to "
        "analyse every new recording.",
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.model_version_promote(
                actor=request.user,
                model_version=mv,
                reason=form.cleaned_data["reason"],
            )
        except UserFacingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{mv} is now the active model.")
        return redirect("model_list")
    status = 400 if form.is_bound else 200
    return _confirm_page(
        request, mv, action="promote", form=form, problems=problems, status=status
    )


@login_required
def model_rollback(request: HttpRequest, model_version_id: int) -> HttpResponse:
    """GET: what the rollback would restore and a confirmation; POST: roll back."""
    _require(request, "clinic.promote_modelversion")
    mv = selectors.model_version_get(model_version_id=model_version_id)
    form = ConfirmWithReasonForm(
        request.POST or None,
        confirm_label="I want to retire this version and reactivate the one it "
        "replaced.",
    )
    if request.method == "POST" and form.is_valid():
        try:
            active = services.model_version_rollback(
                actor=request.user,
                model_version=mv,
                reason=form.cleaned_data["reason"],
            )
        except UserFacingError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, f"Rolled back: {active} is the active model again."
            )
        return redirect("model_list")
    status = 400 if form.is_bound else 200
    return _confirm_page(
        request, mv, action="rollback", form=form, problems=[], status=status
    )


@login_required
@require_GET
def audit_csv(request: HttpRequest) -> HttpResponse:
    """The filtered audit trail as CSV (auditors); the export is audited."""
    _require(request, "clinic.export_auditevent")
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    content = services.audit_export_csv(user=request.user, filters=filters)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="myolens-audit.csv"'
    return response
