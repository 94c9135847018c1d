"""The read side of the gesture section: what each user may see.

Clinicians and admins see their team's sessions (their own when they have no
team); users with ``view_all_gesturesessions`` (auditors) see every session
read-only; other users see none. Objects a user may not see raise Http404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from clinic.gestures.models import GestureModel, GestureSession
from clinic.job_timing import gesture_session_timing  # noqa: F401 (the page's clock)
from clinic.selectors import user_team_id


def gesture_models_list(*, enabled_only: bool = False) -> QuerySet[GestureModel]:
    qs = GestureModel.objects.all()
    return qs.filter(is_enabled=True) if enabled_only else qs


def gesture_model_get(*, model_id: int) -> GestureModel:
    try:
        return GestureModel.objects.get(pk=model_id)
    except GestureModel.DoesNotExist:
        raise Http404("No such gesture model.") from None


def gesture_sessions_list_for_user(
    *, user, person_code: str = ""
) -> QuerySet[GestureSession]:
    """Sessions ``user`` may see, newest first; optionally one person's only."""
    qs = GestureSession.objects.select_related("base_model", "created_by", "team")
    if person_code:
        qs = qs.filter(person_code__iexact=person_code.strip())
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.has_perm("gestures.view_all_gesturesessions"):
        return qs
    if not user.has_perm("gestures.view_gesturesession"):
        return qs.none()
    team_id = user_team_id(user)
    if team_id is None:
        return qs.filter(created_by=user)
    return qs.filter(Q(team_id=team_id) | Q(created_by=user))


def gesture_session_get_for_user(*, user, session_id: int) -> GestureSession:
    try:
        return gesture_sessions_list_for_user(user=user).get(pk=session_id)
    except GestureSession.DoesNotExist:
        raise Http404("No such gesture session.") from None


def gesture_session_report_summary(session: GestureSession) -> dict[str, Any] | None:
    """Accuracy before/after, the confusion matrices and class names (or None)."""
    r = session.report or {}
    if session.status != GestureSession.Status.SUCCEEDED or not r:
        return None
    train = r.get("train") or {}
    refit = train.get("refit") or {}
    return {
        "accuracy_before": r.get("accuracy_before"),
        "accuracy_after": r.get("accuracy_after"),
        "balanced_accuracy_before": r.get("balanced_accuracy_before"),
        "balanced_accuracy_after": r.get("balanced_accuracy_after"),
        "class_names": r.get("class_names", []),
        "confusion_before": r.get("confusion_before"),
        "confusion_after": r.get("confusion_after"),
        "n_adapt_trials": r.get("n_adapt_trials"),
        "n_test_trials": r.get("n_test_trials"),
        "k": r.get("k", session.k),
        "method": r.get("method"),
        # The final model's windows: the refit's where there was one
        "n_train_windows": (refit or train).get("n_train_windows"),
        # None for reports made before gain augmentation, or without it
        "augment": train.get("augment"),
        # None for reports made before refitting, or without it
        "refit_epochs": refit.get("epochs"),
    }


def gesture_session_status_payload(session: GestureSession) -> dict[str, Any]:
    """The small JSON the session page and the API poll."""
    last = session.history[-1] if session.history else None
    return {
        "id": session.pk,
        "status": session.status,
        "progress": session.progress,
        "epoch": last.get("epoch") if last else None,
        "history": session.history,
        "error": session.error_message or None,
        "finished": session.is_finished,
        "person_code": session.person_code,
        "k": session.k,
        "base_model": {
            "id": session.base_model_id,
            "name": session.base_model.name,
            "sha256": session.base_model.sha256,
        },
        "adapted_model": (
            {"sha256": session.adapted_sha256} if session.adapted_sha256 else None
        ),
        "report": gesture_session_report_summary(session),
    }


def gesture_model_payload(gm: GestureModel) -> dict[str, Any]:
    meta = gm.metadata or {}
    return {
        "id": gm.pk,
        "name": gm.name,
        "dataset": gm.dataset,
        "layout": gm.layout,
        "sha256": gm.sha256,
        "class_names": meta.get("class_names", []),
        "sfreq": meta.get("sfreq"),
        "n_chans": meta.get("n_chans"),
        "metrics": meta.get("metrics", {}),
        "is_enabled": gm.is_enabled,
        "created_at": gm.created_at.isoformat(),
    }
