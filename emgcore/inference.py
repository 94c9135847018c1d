"""Run a disease checkpoint over one recording.

The checkpoint's metadata says everything needed to use it (class order,
preprocessing, sampling rate, confidence threshold, calibration temperature),
so :func:`predict` needs nothing else.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from emgcore.errors import InvalidRecordingError
from emgcore.recording import Recording

logger = logging.getLogger(__name__)

INCONCLUSIVE = "inconclusive"
#: The label of a recording the signal-quality gate refused (emgcore.gate):
#: no class, no probabilities.
NOT_ANALYSABLE = "not_analysable"


@dataclass(frozen=True)
class Prediction:
    """What a model says about one recording.

    Attributes
    ----------
    probabilities : dict or None
        Class name -> probability for the whole recording (mean of the
        calibrated window probabilities), in the checkpoint's class order;
        None when the recording is not analysable.
    label : str
        The most probable class, ``"inconclusive"`` when its probability is
        below the checkpoint's ``min_confidence``, or ``"not_analysable"``
        when the signal-quality gate refused the recording.
    confidence : float or None
        Probability of the most probable class (None when not analysable).
    windows : list of dict
        Per analysed window: ``start_s``, ``stop_s`` (seconds of the original
        recording) and ``probabilities``. Windows overlapping a bad segment
        are not analysed and not listed.
    quality : dict
        :func:`emgcore.quality.assess_quality` of the recording.
    model : dict
        ``name``, ``version``, ``sha256`` of the checkpoint used.
    notes : list of str
        Things the reader should know (which channel was analysed, how much
        of the recording was left out, why it could not be analysed).
    gate : dict
        :meth:`emgcore.gate.Verdict.to_dict`: ``analysable``, ``reasons``,
        ``excluded_s``, ``excluded_fraction``, ``bad_intervals_s``, ...
    """

    probabilities: dict[str, float] | None
    label: str
    confidence: float | None
    windows: list[dict[str, Any]]
    quality: dict[str, Any]
    model: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    gate: dict[str, Any] = field(default_factory=dict)

    @property
    def analysable(self) -> bool:
        return self.label != NOT_ANALYSABLE

    def to_dict(self) -> dict[str, Any]:
        out = {
            "probabilities": self.probabilities,
            "label": self.label,
            "confidence": self.confidence,
            "analysable": self.analysable,
            "windows": self.windows,
            "quality": self.quality,
            "model": self.model,
            "notes": self.notes,
            "gate": self.gate,
        }
        if not self.analysable:
            out["message"] = self.gate.get("message", "")
            out["reasons"] = self.gate.get("reasons", [])
        return out


# Per process: models by the sha256 of their file's content, so a file replaced
# in place is read again and two paths to one file share one copy in memory.
MODEL_CACHE_SIZE = 4
_model_cache: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
_model_cache_lock = threading.Lock()


def model_cache_clear() -> None:
    """Forget every cached model (tests; a worker never needs to)."""
    with _model_cache_lock:
        _model_cache.clear()


def load_for_inference(
    checkpoint_path: str | os.PathLike[str], *, expected_sha256: str | None = None
):
    """Load a checkpoint, cached by its sha256: ``(model, metadata, sha256)``.

    The file is hashed on every call (a few ms for a few MB) so that what runs
    is always the file's current content.
    """
    from emgcore.checkpoint import file_sha256, load_checkpoint

    path = Path(checkpoint_path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"Checkpoint {path} does not exist.")
    sha = file_sha256(path)
    if expected_sha256 is not None and sha != expected_sha256.strip().lower():
        # Raises IncompatibleCheckpointError with the checkpoint module's message.
        load_checkpoint(path, expected_sha256=expected_sha256)
    with _model_cache_lock:
        if sha in _model_cache:
            _model_cache.move_to_end(sha)
            model, metadata = _model_cache[sha]
            return model, metadata, sha
    # Checked against ``sha`` again: a file changed since it was hashed is refused.
    model, metadata = load_checkpoint(path, expected_sha256=sha)
    with _model_cache_lock:
        _model_cache[sha] = (model, metadata)
        while len(_model_cache) > MODEL_CACHE_SIZE:
            _model_cache.popitem(last=False)
    return model, metadata, sha


def _select_channel(
    recording: Recording, n_model_chans: int, replicate: int | None, channel: int | None
) -> tuple[Recording, list[str]]:
    """Fit the recording's channels to what the model was trained on."""
    notes: list[str] = []
    single_channel_model = replicate is not None or n_model_chans == 1
    if not single_channel_model:
        if recording.n_chans != n_model_chans:
            raise InvalidRecordingError(
                f"The recording has {recording.n_chans} channels; this model expects "
                f"{n_model_chans}."
            )
        return recording, notes
    if recording.n_chans == 1 and channel in (None, 0):
        return recording, notes
    index = 0 if channel is None else channel
    if not 0 <= index < recording.n_chans:
        raise InvalidRecordingError(
            f"Channel {index} was asked for, but the recording has channels "
            f"0-{recording.n_chans - 1}."
        )
    notes.append(
        f"This model reads one channel; analysed channel {index} "
        f"({recording.ch_names[index]}) of {recording.n_chans}."
    )
    picked = Recording(
        data=recording.data[index : index + 1],
        sfreq=recording.sfreq,
        ch_names=(recording.ch_names[index],),
        units=(recording.units[index],),
        source=dict(recording.source),
    )
    return picked, notes


