"""The audit trail in words: objects named ("Model version cnn_tcn v3
(disease)"), details as labelled fields, never a dict dump or "None"."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from clinic.models import AnalysisJob, ModelVersion, RetrainingRun, Upload

#: Readable labels of the detail keys services write.
DETAIL_LABELS = {
    "reason": "Reason",
    "reason_given": "Reason given",
    "refused_because": "Refused because",
    "version": "Version",
    "replaced": "Replaced",
    "from": "From",
    "to": "To",
    "evaluation": "Evaluation",
    "below_thresholds": "Below the thresholds",
    "override_reason": "Operator override",
    "sha256": "sha256",
    "name": "Name",
    "base_model": "Base model",
    "data": "Training data",
    "method": "Method",
    "epochs": "Epochs",
    "learning_rate": "Learning rate",
    "seed": "Seed",
    "event": "Event",
    "report": "Report",
    "set": "Evaluation set",
    "n": "n",
    "format": "Format",
    "confirmed_cases": "Confirmed cases",
    "diagnosis": "Diagnosis",
    "patient_code": "Patient",
    "files": "Files",
    "rows": "Rows",
    "stops": "Stops",
    "candidate": "Candidate",
}


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return "; ".join(_value_text(v) for v in value if v not in (None, ""))
    if isinstance(value, dict):
        return "; ".join(
            f"{k}: {_value_text(v)}" for k, v in value.items() if v not in (None, "")
        )
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def detail_fields(details: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) pairs, empty values left out."""
    out = []
    for key, value in (details or {}).items():
        if value in (None, "", [], {}):
            continue
        label = DETAIL_LABELS.get(key, key.replace("_", " ").capitalize())
        text = _value_text(value)
        if text and text != "None":
            out.append((label, text))
    return out


def _kind(mv: ModelVersion) -> str:
    return "disease" if mv.kind == ModelVersion.Kind.DISEASE else "gesture"


def object_names(events) -> dict[tuple[str, str], str]:
    """Names in words for the objects of ``events`` (a few queries per page)."""
    ids: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.object_type and str(e.object_id).isdigit():
            ids[e.object_type].add(int(e.object_id))
    names: dict[tuple[str, str], str] = {}
    for mv in ModelVersion.objects.filter(pk__in=ids.get("modelversion", ())):
        names[("modelversion", str(mv.pk))] = (
            f"Model version {mv.name} {mv.version} ({_kind(mv)})"
        )
    runs = RetrainingRun.objects.filter(pk__in=ids.get("retrainingrun", ()))
    for run in runs.select_related("base_model"):
        base = run.base_model
        names[("retrainingrun", str(run.pk))] = (
            f"Retraining run {run.pk} of {base.name} {base.version}"
        )
    for up in Upload.objects.filter(pk__in=ids.get("upload", ())):
        removed = " (removed from the lists)" if up.removed_at else ""
        names[("upload", str(up.pk))] = (
            f"Recording {up.pk} of patient {up.patient_code}{removed}"
        )
    jobs = AnalysisJob.objects.filter(pk__in=ids.get("analysisjob", ()))
    for job in jobs.select_related("upload"):
        names[("analysisjob", str(job.pk))] = (
            f"Analysis {job.pk} of patient {job.upload.patient_code}"
        )
    return names


def object_name(event, names: dict[tuple[str, str], str]) -> str:
    if not event.object_type:
        return ""
    key = (event.object_type, str(event.object_id))
    if key in names:
        return names[key]
    # Removed objects (a removed upload) or other kinds: a readable fallback.
    words = {
        "upload": "Recording",
        "modelversion": "Model version",
        "retrainingrun": "Retraining run",
        "analysisjob": "Analysis",
        "user": "User",
        "gesturesession": "Gesture session",
    }.get(event.object_type, event.object_type.replace("_", " ").capitalize())
    return f"{words} {event.object_id}"


def audit_rows(events) -> list[dict[str, Any]]:
    events = list(events)
    names = object_names(events)
    return [
        {
            "event": e,
            "object": object_name(e, names),
            "fields": detail_fields(e.details),
        }
        for e in events
    ]
