"""The audit trail: filtered list and CSV export.

Thin views (STYLE.md §2): permission -> form -> one service -> render.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clinic import selectors, services
from clinic.audit_display import audit_rows
from clinic.forms import (
    AuditFilterForm,
)
from clinic.views._common import _require


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
def audit_csv(request: HttpRequest) -> HttpResponse:
    """The filtered audit trail as CSV (auditors); the export is audited."""
    _require(request, "clinic.export_auditevent")
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    content = services.audit_export_csv(user=request.user, filters=filters)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="myolens-audit.csv"'
    return response
