"""The model side of one retraining run: fit, calibrate, evaluate.

:func:`retrain` takes the base checkpoint and the run's windows, fits the
base architecture (gradual unfreezing for transfer learning, or the same
architecture from scratch), fits the temperature on the validation windows
and evaluates the calibrated model with bootstrap CIs. It returns the model
and the metadata to save with it; storing the file is the caller's job.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from emgcore.config import TrainConfig
from emgcore.datasets.base import DISEASE_CLASSES, WindowSet
from emgcore.errors import InvalidOptionError
from emgcore.retrain.data import cap_windows, split_by_subject

if TYPE_CHECKING:  # emgcore.train imports torch, which the app loads lazily
    from emgcore.train.base import EpochCallback

#: The methods of a retraining run.
RETRAIN_METHODS = ("tl", "scratch")


@dataclass(frozen=True)
class RetrainConfig:
    """How one retraining run trains, and what its checkpoint records.

    Parameters
    ----------
    method : {"tl", "scratch"}
        ``"tl"`` fine-tunes the base model (gradual unfreezing when the model
        has an encoder); ``"scratch"`` trains the same architecture anew.
    epochs, learning_rate, seed
        The run's schedule and seed.
    max_windows : int
        Cap on training windows; validation gets ``max(3, max_windows // 4)``.
    n_boot : int
        Bootstrap resamples of the evaluation's CIs.
    device : str
        Where :func:`emgcore.train.fit` trains.
    data_sources : tuple of str
        Names of the data the windows came from, recorded in the checkpoint.
    run_id : int or None
        The caller's reference of the run (``metrics["retraining_run"]``).
    """

    method: str = "tl"
    epochs: int = 10
    learning_rate: float = 1e-4
    seed: int = 0
    max_windows: int = 2000
    n_boot: int = 1000
    device: str = "cpu"
    data_sources: tuple[str, ...] = ()
    run_id: int | None = None

    def __post_init__(self) -> None:
        if self.method not in RETRAIN_METHODS:
            raise InvalidOptionError(
                f"Unknown retraining method {self.method!r}; choose from "
                f"{RETRAIN_METHODS}."
            )

    def train_config(self, model: Any) -> TrainConfig:
        """The fitting schedule of this run for ``model``."""
        lr = float(self.learning_rate)
        if self.method == "tl" and hasattr(model, "encoder_parameters"):
            # Gradual unfreezing (the paper's recipe): the head first, then all
            # layers at a tenth of the rate.
            frozen = max(1, self.epochs // 3) if self.epochs > 1 else 1
            return TrainConfig(
                epochs=self.epochs,
                freeze_encoder_epochs=frozen,
                frozen_lr=lr,
                unfrozen_lr=lr / 10,
            )
        return TrainConfig(epochs=self.epochs, lr=lr)


@dataclass(frozen=True)
class BaseCheckpoint:
    """The model a run starts from: weights, metadata and file sha256."""

    model: Any
    metadata: dict[str, Any]
    sha256: str

    @classmethod
    def load(cls, path: str | Path, *, expected_sha256: str) -> BaseCheckpoint:
        """Load and verify a checkpoint file against its registered sha256."""
        from emgcore.checkpoint import load_checkpoint

        model, meta = load_checkpoint(path, expected_sha256=expected_sha256)
        return cls(model=model, metadata=dict(meta), sha256=expected_sha256)


@dataclass(frozen=True)
class RetrainSplit:
    """The windows a run trains and validates on (indices into the windows)."""

    train_idx: NDArray[np.int64]
    val_idx: NDArray[np.int64]


@dataclass
class RetrainResult:
    """What :func:`retrain` returns.

    ``cancelled`` runs carry no model or metadata. ``metadata`` is ready for
    :func:`emgcore.checkpoint.save_checkpoint`; its ``metrics`` hold the
    temperature, the validation accuracy and the evaluation
    (``per_class``, ``accuracy``, ``balanced_accuracy``, ``evaluation_level``,
    ``evaluation``).
    """

    split: RetrainSplit
    cancelled: bool = False
    model: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


def retrain_split(windows: WindowSet, config: RetrainConfig) -> RetrainSplit:
    """Person-wise split, capped; refuses data too small to train on."""
    train_idx, val_idx = split_by_subject(windows, seed=config.seed)
    cap = config.max_windows
    train_idx = cap_windows(windows, train_idx, cap, config.seed)
    val_idx = cap_windows(windows, val_idx, max(3, cap // 4), config.seed)
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise InvalidOptionError(
            "The training data are too small to hold out validation recordings."
        )
    missing = [
        windows.class_names[c]
        for c in range(windows.n_classes)
        if not np.any(windows.y[train_idx] == c)
    ]
    if missing:
        raise InvalidOptionError(
            f"The training data have no {', '.join(missing)} example; choose more "
            "data (for example a built-in dataset)."
        )
    return RetrainSplit(train_idx=train_idx, val_idx=val_idx)


def window_logits(model: Any, X: NDArray[np.float32], batch_size: int = 128):
    """Raw logits of ``model`` over windows ``X``, in batches, as float64."""
    import torch

    model.eval()
    out = []
    with torch.inference_mode():
        for s in range(0, len(X), batch_size):
            out.append(model(torch.from_numpy(X[s : s + batch_size])).double().numpy())
    return np.concatenate(out) if out else np.zeros((0, len(DISEASE_CLASSES)))


def retrain(
    windows: WindowSet,
    config: RetrainConfig,
    *,
    base: BaseCheckpoint,
    split: RetrainSplit | None = None,
    on_epoch: EpochCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> RetrainResult:
    """Fit, calibrate and evaluate a candidate model on ``windows``.

    ``split`` defaults to :func:`retrain_split`. ``on_epoch`` gets every
    epoch's record and stops the fit by returning False; ``should_stop`` is
    asked once after the fit (a cancel that came after the last epoch).
    ``on_stage("evaluating")`` is called before the (slow) evaluation.
    """
    import torch

    from emgcore.metrics import fit_temperature
    from emgcore.models import build_model
    from emgcore.train import FitRuntime, fit, set_seeds

    split = split or retrain_split(windows, config)
    train_idx, val_idx = split.train_idx, split.val_idx
    meta = base.metadata
    model = base.model
    if config.method == "scratch":
        set_seeds(config.seed)
        model = build_model(meta["model_name"], **meta["model_kwargs"])
    else:
        torch.manual_seed(config.seed)
    train_config = config.train_config(model)
    result = fit(
        model,
        (windows.X[train_idx], windows.y[train_idx]),
        (windows.X[val_idx], windows.y[val_idx]),
        config=train_config,
        seed=config.seed,
        progress=False,
        on_epoch=on_epoch,
        runtime=FitRuntime(device=config.device),
    )
    if result.cancelled or (should_stop is not None and should_stop()):
        return RetrainResult(split=split, cancelled=True, history=result.history)
    model.load_state_dict(result.state)
    model.to("cpu")
    logits = window_logits(model, windows.X[val_idx])
    temperature = float(fit_temperature(logits, windows.y[val_idx]))
    metadata = _metadata(windows, config, base, train_config, split)
    metadata["metrics"].update(
        temperature=temperature,
        val_acc=result.best_val_acc,
        best_epoch=result.best_epoch,
        retraining_run=config.run_id,
    )
    if on_stage is not None:
        on_stage("evaluating")
    metadata["metrics"].update(_evaluation(model, metadata, windows, val_idx, config))
    return RetrainResult(
        split=split, model=model, metadata=metadata, history=result.history
    )


def _metadata(windows, config, base, train_config, split) -> dict[str, Any]:
    """The candidate's checkpoint metadata; the metrics' keys in their order."""
    meta = base.metadata
    metrics: dict[str, Any] = {
        "temperature": None,
        "method": config.method,
        "n_train": int(len(split.train_idx)),
        "n_val": int(len(split.val_idx)),
        "val_acc": None,
        "best_epoch": None,
        "retraining_run": config.run_id,
    }
    return {
        "class_names": list(meta["class_names"]),
        "preprocess": meta["preprocess"],
        "train": {
            **train_config.to_dict(),
            "stage": "retraining",
            "data": list(config.data_sources),
            "max_windows": config.max_windows,
        },
        "dataset": {
            "name": "+".join(config.data_sources),
            "split_hash": windows.content_hash(),
        },
        "metrics": metrics,
        "seed": config.seed,
        "parent": base.sha256,
        "min_confidence": meta.get("min_confidence"),
    }


def _evaluation(model, metadata, windows, val_idx, config) -> dict[str, Any]:
    """Per-class metrics with CIs of the calibrated model on validation.

    Recording level when there are several recordings per class, else window
    level; :func:`emgcore.evaluate.evaluate_checkpoint` reads a file, so the
    candidate is saved once to a temporary draft.
    """
    from emgcore.checkpoint import save_checkpoint
    from emgcore.evaluate import evaluate_checkpoint

    with tempfile.TemporaryDirectory(prefix="emgcore-retrain-") as tmp:
        draft = Path(tmp) / "draft.pt"
        save_checkpoint(draft, model, metadata)
        evaluation = evaluate_checkpoint(
            draft, windows, val_idx, n_boot=config.n_boot, seed=config.seed
        )
    level = "recording" if "recording" in evaluation else "window"
    report = evaluation[level]["report"]
    return {
        "per_class": report["per_class"],
        "accuracy": report.get("accuracy"),
        "balanced_accuracy": report.get("balanced_accuracy"),
        "evaluation_level": level,
        "evaluation": evaluation,
    }
