"""Run a checkpoint over labelled windows and report its metrics.

Used by ``python -m emgcore evaluate checkpoint`` and by the clinic's
retraining jobs and auditor reports.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore.datasets.base import WindowSet


def evaluate_checkpoint(
    checkpoint_path: str | os.PathLike[str],
    ws: WindowSet,
    idx: NDArray[np.int64] | None = None,
    *,
    recording_level: bool = True,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Metrics of a checkpoint on windows ``ws[idx]`` (default all).

    Returns a JSON-serialisable dict: ``window`` (and ``recording`` when asked
    and there are several recordings per class) reports with bootstrap CIs
    (``emgcore.metrics.report_with_ci``), ECE and the reliability curve, using
    the checkpoint's own temperature.
    """
    from emgcore.checkpoint import load_checkpoint
    from emgcore.inference import window_probabilities
    from emgcore.metrics import (
        aggregate_by_group,
        expected_calibration_error,
        labels_by_group,
        reliability_curve,
        report_with_ci,
    )

    model, meta = load_checkpoint(checkpoint_path)
    names = list(meta["class_names"])
    if tuple(names) != tuple(ws.class_names):
        from emgcore.errors import IncompatibleCheckpointError

        raise IncompatibleCheckpointError(
            f"The checkpoint's classes {names} differ from the data's {list(ws.class_names)}."
        )
    sub = ws if idx is None else ws.subset(idx)
    temperature = float(meta["metrics"].get("temperature", 1.0) or 1.0)
    proba = window_probabilities(model, sub.X, temperature=temperature)
    several = len(np.unique(sub.recording_ids)) > len(names)
    out: dict[str, Any] = {
        "n_windows": len(sub),
        "n_recordings": int(len(np.unique(sub.recording_ids))),
        "temperature": temperature,
        "window": {
            "report": report_with_ci(
                sub.y,
                proba,
                names,
                n_boot=n_boot,
                seed=seed,
                groups=sub.recording_ids if several else None,
            ),
            "ece": expected_calibration_error(sub.y, proba),
            "reliability": reliability_curve(sub.y, proba),
        },
    }
    if recording_level and several:
        gid, p = aggregate_by_group(proba, sub.recording_ids)
        _, yg = labels_by_group(sub.y, sub.recording_ids)
        out["recording"] = {
            "report": report_with_ci(yg, p, names, n_boot=n_boot, seed=seed),
            "ece": expected_calibration_error(yg, p),
            "reliability": reliability_curve(yg, p),
        }
    return out
