"""Accounts: demo users per role and API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from clinic.errors import UserFacingError
from clinic.models import AuditEvent, Profile, Team
from clinic.roles import ROLES, roles_sync
from clinic.services.audit import audit_record

DEMO_TEAM = "demo-team"


@transaction.atomic
def demo_users_create() -> list[tuple[str, str, str]]:
    """Create (or reset) one demo account per role with a fresh random password.

    Returns ``(role, username, password)`` rows; the passwords are shown once
    and stored only as hashes.
    """
    roles_sync()
    User = get_user_model()
    team, _ = Team.objects.get_or_create(name=DEMO_TEAM)
    created = []
    for role in ROLES:
        username = f"demo-{role}"
        password = secrets.token_urlsafe(12)
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.is_active = True
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        Profile.objects.update_or_create(user=user, defaults={"team": team})
        created.append((role, username, password))
    return created


def api_token_create(*, username: str, actor=None) -> str:
    """Return the user's API token, creating one if needed (audited)."""
    from rest_framework.authtoken.models import Token

    User = get_user_model()
    try:
        user = User.objects.get(username=username, is_active=True)
    except User.DoesNotExist:
        raise UserFacingError(f"No active user named {username!r}.") from None
    token, created = Token.objects.get_or_create(user=user)
    if created:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.TOKEN_CREATED,
            obj=user,
            details={"username": username},
        )
    return token.key
