"""emgcore: EMG signal I/O, preprocessing, models, training and evaluation.

This package is framework-free: it never imports Django or Celery, so the same
code runs in the web app's workers, on the command line and in notebooks.
Submodules are imported lazily by their users to keep ``import emgcore`` cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

from emgcore.errors import (  # noqa: E402  (re-exported for convenience)
    EmgCoreError,
    IncompatibleCheckpointError,
    InvalidRecordingError,
)
from emgcore.recording import Recording  # noqa: E402

__all__ = [
    "EmgCoreError",
    "IncompatibleCheckpointError",
    "InvalidRecordingError",
    "Recording",
    "__version__",
]
