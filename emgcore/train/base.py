"""Types every part of the training loop shares, and seeding.

:class:`TrainResult` (what :func:`~emgcore.train.fit` returns),
:class:`FitRuntime` (where it trains and keeps its resume state),
:class:`TrainingCancelled` (raised by an ``on_epoch`` callback), the data and
callback type aliases, the loop's mutable progress record and
:func:`set_seeds`.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch.utils.data import Dataset

from emgcore.errors import EmgCoreError

ArrayPair = tuple[NDArray[Any] | torch.Tensor, NDArray[Any] | torch.Tensor]
DataArg = ArrayPair | Dataset
EpochCallback = Callable[[dict[str, Any]], "bool | None"]


@dataclass(frozen=True)
class FitRuntime:
    """Where :func:`~emgcore.train.fit` runs: not what it learns.

    ``device`` (``"cpu"``, ``"cuda"``) and ``resume_dir``, the folder of its
    ``resume.pt`` (written after every epoch; a run that finds one continues
    after its last epoch and gives the weights of an uninterrupted run).
    """

    device: str | torch.device = "cpu"
    resume_dir: str | os.PathLike[str] | None = None


#: Train on the CPU without resume state.
DEFAULT_RUNTIME = FitRuntime()


class TrainingCancelled(EmgCoreError):
    """Raised by an ``on_epoch`` callback to stop training cleanly."""


@dataclass
class TrainResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    history : list of dict
        One record per epoch run (including epochs restored from a resumed
        run): ``epoch``, ``train_loss``, ``val_loss``, ``val_acc``,
        ``val_balanced_acc``, ``lr``, ``frozen``, ``elapsed_s``.
    best_epoch : int
        Epoch (1-based) with the highest validation accuracy, or the last epoch
        without validation data.
    best_val_acc : float or None
        Validation accuracy at ``best_epoch``; None without validation data.
    stopped_early : bool
        True if patience ran out.
    cancelled : bool
        True if the ``on_epoch`` callback stopped training.
    state : dict
        CPU copy of the final model's ``state_dict`` (best weights if restored).
    elapsed_s : float
        Wall time of this call in seconds.
    """

    history: list[dict[str, Any]]
    best_epoch: int
    best_val_acc: float | None
    stopped_early: bool
    state: dict[str, torch.Tensor]
    elapsed_s: float
    cancelled: bool = False


@dataclass
class _Progress:
    epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_val_acc: float = -math.inf
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs: int = 0
    stopped_early: bool = False


def set_seeds(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's (CPU and CUDA) random generators.

    It does not switch on deterministic algorithms or change thread counts:
    on CPU, runs with the same seed and thread count give identical weights.

    Parameters
    ----------
    seed : int
        Non-negative seed.
    """
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"'seed' must be a non-negative integer, got {seed!r}.")
    return int(seed)
