"""Append-only audit trail."""

from __future__ import annotations

from typing import Any

from django.db import models

from clinic.models import AuditEvent


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event; ``obj`` gives its type and id."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        details=details or {},
    )
