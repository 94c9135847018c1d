"""Training data of a retraining run: built-in datasets and confirmed uploads.

The windows are preprocessed as the base model expects; the split holds out whole
people. Used by the retraining run and by the auditor's evaluation curves.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from clinic.errors import UserFacingError
from clinic.models import ConfirmedDiagnosis, RetrainingRun, Upload
from clinic.services.analysis import _recording_read
from clinic.stored_files import StoredFileError
from emgcore.retrain import (  # noqa: F401 (the split and caps, re-exported)
    VAL_FRACTION,
    cap_windows,
    split_by_subject,
)

# Confirmed diagnoses that map onto the disease model's classes.
CONFIRMED_CLASSES = {
    ConfirmedDiagnosis.Diagnosis.HEALTHY: "healthy",
    ConfirmedDiagnosis.Diagnosis.MYOPATHY: "myopathy",
    ConfirmedDiagnosis.Diagnosis.NEUROPATHY: "neuropathy",
}


def builtin_windows(name: str, preprocess) -> Any:
    from emgcore.datasets import load_dataset

    return load_dataset(name, settings.EMG_DATA_DIR, preprocess=preprocess)


def confirmed_uploads_for_training() -> list[tuple[Upload, str]]:
    """Uploads whose latest confirmed diagnosis is one of the model's classes."""
    out = []
    # A recording the quality gate refused is no training example either.
    uploads = (
        Upload.objects.filter(confirmed_diagnoses__isnull=False)
        .exclude(jobs__result__label="not_analysable")
        .distinct()
    )
    for upload in uploads.prefetch_related("confirmed_diagnoses"):
        latest = upload.confirmed_diagnoses.all()[0]  # ordered newest first
        if latest.diagnosis in CONFIRMED_CLASSES:
            out.append((upload, CONFIRMED_CLASSES[latest.diagnosis]))
    return out


def confirmed_windows(preprocess, class_names: tuple[str, ...]):
    """Windows of every confirmed upload, one recording each, patients as subjects."""
    from emgcore.datasets.base import WindowSet
    from emgcore.errors import EmgCoreError
    from emgcore.preprocess import EMGPreprocessor

    parts = []
    skipped = []
    for upload, label in confirmed_uploads_for_training():
        try:
            with tempfile.TemporaryDirectory(prefix=f"myolens-up{upload.pk}-") as tmp:
                rec = _recording_read(upload, Path(tmp))
            out = EMGPreprocessor(preprocess).transform(rec)
        except (EmgCoreError, StoredFileError) as exc:
            # A missing or altered stored file is skipped like an unreadable one.
            skipped.append({"upload": upload.pk, "reason": str(exc)})
            continue
        n = len(out.windows)
        if n == 0:
            skipped.append({"upload": upload.pk, "reason": "too short for a window"})
            continue
        start = np.round(np.asarray(out.window_starts_s) * rec.sfreq).astype(np.int64)
        stop = np.round(np.asarray(out.window_stops_s) * rec.sfreq).astype(np.int64)
        parts.append(
            WindowSet(
                X=np.ascontiguousarray(out.windows, dtype=np.float32),
                y=np.full(n, class_names.index(label)),
                class_names=class_names,
                recording_ids=np.full(n, f"upload-{upload.pk}"),
                # Patients are the unit of the split: none is on both sides.
                subjects=np.full(n, f"patient-{upload.patient_code}"),
                start_samples=start,
                stop_samples=np.maximum(stop, start + 1),
                sfreq=float(out.sfreq),
                orig_sfreq=np.full(n, rec.sfreq),
                meta={"dataset": "confirmed_uploads"},
            )
        )
    return parts, skipped


def training_windows(run: RetrainingRun, meta: dict[str, Any]):
    """All windows of the chosen sources, preprocessed as the base model expects."""
    from emgcore.config import PreprocessConfig
    from emgcore.datasets.base import WindowSet

    preprocess = PreprocessConfig.from_dict(meta["preprocess"])
    class_names = tuple(meta["class_names"])
    parts = []
    summary: dict[str, Any] = {"sources": {}}
    if run.use_emgdb:
        parts.append(builtin_windows("physionet_emgdb", preprocess))
    if run.use_n2001:
        parts.append(builtin_windows("emglab_n2001", preprocess))
    if run.use_confirmed:
        confirmed, skipped = confirmed_windows(preprocess, class_names)
        parts += confirmed
        summary["skipped_uploads"] = skipped
    parts = [p for p in parts if len(p)]
    if not parts:
        raise UserFacingError(
            "The chosen training data holds no usable recordings (no confirmed "
            "upload with a healthy, myopathy or neuropathy diagnosis?)."
        )
    for p in parts:
        if tuple(p.class_names) != class_names:
            raise UserFacingError(
                f"The data's classes {list(p.class_names)} differ from the base "
                f"model's {list(class_names)}."
            )
        name = str(p.meta.get("dataset", "data"))
        src = summary["sources"].setdefault(name, {"windows": 0, "recordings": 0})
        src["windows"] += len(p)
        src["recordings"] += int(len(np.unique(p.recording_ids)))
    return WindowSet.concat(parts), summary
