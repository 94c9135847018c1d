"""The gesture All-ConvNet, its training defaults and its forward pass.

Layer widths, the adaptation methods, the train/validation part of each
trial and the three :class:`~emgcore.config.TrainConfig` presets
(pretraining, adaptation, scratch) are defined once here, beside
:func:`build_gesture_model` and :func:`predict_proba`, so training and
evaluation read the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from emgcore.config import TrainConfig
from emgcore.gesture.data import (
    ADAPT_AUGMENT,
    GainAugment,
    GestureDatasetSpec,
)
from emgcore.models import AllConvNet

#: Layer widths used for every gesture model here: the paper's layout at half
#: width (115,848 parameters for 8 classes vs 461,064 at (64, 128)), chosen for
#: a 2-core CPU budget; ``--widths 64 128`` restores the paper's size.
DEFAULT_WIDTHS: tuple[int, int] = (32, 64)
ADAPT_METHODS: tuple[str, ...] = ("tl_frozen", "tl_full", "scratch")
#: Fraction of each trial used for training; the rest validates (early stopping).
TRAIN_PART = {"pretrain": 0.8, "adapt": 0.75}

PRETRAIN_CONFIG = TrainConfig(
    epochs=12, batch_size=64, lr=1e-3, weight_decay=1e-4, patience=3
)
ADAPT_CONFIG = TrainConfig(
    epochs=30, batch_size=32, lr=5e-4, weight_decay=1e-4, patience=5
)
SCRATCH_CONFIG = TrainConfig(
    epochs=30, batch_size=32, lr=1e-3, weight_decay=1e-4, patience=5
)

EpochCallback = Callable[[dict[str, Any]], "bool | None"]


@dataclass(frozen=True)
class PretrainOptions:
    """How :func:`~emgcore.gesture.core.pretrain` trains the source model.

    ``config`` (Adam, early stopping), the layer ``widths``, ``max_windows``
    (seeded subset of the training windows), ``per_subject`` scaling and
    ``val_subjects`` (source subjects left out to choose the epoch count); see
    :func:`~emgcore.gesture.core.pretrain` for each.
    """

    config: TrainConfig = PRETRAIN_CONFIG
    widths: Sequence[int] = DEFAULT_WIDTHS
    max_windows: int | None = 20000
    per_subject: bool = True
    val_subjects: int = 0


@dataclass(frozen=True)
class AdaptOptions:
    """How :func:`~emgcore.gesture.core.adapt` adapts to one person.

    The ``method`` (``"tl_frozen"``, ``"tl_full"``, ``"scratch"``), its
    ``config`` (None: the method's preset), the ``widths`` of a scratch model
    without a source, the electrode-gain ``augment`` and ``refit`` on the
    whole trials; see :func:`~emgcore.gesture.core.adapt` for each.
    """

    method: str = "tl_frozen"
    config: TrainConfig | None = None
    widths: Sequence[int] = DEFAULT_WIDTHS
    augment: GainAugment | None = ADAPT_AUGMENT
    refit: bool = True


#: The defaults, shared (the options are frozen).
PRETRAIN_OPTIONS = PretrainOptions()
ADAPT_OPTIONS = AdaptOptions()


def build_gesture_model(
    spec: GestureDatasetSpec,
    n_chans: int,
    *,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    seed: int = 0,
) -> AllConvNet:
    """A freshly initialised All-ConvNet for ``spec``'s windows (seeded).

    ``n_chans`` electrodes give ``n_chans * spec.rows_per_channel`` image rows.
    """
    from emgcore.train import set_seeds

    set_seeds(seed)
    return AllConvNet(
        n_chans=n_chans * spec.rows_per_channel,
        n_times=spec.window,
        n_outputs=len(spec.class_names),
        sfreq=spec.sfreq,
        widths=tuple(int(w) for w in widths),
    )


def predict_proba(
    model: torch.nn.Module, images: NDArray[np.float32], *, batch_size: int = 512
) -> NDArray[np.float64]:
    """Softmax probabilities, shape (n, n_classes), for images (n, 1, h, w)."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            logits = model(torch.from_numpy(images[i : i + batch_size]))
            out.append(torch.softmax(logits, dim=1).double().numpy())
    if not out:
        return np.zeros((0, int(getattr(model, "n_outputs", 0))))
    return np.concatenate(out)
