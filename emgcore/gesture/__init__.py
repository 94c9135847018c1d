"""Gesture recognition with the All-ConvNet and transfer learning (Islam et al. 2023).

- :mod:`emgcore.gesture.data`: trials, 2-D window images, adaptation/test splits;
- :mod:`emgcore.gesture.core`: pretrain, adapt (TL frozen/full, scratch), LDA peer;
- :mod:`emgcore.gesture.checkpoints`: checkpoint files, model cards,
  pretraining to a file;
- :mod:`emgcore.gesture.api`: :func:`adapt_to_subject` for the web app,
  :func:`predict_files`, :func:`pick_targets`.

The evaluation protocols (intra-subject, inter-session, inter-subject;
resumable JSON units, summary and plot) are study code: :mod:`studies.gesture`.

Submodules are imported on use so ``import emgcore`` stays light.
"""

from __future__ import annotations

from typing import Any

_API = {
    "adapt_to_subject": "emgcore.gesture.api",
    "save_adapted": "emgcore.gesture.api",
    "load_gesture_checkpoint": "emgcore.gesture.api",
    "predict_files": "emgcore.gesture.api",
    "read_gesture_files": "emgcore.gesture.data",
    "DATASETS": "emgcore.gesture.data",
    "LAYOUTS": "emgcore.gesture.data",
}


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'emgcore.gesture' has no attribute {name!r}")


__all__ = sorted(_API)
