"""Append-only audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from clinic.models import AuditEvent
from clinic.stored_files import stored_files_audit


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


def audit_files_uploaded(
    *, actor, obj: models.Model, files: Iterable[Any], details: dict[str, Any]
) -> AuditEvent:
    """Audit files stored for ``obj`` (an upload, a gesture session): ``details``
    plus each file's name, sha256 and size."""
    return audit_record(
        actor=actor,
        action=AuditEvent.Action.UPLOADED,
        obj=obj,
        details={**details, "files": stored_files_audit(files)},
    )


def audit_export_csv(*, user, filters: dict[str, Any]) -> str:
    """The audit events matching ``filters`` as CSV, objects and details in
    words; the export itself is audited."""
    import csv
    import io

    from clinic.audit_display import audit_rows
    from clinic.selectors import audit_events_list

    events = audit_events_list(
        action=filters.get("action") or None,
        actor_username=filters.get("actor") or None,
        since=filters.get("since"),
        until=filters.get("until"),
    )
    rows = audit_rows(events)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["when_utc", "user", "action", "object", "details"])
    for row in rows:
        e = row["event"]
        writer.writerow(
            [
                e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                e.actor.username if e.actor else "",
                e.get_action_display(),
                row["object"],
                "; ".join(f"{label}: {text}" for label, text in row["fields"]),
            ]
        )
    audit_record(
        actor=user,
        action=AuditEvent.Action.EXPORTED,
        details={"report": "audit trail", "format": "csv", "rows": len(rows)},
    )
    return buf.getvalue()
