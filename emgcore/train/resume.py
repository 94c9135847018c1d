"""The resume file that lets an interrupted :func:`~emgcore.train.fit` continue.

Written atomically after every epoch in ``resume_dir`` (model, optimiser
and RNG states, phase, progress) and read back only when its version,
configuration and seed match the new call.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from emgcore.config import TrainConfig
from emgcore.errors import IncompatibleCheckpointError
from emgcore.train.base import _Progress
from emgcore.train.steps import _cpu_state

RESUME_FILE = "resume.pt"
_RESUME_VERSION = 1


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