def _in_units(recording: Recording, unit: str) -> Recording:
    """``recording`` converted to ``unit`` (the gate refused any without units)."""
    from emgcore.qemg import TO_UV

    factors = [TO_UV[u] / TO_UV[unit] for u in recording.units]
    if all(f == 1.0 for f in factors):
        return recording
    data = recording.data * np.asarray(factors, dtype=recording.data.dtype)[:, None]
    return Recording(
        data=data,
        sfreq=recording.sfreq,
        ch_names=recording.ch_names,
        units=(unit,) * recording.n_chans,
        source=dict(recording.source),
    )


def window_probabilities(
    model: torch.nn.Module,
    windows: NDArray[np.float32],
    *,
    temperature: float = 1.0,
    batch_size: int = 64,
    device: str = "cpu",
) -> NDArray[np.float64]:
    """Softmax probabilities per window, shape (n_windows, n_classes)."""
    out = []
    model.to(device)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(windows), batch_size):
            # A copy: the windows may be a read-only strided view of the signal.
            batch = torch.from_numpy(np.array(windows[start : start + batch_size]))
            logits = model(batch.to(device)) / temperature
            out.append(torch.softmax(logits, dim=1).double().cpu().numpy())
    return np.concatenate(out, axis=0)


def predict(
    recording: Recording,
    checkpoint_path: str | os.PathLike[str],
    *,
    expected_sha256: str | None = None,
    channel: int | None = None,
    batch_size: int = 64,
    device: str = "cpu",
) -> Prediction:
    """Classify a recording with a disease checkpoint.

    Parameters
    ----------
    recording : Recording
        Any number of channels; single-channel models analyse ``channel``
        (default the first).
    checkpoint_path : path-like
        A checkpoint written by :func:`emgcore.checkpoint.save_checkpoint`.
    expected_sha256 : str or None
        Refuse the checkpoint unless its sha256 matches (the app's registry).
    channel : int or None
        Channel index to analyse with a single-channel model.
    batch_size : int
        Windows per forward pass.
    device : str
        Torch device of the forward passes (``"cpu"``, ``"cuda"``); the
        cached model moves there.

    Returns
    -------
    Prediction
        With ``label == "not_analysable"`` and no probabilities when
        :func:`emgcore.gate.check_recording` refuses the recording (flat,
        clipped, mains only, implausible amplitude, too little usable signal,
        wrong channel count or sampling rate); otherwise computed on the
        windows that overlap no bad segment, the recording z-score taken over
        the good samples only.

    Raises
    ------
    InvalidRecordingError
        If ``channel`` does not exist in the recording.
    IncompatibleCheckpointError
        If the checkpoint cannot be used (see :func:`load_checkpoint`), or it
        is site-standardised and not yet calibrated to the laboratory
        (:mod:`emgcore.site_calibration`).
    """
    from emgcore.config import PreprocessConfig
    from emgcore.quality import assess_quality
    from emgcore.site_calibration import require_site_calibration

    model, metadata, sha = load_for_inference(
        checkpoint_path, expected_sha256=expected_sha256
    )
    # Before any signal is read: an uncalibrated site model gives no answer.
    require_site_calibration(metadata)
    config = PreprocessConfig.from_dict(metadata["preprocess"])
    model_info = {
        "name": metadata["model_name"],
        "version": Path(checkpoint_path).stem,
        "sha256": sha,
        "created_at": metadata.get("created_at"),
    }
    quality = assess_quality(recording, window_s=config.window_s)
    found = model_windows(recording, metadata, channel=channel)
    verdict, windows, notes = found.verdict, found.windows, found.notes
    starts_s, stops_s = found.starts_s, found.stops_s
    if not verdict.analysable:
        return _not_analysable(verdict.to_dict(), quality, model_info)
    if len(windows) == 0:  # good stretches too short for the window grid
        gate = verdict.to_dict()
        gate["analysable"] = False
        text = (
            "No analysis window fits wholly inside the usable parts of the "
            "recording; record a longer stretch without interruptions."
        )
        gate["reasons"] = [*gate["reasons"], {"code": "too_short", "message": text}]
        gate["message"] = "This recording cannot be analysed. " + text
        return _not_analysable(gate, quality, model_info)
    notes.extend(verdict.warnings)
    if verdict.exclusion_note:
        notes.append(verdict.exclusion_note)
    temperature = float(metadata["metrics"].get("temperature", 1.0) or 1.0)
    proba = window_probabilities(
        model, windows, temperature=temperature, batch_size=batch_size, device=device
    )
    class_names = list(metadata["class_names"])
    mean = proba.mean(axis=0)
    best = int(np.argmax(mean))
    confidence = float(mean[best])
    min_conf = metadata.get("min_confidence")
    label = class_names[best]
    if min_conf is not None and confidence < float(min_conf):
        label = INCONCLUSIVE
    window_rows = [
        {
            "start_s": round(float(s), 4),
            "stop_s": round(float(e), 4),
            "probabilities": {
                c: float(p) for c, p in zip(class_names, row, strict=True)
            },
        }
        for s, e, row in zip(starts_s, stops_s, proba, strict=True)
    ]
    return Prediction(
        probabilities={c: float(p) for c, p in zip(class_names, mean, strict=True)},
        label=label,
        confidence=confidence,
        windows=window_rows,
        quality=quality,
        model=model_info,
        notes=notes,
        gate=verdict.to_dict(),
    )


