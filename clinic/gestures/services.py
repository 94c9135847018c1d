"""The write side of gesture adaptation (STYLE.md §1): register pretrained
gesture checkpoints, store one person's calibration files, queue and run the
adaptation (claim before work). The only place here that calls emgcore."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from clinic.errors import UserFacingError
from clinic.gestures.models import (
    ADAPTED_PREFIX,
    CALIBRATION_PREFIX,
    GestureCalibrationFile,
    GestureModel,
    GestureSession,
)
from clinic.gestures.tasks import gesture_adaptation_run_task
from clinic.models import AuditEvent
from clinic.selectors import user_team_id
from clinic.services.audit import audit_files_uploaded, audit_record
from clinic.services.jobs import (
    job_enqueue_after_commit,
    job_progress,
    job_run_claimed,
    job_running,
    job_succeed,
)
from clinic.services.quota import upload_files_checked
from clinic.stored_files import (
    local_file_store,
    model_dir_name,
    model_dir_path,
    stored_file_copy_verified,
    stored_file_open_verified,
    uploaded_file_store,
)
from emgcore.digest import file_sha256

logger = logging.getLogger(__name__)

Status = GestureSession.Status

# Not (yet) one of clinic.models.AuditEvent.Action's choices; stored as is.
AUDIT_ADAPTED = AuditEvent.Action.ADAPTED

CSV_LAYOUT = "csv"

# Share of the progress bar: reading and scoring before, the epochs, saving after.
_PROGRESS_READ = 10
_PROGRESS_TRAIN_START = 20
_PROGRESS_TRAIN_END = 90


# -- pretrained checkpoints ------------------------------------------------------
def gesture_checkpoint_file(path: Path | str) -> Path:
    """Relative paths are under EMG_MODEL_DIR."""
    return model_dir_path(path)


def _model_card(path: Path) -> str:
    card = path.with_suffix(".md")
    return card.read_text(encoding="utf-8") if card.is_file() else ""


@transaction.atomic
def gesture_model_register(
    *, checkpoint_path: Path | str, actor=None, name: str | None = None
) -> tuple[GestureModel, bool]:
    """Register a pretrained gesture checkpoint; idempotent by sha256.

    The file must be a gesture All-ConvNet checkpoint that matches its
    ``.sha256`` sidecar (when it has one). Returns ``(model, created)``.
    """
    from emgcore.errors import EmgCoreError
    from emgcore.gesture.api import load_gesture_checkpoint

    path = gesture_checkpoint_file(checkpoint_path)
    if not path.is_file():
        raise UserFacingError(f"Checkpoint {path} does not exist.")
    sha = file_sha256(path)
    existing = GestureModel.objects.filter(sha256=sha).first()
    if existing is not None:
        return existing, False
    try:
        _model, metadata, scaler, spec = load_gesture_checkpoint(path)
    except EmgCoreError as exc:
        raise UserFacingError(str(exc)) from exc
    metadata = json.loads(json.dumps(metadata, default=str))
    # The model's n_chans counts image rows (raw + rectified rows per
    # electrode); users need the electrodes their recordings must have.
    metadata["n_chans"] = scaler.n_chans
    gm = GestureModel.objects.create(
        name=name or path.stem,
        dataset=spec.name,
        layout=spec.layout,
        checkpoint_path=model_dir_name(path),
        sha256=sha,
        metadata=metadata,
        model_card=_model_card(path),
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.REGISTERED,
        obj=gm,
        details={"name": gm.name, "sha256": sha, "kind": "gesture"},
    )
    return gm, True


def gesture_model_checkpoint_verified(gesture_model: GestureModel) -> Path:
    """The checkpoint path after checking its sha256 against the registry."""
    path = gesture_checkpoint_file(gesture_model.checkpoint_path)
    if not path.is_file():
        logger.error("Gesture checkpoint of %s is missing at %s", gesture_model, path)
        raise UserFacingError(
            f"The file of gesture model {gesture_model.name} is missing on the "
            "server; ask an administrator to check the gesture models."
        )
    if file_sha256(path) != gesture_model.sha256:
        logger.error("Gesture checkpoint %s does not match its sha256", path)
        raise UserFacingError(
            f"The file of gesture model {gesture_model.name} does not match its "
            "registered checksum, so it was not used; ask an administrator to "
            "check the gesture models."
        )
    return path


# -- sessions --------------------------------------------------------------------
def calibration_file_store(
    *, session: GestureSession, f: UploadedFile
) -> GestureCalibrationFile:
    """Store one file under its content address (clinic.stored_files)."""
    stored = uploaded_file_store(
        f, prefix=CALIBRATION_PREFIX, default_name="calibration"
    )
    return GestureCalibrationFile.objects.create(session=session, **stored.columns())


def gesture_layout_problem(*, base_model: GestureModel, layout: str) -> str | None:
    """Why files in ``layout`` cannot adapt ``base_model`` (None when they can)."""
    if layout in (base_model.layout, CSV_LAYOUT):
        return None
    return (
        f"Model {base_model.name} was trained on the {base_model.layout!r} file "
        f"layout; upload files in that layout or as CSV with a label column, "
        f"not {layout!r}."
    )


@transaction.atomic
def gesture_session_create(
    *,
    user,
    base_model: GestureModel,
    layout: str,
    files: Iterable[UploadedFile],
    person_code: str,
    k: int,
    sfreq_hz: float | None = None,
) -> GestureSession:
    """Store a person's calibration files, audit it and queue the adaptation.

    Returns the new (QUEUED) session; the task is sent after the commit.
    """
    problem = gesture_layout_problem(base_model=base_model, layout=layout)
    if problem:
        raise UserFacingError(problem)
    if not base_model.is_enabled:
        raise UserFacingError(f"Model {base_model.name} is not offered any more.")
    files = upload_files_checked(user=user, files=files)
    session = GestureSession.objects.create(
        person_code=person_code,
        base_model=base_model,
        layout=layout,
        sfreq_hz=sfreq_hz if layout == CSV_LAYOUT else None,
        k=k,
        created_by=user,
        team_id=user_team_id(user),
    )
    stored = [calibration_file_store(session=session, f=f) for f in files]
    audit_files_uploaded(
        actor=user,
        obj=session,
        files=stored,
        details={"person_code": person_code, "base_model": base_model.sha256, "k": k},
    )
    job_enqueue_after_commit(GestureSession, session.pk)
    return session


def _gesture_adaptation_send(session_id: int):
    """Send the session's task (clinic.services.jobs: the enqueue and the sweep)."""
    return gesture_adaptation_run_task.delay(session_id)


