"""Retraining a disease model on new windows: the app's one entry point.

:mod:`.data` chooses the windows (person-wise split, caps, the default
model's split); :mod:`.run` fits, calibrates and evaluates
(:func:`retrain`); :mod:`.card` writes the per-class table of a model card. The app gathers the windows and keeps the bookkeeping (run
rows, storage, audit); everything that touches the model happens here.
"""

from __future__ import annotations

from emgcore.retrain.data import (
    VAL_FRACTION,
    cap_per_recording,
    cap_windows,
    default_model_split,
    split_by_subject,
)
from emgcore.retrain.run import (
    RETRAIN_METHODS,
    BaseCheckpoint,
    RetrainConfig,
    RetrainResult,
    RetrainSplit,
    retrain,
    retrain_split,
    window_logits,
)

__all__ = [
    "RETRAIN_METHODS",
    "BaseCheckpoint",
    "RetrainConfig",
    "RetrainResult",
    "RetrainSplit",
    "VAL_FRACTION",
    "cap_per_recording",
    "cap_windows",
    "default_model_split",
    "retrain",
    "retrain_split",
    "split_by_subject",
    "window_logits",
]
