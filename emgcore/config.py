"""Hyperparameters as frozen dataclasses, checked in ``__post_init__``.

Each config is saved as JSON through :meth:`to_dict` and read back with
:meth:`from_dict` (which rejects unknown keys), so a checkpoint records exactly
how its model was made.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from emgcore._validation import _check_option

# NOTE (helper MODELS): PreprocessConfig (helper PRE) goes above TrainConfig when
# the two are merged; TrainConfig is self-contained.

TRAIN_OPTIMIZERS: tuple[str, ...] = ("adam", "adamw")
TRAIN_HEADS: tuple[str, ...] = ("disease", "movement")
TRAIN_CLASS_WEIGHTS: tuple[str | None, ...] = (None, "balanced")


@dataclass(frozen=True)
class TrainConfig:
    """How :func:`emgcore.train.fit` trains a model.

    Defaults follow the CNN-TCN paper's pretraining (Adam, weight decay 1e-4,
    batch 32, lr 1e-3). Its fine-tuning is ``TrainConfig(epochs=50, patience=10,
    freeze_encoder_epochs=10)``: epochs 1-10 with the encoder frozen at
    ``frozen_lr`` 1e-4, then everything trainable at ``unfrozen_lr`` 1e-5, early
    stopping on validation accuracy with the best weights restored.

    Parameters
    ----------
    epochs : int
        Maximum number of epochs (>= 1).
    batch_size : int
        Windows per optimisation step.
    lr : float
        Learning rate when ``freeze_encoder_epochs`` is 0.
    weight_decay : float
        L2 penalty (Adam's ``weight_decay``; decoupled for ``"adamw"``).
    optimizer : {"adam", "adamw"}
        Optimiser.
    patience : int or None
        Stop after this many epochs without a higher validation accuracy; None
        trains all ``epochs``. Needs validation data.
    restore_best : bool
        With validation data, end with the weights of the epoch of highest
        validation accuracy (the first such epoch).
    head : {"disease", "movement"}
        Which head to train: the model's primary head (``forward(x)``) or the
        CNN-TCN movement head used for pretraining (``forward(x, head="movement")``).
    freeze_encoder_epochs : int
        Gradual unfreezing: for epochs ``1..freeze_encoder_epochs`` the model's
        ``encoder_parameters()`` are frozen (batch-norm statistics too) and the
        rest trains at ``frozen_lr``; afterwards all parameters train at
        ``unfrozen_lr`` with a fresh optimiser. 0 disables it (then ``lr``).
        A value >= ``epochs`` keeps the encoder frozen throughout.
    frozen_lr : float
        Learning rate while the encoder is frozen.
    unfrozen_lr : float
        Learning rate after unfreezing.
    class_weights : {None, "balanced"}
        ``"balanced"`` weights the cross-entropy by ``n / (k * count_c)`` computed
        on the training labels (as scikit-learn's ``class_weight="balanced"``).
    """

    epochs: int = 60
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adam"
    patience: int | None = None
    restore_best: bool = True
    head: str = "disease"
    freeze_encoder_epochs: int = 0
    frozen_lr: float = 1e-4
    unfrozen_lr: float = 1e-5
    class_weights: str | None = None

    def __post_init__(self) -> None:
        for name, minimum in (
            ("epochs", 1),
            ("batch_size", 1),
            ("freeze_encoder_epochs", 0),
        ):
            _check_int(name, getattr(self, name), minimum)
        if self.patience is not None:
            _check_int("patience", self.patience, 1)
        for name in ("lr", "frozen_lr", "unfrozen_lr"):
            value = getattr(self, name)
            if not (
                isinstance(value, int | float) and math.isfinite(value) and value > 0
            ):
                raise ValueError(f"'{name}' must be a positive number, got {value!r}.")
        wd = self.weight_decay
        if not (isinstance(wd, int | float) and math.isfinite(wd) and wd >= 0):
            raise ValueError(f"'weight_decay' must be >= 0, got {wd!r}.")
        _check_option("optimizer", self.optimizer, TRAIN_OPTIMIZERS)
        _check_option("head", self.head, TRAIN_HEADS)
        _check_option("class_weights", self.class_weights, TRAIN_CLASS_WEIGHTS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from :meth:`to_dict` output; unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"Unknown TrainConfig field(s): {', '.join(unknown)}. "
                f"Known fields: {', '.join(sorted(known))}."
            )
        return cls(**data)


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"'{name}' must be an integer >= {minimum}, got {value!r}.")