def _materialise(session: GestureSession, workdir: Path) -> list[Path]:
    """Copy the session's files into ``workdir`` under their original names.

    The dataset readers take the subject and session from the file name
    (``44444-1.npz``), so they need the originals, not the content addresses.
    """
    paths = []
    for i, row in enumerate(session.files.all()):
        name = os.path.basename(row.original_name)
        if name in ("", ".", "..") or (workdir / name).exists():
            name = f"file{i}-{name or 'calibration'}"
        # Checked against the upload's sha256 (clinic.stored_files).
        paths.append(
            stored_file_copy_verified(
                row.file.name, row.sha256, workdir / name, label=f'"{name}"'
            )
        )
    return paths


def _adapt_config():
    """emgcore's adaptation recipe; EMG_GESTURE_ADAPT_EPOCHS caps the epochs."""
    import dataclasses

    from emgcore.gesture.core import ADAPT_CONFIG

    epochs = getattr(settings, "EMG_GESTURE_ADAPT_EPOCHS", None)
    if epochs:
        return dataclasses.replace(ADAPT_CONFIG, epochs=int(epochs))
    return ADAPT_CONFIG


def _json_ready(value: Any) -> Any:
    """numpy scalars/arrays and other oddities -> plain JSON values."""

    def default(obj):
        if hasattr(obj, "tolist"):
            return obj.tolist()
        return str(obj)

    return json.loads(json.dumps(value, default=default))


def _adapted_store(model, metadata: dict[str, Any], workdir: Path) -> tuple[str, str]:
    """Save the adapted model and keep it under its content address.

    Returns ``(storage name, sha256)``.
    """
    from emgcore.gesture.api import save_adapted

    path = workdir / "adapted.pt"
    sha = save_adapted(path, model, metadata)
    return local_file_store(path, prefix=ADAPTED_PREFIX, sha256=sha), sha


def _adapt(session: GestureSession, checkpoint: Path, workdir: Path):
    """Read the calibration files and run emgcore's adaptation."""
    from emgcore.errors import EmgCoreError
    from emgcore.gesture.api import adapt_to_subject
    from emgcore.gesture.core import AdaptOptions
    from emgcore.gesture.data import read_gesture_files

    paths = _materialise(session, workdir)
    config = _adapt_config()
    history: list[dict[str, Any]] = []

    def on_epoch(record: dict[str, Any]) -> bool:
        history.append(_json_ready(record))
        done = record.get("epoch", len(history))
        if record.get("phase") == "refit":
            # The second run, on the whole trials, is short: the last fifth.
            share = 0.8 + 0.2 * min(1.0, done / max(1, record.get("epochs", done)))
        else:
            share = 0.8 * min(1.0, done / max(1, config.epochs))
        progress = _PROGRESS_TRAIN_START + int(
            (_PROGRESS_TRAIN_END - _PROGRESS_TRAIN_START) * share
        )
        updated = job_progress(GestureSession, session.pk, progress, history=history)
        # The row is no longer RUNNING (failed elsewhere): stop training.
        return updated == 1

    try:
        gesture_files = read_gesture_files(
            paths, session.layout, sfreq=session.sfreq_hz
        )
        job_progress(GestureSession, session.pk, _PROGRESS_READ)
        return adapt_to_subject(
            checkpoint,
            gesture_files,
            AdaptOptions(config=config),
            k=session.k,
            seed=session.seed,
            on_epoch=on_epoch,
        )
    except EmgCoreError as exc:
        # Users see the message: name their file, not the server's temp folder.
        exc.args = tuple(
            a.replace(f"{workdir}{os.sep}", "") if isinstance(a, str) else a
            for a in exc.args
        )
        raise


def gesture_adaptation_run(*, session_id: int) -> str:
    """Run one adaptation in a worker; a second call for the same session does nothing.

    Returns the claim's outcome (clinic.services.jobs): ``"claimed"``,
    ``"busy"`` (a live worker holds it), ``"done"`` or ``"gave_up"``.
    Bad recordings end FAILED with emgcore's message; anything unexpected is
    logged and ends FAILED with a generic message and a reference.
    """
    return job_run_claimed(GestureSession, session_id, _adaptation_body)


def _adaptation_body(session_id: int) -> None:
    session = GestureSession.objects.select_related("base_model").get(pk=session_id)
    checkpoint = gesture_model_checkpoint_verified(session.base_model)
    with tempfile.TemporaryDirectory(prefix=f"myolens-gesture{session_id}-") as tmp:
        model, metadata, report = _adapt(session, checkpoint, Path(tmp))
        if not job_running(GestureSession, session_id).exists():
            return  # stopped while training
        name, sha = _adapted_store(model, metadata, Path(tmp))
    report = _json_ready(report)
    with transaction.atomic():
        done = job_succeed(
            GestureSession,
            session_id,
            report=report,
            adapted_checkpoint=name,
            adapted_sha256=sha,
        )
        if done == 1:
            audit_record(
                actor=session.created_by,
                action=AUDIT_ADAPTED,
                obj=session,
                details={
                    "person_code": session.person_code,
                    "base_model": session.base_model.sha256,
                    "adapted_sha256": sha,
                    "k": session.k,
                    "accuracy_before": report.get("accuracy_before"),
                    "accuracy_after": report.get("accuracy_after"),
                },
            )


def gesture_session_view_record(*, user, session: GestureSession) -> None:
    """Audit that ``user`` looked at a session's report."""
    audit_record(
        actor=user,
        action=AuditEvent.Action.VIEWED,
        obj=session,
        details={"person_code": session.person_code},
    )


def gesture_checkpoint_export(*, user, session: GestureSession) -> tuple[Any, str]:
    """Open the person's adapted checkpoint for download and audit it.

    Returns ``(open file, download name)``.
    """
    if session.status != Status.SUCCEEDED or not session.adapted_checkpoint:
        raise UserFacingError("This session has no adapted model.")
    fh = stored_file_open_verified(
        session.adapted_checkpoint.name,
        session.adapted_sha256,
        label=f"of the adapted model of session {session.pk}",
    )
    audit_record(
        actor=user,
        action=AuditEvent.Action.EXPORTED,
        obj=session,
        details={
            "person_code": session.person_code,
            "format": "checkpoint",
            "sha256": session.adapted_sha256,
        },
    )
    name = f"gesture-{session.person_code}-{session.adapted_sha256[:12]}.pt"
    return fh, name
