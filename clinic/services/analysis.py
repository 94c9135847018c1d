"""Analysis jobs: queue one, and run it in a worker (claim before work)."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction

from clinic.errors import UserFacingError
from clinic.models import AnalysisJob, ModelVersion, Result, Upload
from clinic.services.checkpoint_store import (
    checkpoint_cache_file,
    checkpoint_fetch,
    checkpoint_is_stored,
)
from clinic.services.jobs import (
    job_enqueue_after_commit,
    job_progress,
    job_run_claimed,
    job_succeed,
)
from clinic.stored_files import (
    StoredFileError,
    model_dir_path,
    stored_file_copy_verified,
)
from clinic.tasks import analysis_run_task
from emgcore.digest import file_sha256

logger = logging.getLogger(__name__)

# The signal preview keeps at most this many (min, max) pairs per channel.
PREVIEW_MAX_BINS = 2000
PREVIEW_MAX_CHANNELS = 4


class ModelIntegrityError(UserFacingError):
    """The checkpoint file is missing or does not match its registered sha256."""


def analysis_request(*, upload: Upload) -> AnalysisJob:
    """Create a QUEUED job for ``upload`` and send its task after commit."""
    job = AnalysisJob.objects.create(upload=upload)
    job_enqueue_after_commit(AnalysisJob, job.pk)
    return job


def _analysis_send(job_id: int):
    """Send the job's task (clinic.services.jobs: the enqueue and the sweep)."""
    if settings.EMG_ANALYSIS_QUEUE:
        return analysis_run_task.apply_async(
            args=[job_id], queue=settings.EMG_ANALYSIS_QUEUE
        )
    return analysis_run_task.delay(job_id)


def model_version_active(*, kind: str = ModelVersion.Kind.DISEASE) -> ModelVersion:
    """The active model of ``kind``; raises UserFacingError when there is none."""
    mv = ModelVersion.objects.filter(kind=kind, is_active=True).first()
    if mv is None:
        raise UserFacingError(
            "No disease model is active, so the recording cannot be analysed. "
            "Ask an administrator to activate a model version."
        )
    return mv


def model_version_checkpoint_file(model_version: ModelVersion) -> Path:
    """The checkpoint's local path: relative paths are under EMG_MODEL_DIR.

    A checkpoint in file storage (a retrained candidate) is read from this
    host's cached copy (clinic.services.checkpoint_store).
    """
    if checkpoint_is_stored(model_version.checkpoint_path):
        return checkpoint_cache_file(model_version.sha256)
    return model_dir_path(model_version.checkpoint_path)


def _checkpoint_fetch(model_version: ModelVersion) -> None:
    try:
        checkpoint_fetch(
            model_version.checkpoint_path,
            model_version.sha256,
            label=f"of model {model_version}",
        )
    except StoredFileError as exc:
        logger.error("Checkpoint of %s could not be fetched: %s", model_version, exc)
        raise ModelIntegrityError(
            f"The file of model {model_version} is missing from the file storage or "
            "does not match its registered checksum, so it was not used; ask an "
            "administrator to check the model registry and the file storage."
        ) from None


def model_version_checkpoint_verified(model_version: ModelVersion) -> Path:
    """The checkpoint path after checking its sha256 against the registry."""
    path = model_version_checkpoint_file(model_version)
    if checkpoint_is_stored(model_version.checkpoint_path) and not path.is_file():
        _checkpoint_fetch(model_version)
    if not path.is_file():
        logger.error("Checkpoint of %s is missing at %s", model_version, path)
        raise ModelIntegrityError(
            f"The file of model {model_version} is missing on the server; "
            "ask an administrator to check the model registry."
        )
    actual = file_sha256(path)
    if actual != model_version.sha256 and checkpoint_is_stored(
        model_version.checkpoint_path
    ):
        # A damaged cached copy: fetch it again (verified) rather than fail
        # on this host until someone deletes the file.
        logger.warning("Cached checkpoint %s is damaged; fetching it again", path)
        path.unlink(missing_ok=True)
        _checkpoint_fetch(model_version)
        actual = file_sha256(path)
    if actual != model_version.sha256:
        logger.error(
            "Checkpoint of %s at %s has sha256 %s, registered %s",
            model_version,
            path,
            actual,
            model_version.sha256,
        )
        raise ModelIntegrityError(
            f"The file of model {model_version} does not match its registered "
            "checksum, so it was not used; ask an administrator to check the "
            "model registry."
        )
    return path


