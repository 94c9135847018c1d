"""Fine-tuning and evaluation of one split.

Which methods transfer, the fine-tuning schedule of each, the per-recording
window cap, logits in batches, :func:`train_and_score` (fine-tune or train
from scratch, temperature-calibrate on validation, score on test). The
feature-based baselines of the paper's protocols are study code
(:mod:`studies.disease_paper`).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from emgcore.config import TrainConfig
from emgcore.datasets.base import WindowSet
from emgcore.disease.pretraining import METHODS, Budget, new_model
from emgcore.retrain import cap_per_recording, window_logits

# The old names, for the protocols and callers that still import them here.
_cap_per_recording = cap_per_recording
logits_of = window_logits


def is_transfer(method: str) -> bool:
    """``"tl"`` or ``"tl-<source>"``: fine-tuning a pretrained encoder."""
    return method == "tl" or method.startswith("tl-")


def finetune_config(method: str, budget: Budget) -> TrainConfig:
    """The paper's recipes: gradual unfreezing for TL, plain Adam for scratch."""
    if is_transfer(method):
        return TrainConfig(
            epochs=budget.finetune_epochs,
            patience=budget.patience,
            freeze_encoder_epochs=budget.freeze_epochs,
            frozen_lr=1e-4,
            unfrozen_lr=1e-5,
        )
    if method == "scratch":
        # The paper trains 30 epochs at lr 1e-3; we keep the best validation
        # epoch as for TL so both read the same validation data.
        return TrainConfig(epochs=budget.scratch_epochs, lr=1e-3, patience=None)
    if method == "scratch-bal":
        # Beyond the paper: in leave-one-subject-out the held-out subject's class
        # is under-represented in training, which pushes predictions away from it;
        # class-balanced loss weights remove that prior shift.
        return TrainConfig(
            epochs=budget.scratch_epochs,
            lr=1e-3,
            patience=None,
            class_weights="balanced",
        )
    raise ValueError(
        f"Unknown method {method!r}; choose from {METHODS + ('scratch-bal',)}."
    )


def train_and_score(
    ws: WindowSet,
    split: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    *,
    method: str,
    seed: int,
    budget: Budget,
    pretrained: str | None = None,
    progress: bool = False,
    return_model: bool = False,
) -> dict[str, Any]:
    """Fine-tune (TL) or train (scratch) on one split; score the test windows.

    Returns a JSON-serialisable record with the test windows' calibrated
    probabilities, the temperature fitted on validation, and training history.
    ``split`` is (train, validation, test) window indices.
    """
    from emgcore.checkpoint import load_checkpoint
    from emgcore.metrics import apply_temperature, fit_temperature
    from emgcore.train import fit

    train_idx, val_idx, test_idx = split

    if is_transfer(method):
        if pretrained is None:
            raise ValueError("Transfer learning needs a pretrained checkpoint.")
        model, _ = load_checkpoint(pretrained)
        torch.manual_seed(seed)
    else:
        model = new_model(n_times=ws.X.shape[-1], sfreq=ws.sfreq, seed=seed)
    config = finetune_config(method, budget)
    started = time.perf_counter()
    result = fit(
        model,
        (ws.X[train_idx], ws.y[train_idx]),
        (ws.X[val_idx], ws.y[val_idx]),
        config=config,
        seed=seed,
        progress=progress,
    )
    model.load_state_dict(result.state)
    val_logits = logits_of(model, ws.X[val_idx])
    temperature = fit_temperature(val_logits, ws.y[val_idx])
    test_logits = logits_of(model, ws.X[test_idx])
    record = {
        "method": method,
        "seed": seed,
        "n_train": int(len(train_idx)),
        "n_val": int(len(val_idx)),
        "n_test": int(len(test_idx)),
        "temperature": float(temperature),
        "best_epoch": result.best_epoch,
        "best_val_acc": result.best_val_acc,
        "epochs_run": len(result.history),
        "train_seconds": round(time.perf_counter() - started, 2),
        "test_idx": test_idx.tolist(),
        "test_proba_raw": apply_temperature(test_logits, 1.0).round(6).tolist(),
        "test_proba": apply_temperature(test_logits, temperature).round(6).tolist(),
        "train_config": config.to_dict(),
    }
    if return_model:
        record["_model"] = model
    return record
