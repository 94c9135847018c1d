from __future__ import annotations

from django.http import HttpRequest

from clinic.roles import ROLES


def roles(request: HttpRequest) -> dict:
    """The signed-in user's role names, for navigation links."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": []}
    names = set(user.groups.values_list("name", flat=True))
    return {"user_roles": [r for r in ROLES if r in names]}
