"""Thin HTML views of the gesture section (STYLE.md §2).

Every view needs a signed-in user. Sessions a user may not see are 404 (the
selectors raise it); actions a role may not take are 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clinic.errors import UserFacingError
from clinic.gestures import selectors, services
from clinic.gestures.forms import GestureSessionForm
from clinic.gestures.models import GestureSession
from clinic.gestures.plots import confusion_figure
from clinic.services.quota import UploadQuotaExceeded
from clinic.stored_files import StoredFileError
from clinic.views._common import _require, upload_too_large_page


@login_required
@require_GET
def session_list(request: HttpRequest) -> HttpResponse:
    _require(request, "gestures.view_gesturesession")
    person_code = request.GET.get("person", "")[:32]
    sessions = selectors.gesture_sessions_list_for_user(
        user=request.user, person_code=person_code
    )
    page = Paginator(sessions, 25).get_page(request.GET.get("page"))
    return render(request, "gestures/list.html", {"page": page, "person": person_code})


@login_required
def session_new(request: HttpRequest) -> HttpResponse:
    _require(request, "gestures.add_gesturesession")
    refused = upload_too_large_page(request, GestureSessionForm, "gestures/new.html")
    if refused is not None:
        return refused
    form = GestureSessionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.gesture_session_create(
                user=request.user, **form.session_fields()
            )
        except UploadQuotaExceeded as exc:
            form.add_error(None, str(exc))
            return render(request, "gestures/new.html", {"form": form}, status=429)
        except UserFacingError as exc:
            form.add_error("layout", str(exc))
        else:
            return redirect("gestures:session_detail", session_id=session.pk)
    status = 400 if form.is_bound else 200
    return render(request, "gestures/new.html", {"form": form}, status=status)


@login_required
@require_GET
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = selectors.gesture_session_get_for_user(
        user=request.user, session_id=session_id
    )
    summary = selectors.gesture_session_report_summary(session)
    if summary is not None:
        services.gesture_session_view_record(user=request.user, session=session)
    return render(
        request,
        "gestures/detail.html",
        {
            "session": session,
            "summary": summary,
            "figure": confusion_figure(summary) if summary else None,
            "files": session.files.all(),
            "timing": selectors.gesture_session_timing(session),
        },
    )


@login_required
@require_GET
def session_status(request: HttpRequest, session_id: int) -> JsonResponse:
    session = selectors.gesture_session_get_for_user(
        user=request.user, session_id=session_id
    )
    payload = selectors.gesture_session_status_payload(session)
    payload["timing"] = selectors.gesture_session_timing(session)
    if session.status == GestureSession.Status.SUCCEEDED:
        # The page reloads itself to show the report.
        payload["result_url"] = reverse("gestures:session_detail", args=[session.pk])
    return JsonResponse(payload)


@login_required
@require_GET
def session_checkpoint(request: HttpRequest, session_id: int) -> FileResponse:
    """Download the person's adapted checkpoint (audited)."""
    session = selectors.gesture_session_get_for_user(
        user=request.user, session_id=session_id
    )
    try:
        fh, filename = services.gesture_checkpoint_export(
            user=request.user, session=session
        )
    except StoredFileError as exc:
        return HttpResponse(str(exc), status=500, content_type="text/plain")
    except UserFacingError:
        raise Http404("This session has no adapted model.") from None
    return FileResponse(fh, as_attachment=True, filename=filename)


@login_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    _require(request, "gestures.view_gesturemodel")
    return render(
        request,
        "gestures/models.html",
        {"models": selectors.gesture_models_list()},
    )
