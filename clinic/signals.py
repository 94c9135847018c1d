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


def _audit_locked_out(sender, request=None, username=None, ip_address=None, **kw):
    # axes sends this on every refused try; only the try that reached the
    # limit is the lockout itself.
    from django.conf import settings

    failures = getattr(request, "axes_failures_since_start", None)
    if failures is not None and failures != settings.AXES_FAILURE_LIMIT:
        return
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOCKED_OUT,
        details={"username": str(username or "")[:150], "ip_address": ip_address},
    )


def _connect_axes() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_audit_locked_out, dispatch_uid="clinic_audit_locked_out")


_connect_axes()
