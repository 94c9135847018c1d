"""Calibrate a site-standardised window-feature model to one laboratory.

The study (studies/site_norm.py, docs/experiments/2026-12-04-trees-ensembles-
calibration.md) found that standardising each window feature within its
recording site -- subtract the site's mean over windows, divide by its spread --
lifts accuracy and carries the model to a laboratory it never saw. Amplifiers,
needles and habits differ between laboratories, so those statistics must come
from the laboratory's own recordings: a batch of them, no labels needed.

:func:`calibrate_site` reads the recordings, keeps the windows
:func:`emgcore.inference.predict` would analyse (same gate, channel, units,
preprocessing), takes the model's raw window features, and writes a new
checkpoint with the site's statistics and ``metadata["site_calibration"]``.
Until then :func:`emgcore.inference.predict` refuses the model and the
signal-quality gate gives the reason ``site``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from emgcore.errors import (
    IncompatibleCheckpointError,
    InvalidOptionError,
    InvalidRecordingError,
)
from emgcore.recording import Recording

#: What is wrong with an uncalibrated site model, and the command that fixes it.
UNCALIBRATED_MESSAGE = (
    "This model must first be calibrated to your laboratory's recordings: it "
    "compares each recording with your laboratory's own average, which it does "
    "not know yet. Run 'python -m emgcore site-calibrate --model MODEL.pt "
    "--site YOUR_LAB --out CALIBRATED.pt RECORDING ...' on at least 20 of your "
    "laboratory's recordings (no diagnoses needed), then use CALIBRATED.pt."
)
#: Spread added to every feature's standard deviation, as in the study, so a
#: feature constant over the site's windows does not divide by zero.
SPREAD_EPS = 1e-9
#: Windows per call of the model's feature extraction (bounds memory).
BATCH = 64


def needs_site_calibration(metadata: dict[str, Any]) -> bool:
    """True for a site-standardised checkpoint without ``site_calibration``."""
    kwargs = metadata.get("model_kwargs") or {}
    return bool(kwargs.get("site_standardised")) and not metadata.get(
        "site_calibration"
    )


def require_site_calibration(metadata: dict[str, Any]) -> None:
    """Raise :class:`IncompatibleCheckpointError` when the model is uncalibrated."""
    if needs_site_calibration(metadata):
        raise IncompatibleCheckpointError(UNCALIBRATED_MESSAGE)


def window_rows(
    model: Any, metadata: dict[str, Any], recording: Recording
) -> NDArray[np.float64]:
    """The model's raw window features (n_windows, n_features) of ``recording``.

    The windows are those :func:`emgcore.inference.predict` would analyse; none
    (an empty array) when the signal-quality gate refuses the recording or no
    window fits in its usable parts.

    Raises
    ------
    InvalidRecordingError
        If the recording is not in physical units: its amplitudes would be
        read as microvolts and shift the laboratory's statistics.
    """
    from emgcore.gate import ModelInput
    from emgcore.inference import model_windows
    from emgcore.models.feature_linear import feature_names

    # The model is being calibrated right now, so the "site" reason is waived.
    model_input = replace(ModelInput.from_metadata(metadata), site_calibrated=True)
    found = model_windows(recording, metadata, model_input=model_input)
    units = [r for r in found.verdict.reasons if r.code == "units"]
    if units:
        name = recording.source.get("path") or "(unnamed)"
        raise InvalidRecordingError(
            f"Recording {name} cannot be used for site calibration: {units[0].message}"
        )
    if len(found.windows) == 0:
        return np.zeros((0, len(feature_names())))
    rows = []
    with torch.inference_mode():
        for start in range(0, len(found.windows), BATCH):
            batch = torch.from_numpy(np.array(found.windows[start : start + BATCH]))
            rows.append(model.raw_features(batch).cpu().numpy())
    return np.concatenate(rows)


def moments(
    rows: Sequence[NDArray[np.floating]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-feature mean and spread over all rows, non-finite values left out."""
    X = np.concatenate([np.asarray(r, dtype=np.float64) for r in rows])
    X = np.where(np.isfinite(X), X, np.nan)
    return np.nanmean(X, axis=0), np.nanstd(X, axis=0) + SPREAD_EPS


