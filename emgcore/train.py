"""Generic, seeded, resumable training loop with gradual unfreezing.

Pure PyTorch: :func:`fit` trains the model it is given on the tensors or
datasets it is given. The only path it touches is an optional ``resume_dir``
where it keeps the state needed to continue an interrupted run.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from tqdm.auto import tqdm

from emgcore.config import TrainConfig
from emgcore.errors import EmgCoreError, IncompatibleCheckpointError

logger = logging.getLogger(__name__)

RESUME_FILE = "resume.pt"
_RESUME_VERSION = 1

ArrayPair = tuple[NDArray[Any] | torch.Tensor, NDArray[Any] | torch.Tensor]
DataArg = ArrayPair | Dataset
EpochCallback = Callable[[dict[str, Any]], "bool | None"]


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


# -- data -------------------------------------------------------------------------
def _as_dataset(data: DataArg | None, name: str) -> Dataset | None:
    if data is None:
        return None
    if isinstance(data, Dataset):
        if len(data) == 0:  # type: ignore[arg-type]
            raise ValueError(f"'{name}' is empty.")
        return data
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise ValueError(f"'{name}' must be an (X, y) pair or a torch Dataset.")
    X, y = data
    X_t = torch.as_tensor(np.asarray(X, dtype=np.float32))
    y_t = torch.as_tensor(np.asarray(y)).long()
    if y_t.ndim != 1 or X_t.ndim < 2 or len(X_t) != len(y_t):
        raise ValueError(
            f"'{name}': X of shape {tuple(X_t.shape)} and y of shape "
            f"{tuple(y_t.shape)} do not pair up (need n windows and n labels)."
        )
    if len(y_t) == 0:
        raise ValueError(f"'{name}' is empty.")
    if not torch.isfinite(X_t).all():
        raise ValueError(f"'{name}': X holds NaN or infinite values.")
    return TensorDataset(X_t, y_t)


def _labels(ds: Dataset) -> torch.Tensor:
    if isinstance(ds, TensorDataset):
        return ds.tensors[1]
    return torch.as_tensor([int(ds[i][1]) for i in range(len(ds))])  # type: ignore[arg-type]


def _batches(
    ds: Dataset, order: torch.Tensor, batch_size: int, *, drop_single: bool
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (X, y) batches in ``order``; optionally drop a final batch of one
    (batch norm cannot train on it)."""
    n = len(order)
    if isinstance(ds, TensorDataset):
        X, y = ds.tensors
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            if drop_single and len(idx) == 1 and n > 1:
                continue
            yield X[idx], y[idx]
        return
    # A private generator: DataLoader otherwise draws a seed from the global RNG,
    # which would change the dropout masks compared with the array path.
    loader = DataLoader(
        ds, batch_size=batch_size, sampler=order.tolist(), generator=torch.Generator()
    )
    for xb, yb in loader:
        if drop_single and len(yb) == 1 and n > 1:
            continue
        yield xb, yb.long()


def _n_classes(model: nn.Module, head: str) -> int:
    attr = "n_outputs" if head == "disease" else f"n_{head}_outputs"
    n = getattr(model, attr, None)
    if n is None:
        raise ValueError(f"{type(model).__name__} has no '{head}' head ({attr}).")
    return int(n)


def _logits(model: nn.Module, x: torch.Tensor, head: str) -> torch.Tensor:
    return model(x) if head == "disease" else model(x, head=head)