@dataclass(frozen=True)
class ModelWindows:
    """The windows of a recording a checkpoint would read (:func:`model_windows`).

    ``windows`` is (n, n_chans, n_times), empty when the gate refused the
    recording (``verdict.analysable`` False) or no window fits in its good
    parts; ``notes`` says which channel was analysed.
    """

    verdict: Any
    windows: NDArray[np.float32]
    starts_s: NDArray[np.float64]
    stops_s: NDArray[np.float64]
    notes: list[str]


def model_windows(
    recording: Recording,
    metadata: dict[str, Any],
    *,
    channel: int | None = None,
    model_input: Any = None,
) -> ModelWindows:
    """Gate, pick the channel, convert units, preprocess, keep the good windows.

    Exactly what :func:`predict` does before the forward pass, so that other
    users of a checkpoint's windows (site calibration) read the same ones.
    ``model_input`` replaces the :class:`emgcore.gate.ModelInput` read from
    ``metadata`` (to check a recording against a model that is being made).
    """
    from emgcore.config import PreprocessConfig
    from emgcore.gate import ModelInput, check_recording
    from emgcore.preprocess import EMGPreprocessor

    config = PreprocessConfig.from_dict(metadata["preprocess"])
    if model_input is None:
        model_input = ModelInput.from_metadata(metadata)
    verdict = check_recording(recording, model_input, channel=channel)
    none = np.zeros(0)
    if not verdict.analysable:
        return ModelWindows(verdict, np.zeros((0, 0, 0), np.float32), none, none, [])
    picked, notes = _select_channel(
        recording, int(metadata["n_chans"]), config.replicate_to_n_chans, channel
    )
    input_units = (metadata.get("model_kwargs") or {}).get("input_units")
    if input_units:
        picked = _in_units(picked, input_units)
    pre = EMGPreprocessor(config).transform(picked)
    windows, starts_s, stops_s = _good_windows(pre, verdict)
    return ModelWindows(verdict, windows, starts_s, stops_s, notes)


def _not_analysable(
    gate: dict[str, Any], quality: dict[str, Any], model_info: dict[str, Any]
) -> Prediction:
    return Prediction(
        probabilities=None,
        label=NOT_ANALYSABLE,
        confidence=None,
        windows=[],
        quality=quality,
        model=model_info,
        notes=[gate["message"]],
        gate=gate,
    )


def _good_windows(pre, verdict) -> tuple[NDArray[np.float32], NDArray, NDArray]:
    """The windows that overlap no bad segment, with their start and stop times.

    With ``zscore="recording"`` the preprocessor normalised each channel by the
    mean and standard deviation of all its samples, bad ones included (a
    zeroed half would scale the good half up by about 1.4). The kept windows
    are normalised again by the statistics of the good samples only, so the
    model sees the good part as if it had been recorded alone.
    """
    keep = verdict.keep_windows(pre.window_starts_s, pre.window_stops_s)
    windows = pre.windows[keep]
    if verdict.excluded_s > 0 and pre.config.zscore == "recording" and keep.any():
        mask = verdict.good_sample_mask(pre.signal.shape[-1], pre.sfreq)
        good = pre.signal[:, mask]
        mean = good.mean(axis=1, dtype=np.float64)
        std = good.std(axis=1, dtype=np.float64)
        std = np.where(std < 1e-12, 1.0, std)
        windows = ((windows - mean[None, :, None]) / std[None, :, None]).astype(
            np.float32
        )
    return windows, pre.window_starts_s[keep], pre.window_stops_s[keep]
