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

from emgcore._validation import (
    MAX_CHANNELS,
    MAX_SFREQ_HZ,
    MIN_SFREQ_HZ,
    _check_option,
)

PREPROCESS_NOTCH: tuple[str | float | None, ...] = ("auto", 50.0, 60.0, None)
PREPROCESS_ZSCORE: tuple[str | None, ...] = ("recording", "window", None)


@dataclass(frozen=True)
class PreprocessConfig:
    """How :class:`emgcore.preprocess.EMGPreprocessor` turns a recording into windows.

    Defaults follow the CNN-TCN paper (section 3.2): resample to 1 kHz, 4th-order
    Butterworth band-pass 20-450 Hz (the paper's NinaPro setting), z-score,
    1 s windows with 50 % overlap.

    Parameters
    ----------
    target_sfreq : float or None
        Output sampling rate in Hz (``resample_poly``); None keeps the native rate.
    bandpass_hz : tuple of (float, float) or None
        Pass band ``(low_hz, high_hz)`` of the zero-phase Butterworth filter;
        None disables it. The paper uses 20-500 Hz for PhysioNet, but 500 Hz is
        the Nyquist frequency at 1 kHz, where a low-pass edge cannot be placed.
        **Choice:** when ``high_hz`` is at or above the Nyquist frequency of the
        output rate, the filter becomes a high-pass at ``low_hz`` only (no
        clamping): the resampler's anti-aliasing filter already limits the band
        just below Nyquist, so ``(20, 500)`` at 1 kHz means "high-pass 20 Hz".
        ``(20, 450)`` is a true band-pass.
    filter_order : int
        Butterworth order (1-10). ``sosfiltfilt`` runs it forwards and
        backwards, so the magnitude response is squared and the phase is zero.
    notch_hz : {"auto", 50.0, 60.0, None}
        Power-line notch. ``"auto"`` looks for 50 or 60 Hz interference in the
        recording and notches only when it is found; a number always notches
        that frequency; None never notches.
    notch_harmonics : bool
        Also notch the harmonics of the mains frequency that lie in the pass band.
    zscore : {"recording", "window", None}
        Normalise each channel by the mean and standard deviation of the whole
        filtered recording, of each window, or not at all.
    window_s : float
        Window length in seconds (> 0).
    step_s : float
        Step between window starts in seconds (> 0); ``window_s / 2`` gives
        50 % overlap.
    replicate_to_n_chans : int or None
        The paper's single-channel -> 12-channel replication: copy a
        one-channel recording to this many channels. Recordings that already
        have this many channels pass unchanged; others are rejected.
    """

    target_sfreq: float | None = 1000.0
    bandpass_hz: tuple[float, float] | None = (20.0, 450.0)
    filter_order: int = 4
    notch_hz: str | float | None = "auto"
    notch_harmonics: bool = True
    zscore: str | None = "recording"
    window_s: float = 1.0
    step_s: float = 0.5
    replicate_to_n_chans: int | None = None

    def __post_init__(self) -> None:
        if self.target_sfreq is not None:
            _check_positive("target_sfreq", self.target_sfreq)
            if not (MIN_SFREQ_HZ <= self.target_sfreq <= MAX_SFREQ_HZ):
                raise ValueError(
                    f"'target_sfreq' {self.target_sfreq:g} Hz is outside the "
                    f"supported range {MIN_SFREQ_HZ:g}-{MAX_SFREQ_HZ:g} Hz."
                )
            object.__setattr__(self, "target_sfreq", float(self.target_sfreq))
        if self.bandpass_hz is not None:
            band = self.bandpass_hz
            if isinstance(band, str) or not hasattr(band, "__len__") or len(band) != 2:
                raise ValueError(
                    "'bandpass_hz' must be a pair (low_hz, high_hz) or None, got "
                    f"{band!r}."
                )
            low, high = band
            _check_positive("bandpass_hz low edge", low)
            _check_positive("bandpass_hz high edge", high)
            if not low < high:
                raise ValueError(
                    f"'bandpass_hz' low edge {low:g} Hz must be below the high edge "
                    f"{high:g} Hz (are they reversed?)."
                )
            if self.target_sfreq is not None and low >= self.target_sfreq / 2:
                raise ValueError(
                    f"'bandpass_hz' low edge {low:g} Hz must be below the Nyquist "
                    f"frequency {self.target_sfreq / 2:g} Hz of 'target_sfreq'."
                )
            object.__setattr__(self, "bandpass_hz", (float(low), float(high)))
        _check_int("filter_order", self.filter_order, 1)
        if self.filter_order > 10:
            raise ValueError(
                f"'filter_order' {self.filter_order} is above the limit of 10 "
                "(high orders are numerically unstable and not needed for EMG)."
            )
        notch = self.notch_hz
        if isinstance(notch, int | float) and not isinstance(notch, bool):
            notch = float(notch)
            object.__setattr__(self, "notch_hz", notch)
        _check_option("notch_hz", notch, PREPROCESS_NOTCH)
        if not isinstance(self.notch_harmonics, bool):
            raise ValueError(
                "'notch_harmonics' must be True or False, got "
                f"{self.notch_harmonics!r}."
            )
        _check_option("zscore", self.zscore, PREPROCESS_ZSCORE)
        _check_positive("window_s", self.window_s)
        _check_positive("step_s", self.step_s)
        object.__setattr__(self, "window_s", float(self.window_s))
        object.__setattr__(self, "step_s", float(self.step_s))
        if self.replicate_to_n_chans is not None:
            _check_int("replicate_to_n_chans", self.replicate_to_n_chans, 1)
            if self.replicate_to_n_chans > MAX_CHANNELS:
                raise ValueError(
                    f"'replicate_to_n_chans' {self.replicate_to_n_chans} is above "
                    f"the {MAX_CHANNELS} channels supported."
                )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of every field (tuples become lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PreprocessConfig:
        """Build from :meth:`to_dict` output (or its JSON); unknown keys are an error.

        Missing keys take their defaults; lists are turned back into tuples.
        """
        _check_known_fields(cls, data)
        return cls(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        )


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


def _check_positive(name: str, value: Any) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"'{name}' must be a positive number, got {value!r}.")


def _check_known_fields(cls: type, data: dict[str, Any]) -> None:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"Unknown {cls.__name__} field(s): {', '.join(unknown)}. "
            f"Known fields: {', '.join(sorted(known))}."
        )