def _upload_files_materialise(upload: Upload, workdir: Path) -> list[Path]:
    """Copy an upload's files into ``workdir`` under their original names.

    Storage names are content addresses; readers such as WFDB find the data
    file through the name written in the header, so they need the originals.
    Each copy is checked against the sha256 recorded at upload
    (clinic.stored_files): a missing or altered object raises StoredFileError.
    """
    paths = []
    for i, row in enumerate(upload.files.all()):
        name = os.path.basename(row.original_name)
        if name in ("", ".", ".."):
            name = f"file{i}{os.path.splitext(row.file.name)[1]}"
        paths.append(
            stored_file_copy_verified(
                row.file.name, row.sha256, workdir / name, label=f'"{name}"'
            )
        )
    return paths


def _recording_read(upload: Upload, workdir: Path):
    from emgcore.errors import EmgCoreError
    from emgcore.io import read_recording

    paths = _upload_files_materialise(upload, workdir)
    try:
        return read_recording(
            paths if len(paths) > 1 else paths[0],
            sfreq=upload.sfreq_hz,
            # The signal-quality gate decides what is too short (not_analysable).
            min_duration_s=0,
        )
    except EmgCoreError as exc:
        # Users see the message: name their file, not the server's temp folder.
        exc.args = tuple(
            a.replace(f"{workdir}{os.sep}", "") if isinstance(a, str) else a
            for a in exc.args
        )
        raise


def _predict(recording, checkpoint_path: Path, model_version: ModelVersion) -> dict:
    """The one place that runs the disease model; returns Prediction.to_dict()."""
    from emgcore.inference import predict

    return predict(
        recording,
        checkpoint_path,
        expected_sha256=model_version.sha256,
        device=settings.EMG_DEVICE,
    ).to_dict()


def _quality_assess(recording) -> dict:
    from emgcore.quality import assess_quality

    return assess_quality(recording)


def _summary_features(
    recording, filtered: np.ndarray, band: tuple[float, float]
) -> dict[str, Any]:
    """Domain features (RMS, MNF, MDF, ZC, turns, MUAP) per channel shown."""
    from emgcore.features import recording_summary_features

    channels = []
    for i in range(filtered.shape[0]):
        feats = recording_summary_features(
            filtered[i], recording.sfreq, unit=recording.units[i]
        )
        channels.append({"name": recording.ch_names[i], **feats})
    return {"band_hz": list(band), "channels": channels}


def _qemg(recording, electrode_type: str) -> dict[str, Any]:
    """QEMG of the analysed (first) channel beside healthy reference ranges."""
    from emgcore.qemg_report import qemg_report

    if electrode_type == Upload.ElectrodeType.SURFACE:
        return {
            "rows": [],
            "reference": None,
            "note": (
                "Motor unit potentials are measured on needle EMG only; this upload "
                "is marked as surface EMG."
            ),
        }
    return qemg_report(recording, channel=0)


