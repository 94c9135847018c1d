"""What every area's views share: the permission check that answers 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied
