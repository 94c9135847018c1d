"""What every area's views share: the permission check that answers 403, and
the refusal of an upload too large to read."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.forms import upload_request_too_large


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def upload_too_large_page(
    request: HttpRequest, form_class: type[Form], template: str
) -> HttpResponse | None:
    """The empty upload page with the size error (413) for a POST clearly over
    the limit, decided before the body is read; None for any other request."""
    if request.method != "POST":
        return None
    too_large = upload_request_too_large(request.META.get("CONTENT_LENGTH"))
    if not too_large:
        return None
    form = form_class()
    form.too_large = too_large
    return render(request, template, {"form": form}, status=413)