def _minmax_decimate(x: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep each bin's min and max (in time order) so spikes survive decimation.

    ``x`` has shape (n_times,); returns (indices, values), at most 2 * n_bins each.
    """
    n = x.shape[0]
    if n <= 2 * n_bins:
        return np.arange(n), x
    edges = np.linspace(0, n, n_bins + 1).astype(int)
    idx = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        seg = x[lo:hi]
        a, b = lo + int(np.argmin(seg)), lo + int(np.argmax(seg))
        idx.extend((a, b) if a <= b else (b, a))
    index = np.asarray(idx)
    return index, x[index]


def _display_channels(
    recording, electrode_type: str = Upload.ElectrodeType.UNKNOWN
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """The first channels as float64, raw and filtered, (n_shown, n_times).

    The band: 20-450 Hz for surface EMG; needle EMG keeps up to 10 kHz.
    """
    from emgcore.preprocess import display_signal

    data = recording.data[:PREVIEW_MAX_CHANNELS].astype(np.float64)
    surface = electrode_type == Upload.ElectrodeType.SURFACE
    filtered, band = display_signal(data, recording.sfreq, surface=surface)
    return data, filtered, band


def signal_preview(
    recording,
    filtered: np.ndarray | None = None,
    band: tuple[float, float] | None = None,
    *,
    max_bins: int = PREVIEW_MAX_BINS,
) -> dict[str, Any]:
    """A small JSON summary of raw and filtered signal for the result plot.

    Long recordings keep each bin's min and max, at most ``2 * max_bins`` points
    per channel, so spikes stay visible.
    """
    if filtered is None:
        data, filtered, band = _display_channels(recording)
    else:
        data = recording.data[: filtered.shape[0]].astype(np.float64)
    channels = []
    for i in range(data.shape[0]):
        idx, raw = _minmax_decimate(data[i], max_bins)
        channels.append(
            {
                "name": recording.ch_names[i],
                "unit": recording.units[i],
                "t_s": np.round(idx / recording.sfreq, 5).tolist(),
                "raw": [float(f"{v:.5g}") for v in raw],
                "filtered": [float(f"{v:.5g}") for v in filtered[i][idx]],
            }
        )
    return {
        "sfreq": recording.sfreq,
        "duration_s": recording.duration_s,
        "n_chans": recording.n_chans,
        "decimated": recording.n_times > 2 * max_bins,
        "band_hz": list(band) if band else None,
        "channels": channels,
    }


def analysis_run(*, job_id: int) -> str:
    """Run one analysis job in a worker; a second call for the same job does nothing.

    Returns the claim's outcome (clinic.services.jobs): ``"claimed"`` when
    this call ran the job, ``"busy"`` when a live worker holds it, ``"done"``,
    ``"gave_up"``.

    Recording problems end the job FAILED with emgcore's message; anything
    unexpected is logged and ends FAILED with a generic message and a reference.
    """
    return job_run_claimed(AnalysisJob, job_id, _analysis_body)


def _analysis_body(job_id: int) -> None:
    job = AnalysisJob.objects.select_related("upload").get(pk=job_id)
    model_version = model_version_active()
    AnalysisJob.objects.filter(pk=job_id).update(model_version=model_version)
    checkpoint = model_version_checkpoint_verified(model_version)
    job_progress(AnalysisJob, job_id, 15)
    with tempfile.TemporaryDirectory(prefix=f"myolens-job{job_id}-") as tmp:
        recording = _recording_read(job.upload, Path(tmp))
    job_progress(AnalysisJob, job_id, 35)
    prediction = _predict(recording, checkpoint, model_version)
    job_progress(AnalysisJob, job_id, 70)
    quality = prediction.get("quality") or _quality_assess(recording)
    _raw, filtered, band = _display_channels(recording, job.upload.electrode_type)
    features = _summary_features(recording, filtered, band)
    if prediction["label"] != "not_analysable":
        features["qemg"] = _qemg(recording, job.upload.electrode_type)
    job_progress(AnalysisJob, job_id, 85)
    preview = signal_preview(recording, filtered, band)
    with transaction.atomic():
        Result.objects.create(
            job=job,
            probabilities=prediction["probabilities"],
            label=prediction["label"],
            # None for a not-analysable recording (emgcore.gate): no numbers.
            confidence=None
            if prediction["confidence"] is None
            else float(prediction["confidence"]),
            gate=prediction.get("gate") or {},
            windows=prediction.get("windows", []),
            quality=quality,
            features=features,
            notes=list(prediction.get("notes") or []),
            signal_preview=preview,
            model_version=model_version,
        )
        job_succeed(AnalysisJob, job_id)
