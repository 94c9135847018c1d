"""Generic, seeded, resumable training loop with gradual unfreezing.

Pure PyTorch: :func:`fit` trains the model it is given on the tensors or
datasets it is given. The only path it touches is an optional ``resume_dir``
where it keeps the state needed to continue an interrupted run.

The package is split by part; every name is re-exported here, so
``from emgcore.train import ...`` works as before: :mod:`.loop`
(:func:`fit`), :mod:`.steps` (batches, phases, evaluation), :mod:`.resume`
(the resume file) and :mod:`.base` (result types, seeding).
"""

from __future__ import annotations

from emgcore.train.base import (
    ArrayPair,
    DataArg,
    EpochCallback,
    FitRuntime,
    TrainingCancelled,
    TrainResult,
    set_seeds,
)
from emgcore.train.loop import (
    fit,
)
from emgcore.train.resume import (
    RESUME_FILE,
)
from emgcore.train.steps import (
    _balanced_weights,
)

__all__ = [
    "_balanced_weights",
    "ArrayPair",
    "DataArg",
    "EpochCallback",
    "fit",
    "FitRuntime",
    "RESUME_FILE",
    "set_seeds",
    "TrainingCancelled",
    "TrainResult",
]
