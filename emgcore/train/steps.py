"""What one epoch is made of: datasets, batches, phases, evaluation.

Turning ``(X, y)`` pairs into datasets and seeded batches, class-balanced
loss weights, the freeze/unfreeze phase of an epoch (gradual unfreezing of
the encoder) and the validation pass. Pure functions of their arguments.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from emgcore.config import TrainConfig
from emgcore.train.base import DataArg


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