def calibrate_site(
    checkpoint_path: str | os.PathLike[str],
    recording_paths: Sequence[str | os.PathLike[str]],
    out_path: str | os.PathLike[str],
    *,
    site: str,
    min_recordings: int = 20,
) -> dict[str, Any]:
    """Write a copy of a site-standardised checkpoint calibrated to ``site``.

    Parameters
    ----------
    checkpoint_path : path-like
        A checkpoint of a ``FeatureLinear(site_standardised=True)``.
    recording_paths : sequence of path-like
        The laboratory's recordings (a ``.hea`` with its ``.dat`` is one).
    out_path : path-like
        Where the calibrated checkpoint (and its ``.sha256``) are written.
    site : str
        The laboratory's name, stored in the metadata.
    min_recordings : int
        Fewest analysable recordings accepted: a few recordings describe
        their people, not the laboratory.

    Returns
    -------
    dict
        ``site``, ``n_recordings``, ``n_windows``, ``n_refused`` (recordings
        the gate refused), ``out`` and ``sha256`` of the written checkpoint.
    """
    from emgcore.checkpoint import load_checkpoint, save_checkpoint
    from emgcore.io import group_paths, read_recording

    site = str(site).strip()
    if not site:
        raise InvalidOptionError("Give the laboratory's name ('site').")
    if int(min_recordings) < 1:
        raise InvalidOptionError(
            f"'min_recordings' must be at least 1, got {min_recordings!r}."
        )
    model, metadata = load_checkpoint(checkpoint_path)
    if not getattr(model, "site_standardised", False):
        raise IncompatibleCheckpointError(
            f"{Path(checkpoint_path).name} holds a {metadata['model_name']!r} model "
            "that is not site-standardised, so it needs no site calibration and "
            "cannot take one; use it as it is."
        )
    rows, used = [], []
    groups = group_paths(list(recording_paths))
    for group in groups:
        found = window_rows(model, metadata, read_recording(group))
        if len(found):
            rows.append(found)
            used.append({"name": group[0].name, "sha256": _files_sha256(group)})
    if len(used) < int(min_recordings):
        raise InvalidRecordingError(
            f"Only {len(used)} of the {len(groups)} recordings could be analysed; "
            f"site calibration needs at least {int(min_recordings)} analysable "
            "recordings of your laboratory. Add more recordings (no diagnoses "
            "needed) and run it again."
        )
    mean, spread = moments(rows)
    model.set_site_statistics(mean, spread)
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    calibration = {
        "site": site,
        "n_recordings": len(used),
        "n_windows": int(sum(len(r) for r in rows)),
        "recordings": used,
        "created_at": created,
    }
    new_metadata = {**metadata, "site_calibration": calibration}
    sha = save_checkpoint(out_path, model, new_metadata)
    _copy_card(Path(checkpoint_path), Path(out_path), calibration)
    return {
        "site": site,
        "n_recordings": len(used),
        "n_windows": calibration["n_windows"],
        "n_refused": len(groups) - len(used),
        "out": str(out_path),
        "sha256": sha,
    }


def _files_sha256(group: Sequence[Path]) -> str:
    """sha256 of a recording's file, or of its files' digests when several."""
    from emgcore.checkpoint import file_sha256

    files = list(group)
    if len(files) == 1 and files[0].suffix.lower() == ".hea":
        # The samples are in the .dat beside the header: hash them too.
        dat = files[0].with_suffix(".dat")
        if dat.is_file():
            files.append(dat)
    if len(files) == 1:
        return file_sha256(files[0])
    lines = "".join(f"{file_sha256(p)}  {p.name}\n" for p in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def _copy_card(source: Path, out: Path, calibration: dict[str, Any]) -> None:
    """Copy the checkpoint's model card (``.md`` beside it), saying the site."""
    # The two names the clinic's registry reads a card from.
    pairs = [
        (source.with_suffix(".md"), out.with_suffix(".md")),
        (source.with_name(source.name + ".md"), out.with_name(out.name + ".md")),
    ]
    found = [(card, target) for card, target in pairs if card.is_file()]
    if not found:
        return
    card, target = found[0]
    text = card.read_text(encoding="utf-8").rstrip("\n")
    line = (
        f"Site calibration: standardised to {calibration['site']} on "
        f"{calibration['n_recordings']} recordings ({calibration['n_windows']} "
        f"windows), {calibration['created_at']}."
    )
    target.write_text(f"{text}\n\n{line}\n", encoding="utf-8")