def _balanced_weights(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """``n / (k * count_c)`` for present classes (k of them), 0 for absent ones."""
    counts = torch.bincount(labels, minlength=n_classes).double()
    present = counts > 0
    weights = torch.zeros(n_classes, dtype=torch.float64)
    weights[present] = len(labels) / (int(present.sum()) * counts[present])
    return weights.float()


# -- optimisation -----------------------------------------------------------------
def _phase_for(epoch: int, config: TrainConfig) -> str:
    if config.freeze_encoder_epochs == 0:
        return "plain"
    return "frozen" if epoch <= config.freeze_encoder_epochs else "unfrozen"


def _apply_phase(
    model: nn.Module,
    phase: str,
    config: TrainConfig,
    trainable: Sequence[nn.Parameter],
    encoder_ids: set[int],
) -> torch.optim.Optimizer:
    """Set ``requires_grad`` for ``phase`` and return a fresh optimiser."""
    frozen = phase == "frozen"
    for p in trainable:
        p.requires_grad_(not (frozen and id(p) in encoder_ids))
    params = [p for p in trainable if p.requires_grad]
    if not params:
        raise ValueError("No trainable parameters left in this phase.")
    lr = {"plain": config.lr, "frozen": config.frozen_lr}.get(phase, config.unfrozen_lr)
    opt_cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return opt_cls(params, lr=lr, weight_decay=config.weight_decay)


def _evaluate(
    model: nn.Module,
    ds: Dataset,
    config: TrainConfig,
    n_classes: int,
    device: torch.device,
) -> tuple[float, float, float]:
    """Mean unweighted cross-entropy, accuracy and balanced accuracy."""
    model.eval()
    total_loss, preds, targets = 0.0, [], []
    order = torch.arange(len(ds))  # type: ignore[arg-type]
    with torch.no_grad():
        for xb, yb in _batches(
            ds, order, max(config.batch_size, 256), drop_single=False
        ):
            xb, yb = xb.to(device), yb.to(device)
            logits = _logits(model, xb, config.head)
            total_loss += float(
                nn.functional.cross_entropy(logits, yb, reduction="sum")
            )
            preds.append(logits.argmax(dim=1).cpu())
            targets.append(yb.cpu())
    pred, true = torch.cat(preds), torch.cat(targets)
    acc = float((pred == true).double().mean())
    recalls = [
        float((pred[true == c] == c).double().mean())
        for c in range(n_classes)
        if (true == c).any()
    ]
    return total_loss / len(true), acc, float(np.mean(recalls))


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


# -- resume -----------------------------------------------------------------------
def _save_resume(
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    phase: str,
    progress: _Progress,
    config: TrainConfig,
    seed: int,
    device: torch.device,
) -> None:
    payload = {
        "resume_version": _RESUME_VERSION,
        "config": config.to_dict(),
        "seed": seed,
        "epoch": progress.epoch,
        "phase": phase,
        "model": _cpu_state(model),
        "optimizer": optimizer.state_dict(),
        "history": progress.history,
        "best_val_acc": progress.best_val_acc,
        "best_epoch": progress.best_epoch,
        "best_state": progress.best_state,
        "bad_epochs": progress.bad_epochs,
        "stopped_early": progress.stopped_early,
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
    }
    fd, tmp = tempfile.mkstemp(prefix=".resume.", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_resume(path: Path, config: TrainConfig, seed: int) -> dict[str, Any]:
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise IncompatibleCheckpointError(
            f"Cannot read the resume state {path}: {type(exc).__name__}: {exc}"
        ) from exc
    if payload.get("resume_version") != _RESUME_VERSION:
        raise IncompatibleCheckpointError(
            f"Resume state {path} has version {payload.get('resume_version')!r}, "
            f"expected {_RESUME_VERSION}."
        )
    saved = dict(payload["config"])
    now = config.to_dict()
    # Only the number of epochs may change (to extend a finished run).
    diffs = [
        f"{k}: {saved.get(k)!r} -> {now[k]!r}"
        for k in now
        if k != "epochs" and saved.get(k) != now[k]
    ]
    if payload["seed"] != seed:
        diffs.append(f"seed: {payload['seed']!r} -> {seed!r}")
    if diffs:
        raise IncompatibleCheckpointError(
            f"Resume state {path} was made with different settings "
            f"({'; '.join(diffs)}); use another resume_dir or the same settings."
        )
    return payload


# -- the loop ---------------------------------------------------------------------
def fit(
    model: nn.Module,
    train_data: DataArg,
    val_data: DataArg | None = None,
    *,
    config: TrainConfig,
    seed: int,
    device: str | torch.device = "cpu",
    progress: bool = True,
    on_epoch: EpochCallback | None = None,
    resume_dir: str | os.PathLike[str] | None = None,
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
    device : str or torch.device
        Where to train (``"cpu"``, ``"cuda"``).
    progress : bool
        Show a tqdm progress bar (stderr).
    on_epoch : callable or None
        Called after each epoch with a dict (``epoch``, ``epochs``,
        ``train_loss``, ``val_loss``, ``val_acc``, ``val_balanced_acc``, ``lr``,
        ``frozen``, ``elapsed_s``). Returning False or raising
        :class:`TrainingCancelled` stops training cleanly (``result.cancelled``).
    resume_dir : path-like or None
        Folder for ``resume.pt``, written after every epoch (model, optimiser,
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
    device = torch.device(device)
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
