"""Sign-ins and sign-outs go to the audit trail."""

from __future__ import annotations

from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver

from clinic.models import AuditEvent
from clinic.services.audit import audit_record


@receiver(user_logged_in, dispatch_uid="clinic_audit_login")
def _audit_login(sender, request, user, **kwargs) -> None:
    audit_record(actor=user, action=AuditEvent.Action.LOGIN)


@receiver(user_logged_out, dispatch_uid="clinic_audit_logout")
def _audit_logout(sender, request, user, **kwargs) -> None:
    audit_record(actor=user, action=AuditEvent.Action.LOGOUT)


@receiver(user_login_failed, dispatch_uid="clinic_audit_login_failed")
def _audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Only the username: the password never reaches the audit trail.
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOGIN_FAILED,
        details={"username": str(credentials.get("username", ""))[:150]},
    )
