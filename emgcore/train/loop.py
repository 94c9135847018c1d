"""The training loop itself: :func:`fit`.

Cross-entropy and Adam with early stopping on validation accuracy, gradual
unfreezing, an ``on_epoch`` callback that can cancel, and resumption from
:mod:`emgcore.train.resume`.
"""

from __future__ import annotations

import copy
import logging
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from emgcore.config import TrainConfig
from emgcore.train.base import (
    DEFAULT_RUNTIME,
    DataArg,
    EpochCallback,
    FitRuntime,
    TrainingCancelled,
    TrainResult,
    _check_seed,
    _Progress,
    set_seeds,
)
from emgcore.train.resume import RESUME_FILE, _load_resume, _save_resume
from emgcore.train.steps import (
    _apply_phase,
    _as_dataset,
    _balanced_weights,
    _batches,
    _cpu_state,
    _evaluate,
    _labels,
    _logits,
    _n_classes,
    _phase_for,
)

logger = logging.getLogger(__name__)


def fit(
    model: nn.Module,
    train_data: DataArg,
    val_data: DataArg | None = None,
    *,
    config: TrainConfig,
    seed: int,
    progress: bool = True,
    on_epoch: EpochCallback | None = None,
    runtime: FitRuntime = DEFAULT_RUNTIME,
) -> TrainResult:
    """Train ``model`` in place with cross-entropy and Adam.

    Parameters
    ----------
    model : torch.nn.Module
        An emgcore model (``forward(x) -> logits``; ``encoder_parameters()`` and
        ``encoder_modules()`` when ``config.freeze_encoder_epochs > 0``;
        ``forward(x, head=...)`` for another head). Its weights are the starting
        point: seed the RNG before building it for reproducible runs.
    train_data, val_data : (X, y) or torch Dataset
        ``X`` float32, shape (n, n_chans, n_times) (or image batches as the
        model expects) and ``y`` int class indices, shape (n,); or a Dataset
        yielding ``(x, y)``. ``val_data`` may be None (no early stopping, no
        best-weight selection).
    config : TrainConfig
        Epochs, batch size, learning rates, early stopping, unfreezing schedule.
    seed : int
        Seeds the RNGs (dropout, shuffling) via :func:`set_seeds`. Batches are
        shuffled with a generator seeded by ``(seed, epoch)``.
    progress : bool
        Show a tqdm progress bar (stderr).
    on_epoch : callable or None
        Called after each epoch with a dict (``epoch``, ``epochs``,
        ``train_loss``, ``val_loss``, ``val_acc``, ``val_balanced_acc``, ``lr``,
        ``frozen``, ``elapsed_s``). Returning False or raising
        :class:`TrainingCancelled` stops training cleanly (``result.cancelled``).
    runtime : FitRuntime
        ``device``: where to train (``"cpu"``, ``"cuda"``). ``resume_dir``:
        folder for ``resume.pt``, written after every epoch (model, optimiser,
        RNG state, best weights, history). If it exists when ``fit`` starts,
        training continues after its last epoch and gives the same weights as
        an uninterrupted run.

    Returns
    -------
    result : TrainResult

    Raises
    ------
    ValueError
        If the data or settings do not fit together.
    IncompatibleCheckpointError
        If ``resume_dir`` holds state made with other settings.
    """
    t0 = time.perf_counter()
    seed = _check_seed(seed)
    if not isinstance(config, TrainConfig):
        raise ValueError(
            f"'config' must be a TrainConfig, got {type(config).__name__}."
        )
    set_seeds(seed)
    device = torch.device(runtime.device)
    resume_dir = runtime.resume_dir
    train_ds = _as_dataset(train_data, "train_data")
    val_ds = _as_dataset(val_data, "val_data")
    if train_ds is None:
        raise ValueError("'train_data' is required.")
    if config.patience is not None and val_ds is None:
        raise ValueError("Early stopping ('patience') needs validation data.")
    n_classes = _n_classes(model, config.head)
    train_labels = _labels(train_ds)
    if int(train_labels.min()) < 0 or int(train_labels.max()) >= n_classes:
        raise ValueError(
            f"Training labels span {int(train_labels.min())}..{int(train_labels.max())}"
            f" but the '{config.head}' head has {n_classes} classes."
        )
    weight = None
    if config.class_weights == "balanced":
        weight = _balanced_weights(train_labels, n_classes).to(device)
    criterion = nn.CrossEntropyLoss(weight=weight)

    model.to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    initial_flags = [(p, p.requires_grad) for p in model.parameters()]
    encoder_ids: set[int] = set()
    encoder_modules: list[nn.Module] = []
    if config.freeze_encoder_epochs > 0:
        encoder_modules = list(model.encoder_modules())  # type: ignore[operator]
        encoder_ids = {id(p) for p in model.encoder_parameters()}  # type: ignore[operator]

    state = _Progress()
    phase: str | None = None
    optimizer: torch.optim.Optimizer | None = None
    resume_path = None
    if resume_dir is not None:
        Path(resume_dir).mkdir(parents=True, exist_ok=True)
        resume_path = Path(resume_dir) / RESUME_FILE
        if resume_path.is_file():
            saved = _load_resume(resume_path, config, seed)
            model.load_state_dict(saved["model"])
            phase = str(saved["phase"])
            optimizer = _apply_phase(model, phase, config, trainable, encoder_ids)
            optimizer.load_state_dict(saved["optimizer"])
            state = _Progress(
                epoch=int(saved["epoch"]),
                history=list(saved["history"]),
                best_val_acc=float(saved["best_val_acc"]),
                best_epoch=int(saved["best_epoch"]),
                best_state=saved["best_state"],
                bad_epochs=int(saved["bad_epochs"]),
                stopped_early=bool(saved["stopped_early"]),
            )
            torch.set_rng_state(saved["rng_cpu"])
            if device.type == "cuda" and saved["rng_cuda"] is not None:
                torch.cuda.set_rng_state_all(saved["rng_cuda"])
            logger.info("resuming from %s after epoch %d", resume_path, state.epoch)

    cancelled = False
    bar = tqdm(
        total=config.epochs,
        initial=min(state.epoch, config.epochs),
        unit="epoch",
        desc="train",
        disable=not progress,
        leave=False,
    )
    try:
        epoch = state.epoch
        while epoch < config.epochs and not state.stopped_early:
            epoch += 1
            t_epoch = time.perf_counter()
            want = _phase_for(epoch, config)
            if want != phase or optimizer is None:
                optimizer = _apply_phase(model, want, config, trainable, encoder_ids)
                phase = want
                logger.info(
                    "epoch %d: %s phase, lr %g",
                    epoch,
                    phase,
                    optimizer.param_groups[0]["lr"],
                )
            model.train()
            if phase == "frozen":
                for module in encoder_modules:  # keep batch-norm statistics frozen too
                    module.eval()
            gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
            order = torch.randperm(len(train_ds), generator=gen)  # type: ignore[arg-type]
            loss_sum, n_seen = 0.0, 0
            for xb, yb in _batches(
                train_ds, order, config.batch_size, drop_single=True
            ):
                xb, yb = xb.to(device), yb.to(device)
                optimizer.zero_grad(set_to_none=True)
                loss = criterion(_logits(model, xb, config.head), yb)
                loss.backward()
                optimizer.step()
                loss_sum += float(loss.detach()) * len(yb)
                n_seen += len(yb)
            record: dict[str, Any] = {
                "epoch": epoch,
                "epochs": config.epochs,
                "train_loss": loss_sum / max(n_seen, 1),
                "val_loss": None,
                "val_acc": None,
                "val_balanced_acc": None,
                "lr": float(optimizer.param_groups[0]["lr"]),
                "frozen": phase == "frozen",
            }
            if val_ds is not None:
                val_loss, val_acc, val_bacc = _evaluate(
                    model, val_ds, config, n_classes, device
                )
                record.update(
                    val_loss=val_loss, val_acc=val_acc, val_balanced_acc=val_bacc
                )
                if val_acc > state.best_val_acc:
                    state.best_val_acc, state.best_epoch = val_acc, epoch
                    state.best_state = _cpu_state(model)
                    state.bad_epochs = 0
                else:
                    state.bad_epochs += 1
                    if (
                        config.patience is not None
                        and state.bad_epochs >= config.patience
                    ):
                        state.stopped_early = True
                        logger.info(
                            "early stop after epoch %d (best %d)",
                            epoch,
                            state.best_epoch,
                        )
            else:
                state.best_epoch = epoch
            record["elapsed_s"] = time.perf_counter() - t_epoch
            state.epoch = epoch
            state.history.append(record)
            if resume_path is not None:
                _save_resume(
                    resume_path, model, optimizer, phase, state, config, seed, device
                )
            bar.update(1)
            bar.set_postfix(
                {
                    k: f"{v:.3g}"
                    for k, v in record.items()
                    if k in ("train_loss", "val_loss", "val_acc") and v is not None
                }
            )
            if on_epoch is not None:
                try:
                    keep_going = on_epoch(dict(record))
                except TrainingCancelled:
                    keep_going = False
                if keep_going is False:
                    cancelled = True
                    logger.info("training cancelled after epoch %d", epoch)
                    break
    finally:
        bar.close()
        for p, flag in initial_flags:
            p.requires_grad_(flag)

    if val_ds is not None and config.restore_best and state.best_state is not None:
        model.load_state_dict(state.best_state)
    model.eval()
    return TrainResult(
        history=copy.deepcopy(state.history),
        best_epoch=state.best_epoch,
        best_val_acc=None
        if val_ds is None or state.best_epoch == 0
        else state.best_val_acc,
        stopped_early=state.stopped_early,
        state=_cpu_state(model),
        elapsed_s=time.perf_counter() - t0,
        cancelled=cancelled,
    )
