"""Pretraining on source subjects and adaptation to a new one.

:func:`pretrain` fits the source model with Adam and early stopping (by
default each source subject scaled by their own statistics; validation on
the last fifth of each trial or on held-out subjects); :func:`adapt`
fine-tunes it on a new subject's first ``k`` trials per gesture
(``"tl_frozen"``, ``"tl_full"``) or trains the same network from scratch
(``"scratch"``), validating on the last quarter of each adaptation trial.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore.config import TrainConfig
from emgcore.errors import InvalidOptionError, InvalidRecordingError
from emgcore.gesture.core.model import (
    ADAPT_CONFIG,
    ADAPT_METHODS,
    ADAPT_OPTIONS,
    PRETRAIN_OPTIONS,
    SCRATCH_CONFIG,
    TRAIN_PART,
    AdaptOptions,
    EpochCallback,
    PretrainOptions,
    build_gesture_model,
)
from emgcore.gesture.data import (
    REPRESENTATIONS,
    ChannelScaler,
    GestureDatasetSpec,
    GestureTrial,
    Windows,
    cut_windows,
    subsample,
)
from emgcore.models import AllConvNet, count_parameters

logger = logging.getLogger(__name__)


def _tagged(on_epoch: EpochCallback | None, phase: str) -> EpochCallback | None:
    """``on_epoch`` with ``phase`` added to every record it gets."""
    if on_epoch is None:
        return None
    return lambda record: on_epoch({**record, "phase": phase})


def _fit(
    model: AllConvNet,
    train: tuple[NDArray[np.float32], NDArray[np.int64]],
    val: tuple[NDArray[np.float32], NDArray[np.int64]] | None,
    config: TrainConfig,
    seed: int,
    on_epoch: EpochCallback | None,
) -> Any:
    """:func:`emgcore.train.fit` without a progress bar."""
    from emgcore.train import fit

    return fit(
        model,
        train,
        val,
        config=config,
        seed=seed,
        progress=False,
        on_epoch=on_epoch,
    )


def _refit(
    model: AllConvNet,
    train: tuple[NDArray[np.float32], NDArray[np.int64]],
    config: TrainConfig,
    seed: int,
    on_epoch: EpochCallback | None,
    info: dict[str, Any],
) -> None:
    """Train ``model`` on all of ``train`` for the first run's best epoch count.

    No validation part is left, so no early stopping: ``info["best_epoch"]``
    (from the run that did early-stop) is taken as it is. Adds ``info["refit"]``
    and updates ``info["cancelled"]``.
    """
    epochs = max(1, int(info["best_epoch"]))
    res = _fit(
        model,
        train,
        None,
        dataclasses.replace(config, epochs=epochs, patience=None),
        seed,
        _tagged(on_epoch, "refit"),
    )
    info["refit"] = {
        "epochs": epochs,
        "n_train_windows": len(train[1]),
        "train_s": round(res.elapsed_s, 2),
        "cancelled": res.cancelled,
    }
    info["cancelled"] = res.cancelled


def _train(
    model: AllConvNet,
    train: tuple[NDArray[np.float32], NDArray[np.int64]],
    val: tuple[NDArray[np.float32], NDArray[np.int64]],
    config: TrainConfig,
    seed: int,
    on_epoch: EpochCallback | None,
) -> dict[str, Any]:
    """Fit on scaled images ``(X, y)``; a summary of the run."""
    if len(train[1]) == 0 or len(val[1]) == 0:
        raise InvalidRecordingError(
            f"Too little data to train: {len(train[1])} training and "
            f"{len(val[1])} validation windows."
        )
    res = _fit(model, train, val, config, seed, on_epoch)
    return {
        "epochs_run": len(res.history),
        "best_epoch": res.best_epoch,
        "best_val_acc": res.best_val_acc,
        "stopped_early": res.stopped_early,
        "cancelled": res.cancelled,
        "train_s": round(res.elapsed_s, 2),
        "n_train_windows": len(train[1]),
        "n_val_windows": len(val[1]),
    }


def _scaled_per_subject(
    trials: Sequence[GestureTrial], train: Windows, val: Windows, representation: str
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Training and validation images, each subject scaled by their own statistics.

    Statistics come from the subject's training windows only. A new person is
    later scaled by their own calibration windows (:meth:`ChannelScaler.for_person`),
    so the source model never learns one subject's amplitude as a cue.
    """
    subject = np.array([t.subject for t in trials])
    rows = train.X.shape[1] * REPRESENTATIONS[representation]
    Xt = np.empty((len(train), 1, rows, train.X.shape[2]), np.float32)
    Xv = np.empty((len(val), 1, rows, val.X.shape[2]), np.float32)
    for s in np.unique(subject):
        mt = subject[train.trial] == s
        mv = subject[val.trial] == s
        if not (mt.any() or mv.any()):
            continue
        # Subsampling can leave a subject with validation windows only; their
        # statistics then come from those (labels unused, as for a new person).
        own = train.X[mt] if mt.any() else val.X[mv]
        sc = ChannelScaler.fit(own, representation)
        if mt.any():
            Xt[mt] = sc.transform(train.X[mt])
        if mv.any():
            Xv[mv] = sc.transform(val.X[mv])
    return Xt, Xv


def pretrain(
    trials: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
    options: PretrainOptions = PRETRAIN_OPTIONS,
    *,
    seed: int = 0,
    on_epoch: EpochCallback | None = None,
) -> tuple[AllConvNet, ChannelScaler, dict[str, Any]]:
    """Pretrain the source model on the trials of the source subjects.

    Parameters
    ----------
    trials : sequence of GestureTrial
        Every trial of every source subject.
    spec : GestureDatasetSpec
    options : PretrainOptions
        The fields below.
    seed : int
    config : TrainConfig
        Adam with early stopping on validation accuracy.
    widths : (int, int)
    max_windows : int or None
        Random subset (seeded) of the training windows, cut with
        ``spec.source_step``; bounds an epoch's cost.
    per_subject : bool
        Standardise every source subject with their own statistics (default)
        instead of one pooled scaler; see :func:`_scaled_per_subject`.
    val_subjects : int
        0 (default): early stopping validates on the last fifth of every
        source trial. ``n > 0``: it validates on ``n`` source subjects left out
        of training (chosen with ``seed``), so the chosen epoch count is the
        one that generalises best to people the model has not seen, which is
        what transfer needs; then the model is trained again from the same
        initial weights for that many epochs on every source subject's whole
        trials (``info["refit"]``), so no source data is lost.
    on_epoch : callable, optional
        Passed to :func:`emgcore.train.fit`; records carry ``phase``
        (``"select"`` or ``"refit"``) when ``val_subjects`` is set.

    Returns
    -------
    model : AllConvNet
    scaler : ChannelScaler
        Fitted on the training windows (pooled; ``per_subject`` set as chosen).
    info : dict
        Training summary (epochs, windows, time).
    """
    config, widths, max_windows = options.config, options.widths, options.max_windows
    per_subject, val_subjects = options.per_subject, options.val_subjects
    if not trials:
        raise InvalidRecordingError("No source trials to pretrain on.")
    n_chans = trials[0].data.shape[0]
    subjects = sorted({t.subject for t in trials})
    held: list[str] = []
    if val_subjects:
        if not 0 < val_subjects < len(subjects):
            raise InvalidOptionError(
                f"Cannot keep {val_subjects} of {len(subjects)} source subjects "
                f"for validation: at least one must remain to train on."
            )
        rng = np.random.default_rng(seed)
        held = sorted(rng.choice(subjects, val_subjects, replace=False).tolist())
        # Indices into ``trials`` throughout, so per-subject scaling can find
        # each window's subject.
        in_val = np.array([t.subject in held for t in trials])
        train = _windows_of(trials, ~in_val, spec.window, spec.source_step, n_chans)
        val = _windows_of(trials, in_val, spec.window, spec.test_step, n_chans)
    else:
        cut = TRAIN_PART["pretrain"]
        train = cut_windows(
            trials,
            window=spec.window,
            step=spec.source_step,
            part=(0, cut),
            n_chans=n_chans,
        )
        val = cut_windows(
            trials,
            window=spec.window,
            step=spec.test_step,
            part=(cut, 1),
            n_chans=n_chans,
        )
    train = subsample(train, max_windows, seed=seed)
    val = subsample(
        val, None if max_windows is None else max_windows // 4, seed=seed + 1
    )

    def scaled(
        tr: Windows, va: Windows
    ) -> tuple[ChannelScaler, NDArray[np.float32], NDArray[np.float32]]:
        sc = ChannelScaler.fit(tr.X, spec.representation, per_subject=per_subject)
        if per_subject:
            return sc, *_scaled_per_subject(trials, tr, va, spec.representation)
        return sc, sc.transform(tr.X), sc.transform(va.X)

    scaler, Xt, Xv = scaled(train, val)
    model = build_gesture_model(spec, n_chans, widths=widths, seed=seed)
    info = _train(
        model,
        (Xt, train.y),
        (Xv, val.y),
        config,
        seed,
        _tagged(on_epoch, "select") if held else on_epoch,
    )
    info["validation"] = "held-out subjects" if held else "end of each trial"
    if held and not info["cancelled"]:
        info["val_subjects"] = held
        whole = subsample(
            cut_windows(
                trials, window=spec.window, step=spec.source_step, n_chans=n_chans
            ),
            max_windows,
            seed=seed,
        )
        empty = Windows(whole.X[:0], whole.y[:0], whole.trial[:0])
        scaler, Xw, _ = scaled(whole, empty)
        model = build_gesture_model(spec, n_chans, widths=widths, seed=seed)
        _refit(model, (Xw, whole.y), config, seed, on_epoch, info)
    info["n_parameters"] = count_parameters(model)
    info["scaling"] = "per subject" if per_subject else "pooled"
    info["representation"] = spec.representation
    logger.info("pretrained source model: %s", info)
    return model, scaler, info


def _windows_of(
    trials: Sequence[GestureTrial],
    keep: NDArray[np.bool_],
    window: int,
    step: int,
    n_chans: int,
) -> Windows:
    """Windows of the trials where ``keep`` holds, ``trial`` indexing ``trials``."""
    idx = np.flatnonzero(keep)
    win = cut_windows(
        [trials[i] for i in idx], window=window, step=step, n_chans=n_chans
    )
    return Windows(win.X, win.y, idx[win.trial] if len(win) else win.trial)


def adapt(
    source: AllConvNet | None,
    adapt_trials: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
    options: AdaptOptions = ADAPT_OPTIONS,
    *,
    seed: int = 0,
    on_epoch: EpochCallback | None = None,
) -> tuple[AllConvNet, ChannelScaler, dict[str, Any]]:
    """Adapt (or train from scratch) on one subject's adaptation trials.

    Parameters
    ----------
    source : AllConvNet or None
        Pretrained source model (not modified: a copy is trained). Needed for
        the ``tl_*`` methods; ignored by ``"scratch"``.
    adapt_trials : sequence of GestureTrial
        The target's first k trials per gesture. The first 3/4 of each trial
        trains, the last 1/4 validates (early stopping).
    spec : GestureDatasetSpec
    options : AdaptOptions
        ``method``, ``config``, ``widths``, ``augment``, ``refit`` below.
    seed : int
    method : {"tl_frozen", "tl_full", "scratch"}
        ``tl_frozen``: conv layers 1-3 frozen, layers 4-8 fine-tuned (the
        paper's TL); ``tl_full``: every layer fine-tuned; ``scratch``: a new
        network trained on the same windows.
    config : TrainConfig, optional
        Default :data:`ADAPT_CONFIG` (TL) or :data:`SCRATCH_CONFIG`.
    widths : (int, int)
        Only for ``"scratch"`` without a source model.
    augment : GainAugment or None
        Random electrode gains added to the training windows (every method
        alike; validation windows stay as recorded). None trains on the
        windows as they are (the set-up of the earlier result tables).
    refit : bool
        After early stopping has picked the best epoch count ``E``, start
        again from the same starting weights and train ``E`` epochs on the
        whole of every adaptation trial (no validation part held out), so the
        final model sees all the calibration data, as the LDA peer does.
        ``info["refit"]`` describes that second run; the other keys describe
        the first. False keeps the first run's model (the set-up of the
        tables made before refitting).
    on_epoch : callable, optional
        Its records carry ``phase``: ``"select"`` (first run) or ``"refit"``.

    Returns
    -------
    model, scaler, info
        The scaler is refitted on the adaptation windows (all of them with
        ``refit``).
    """
    method, config, widths = options.method, options.config, options.widths
    augment, refit = options.augment, options.refit
    if method not in ADAPT_METHODS:
        raise InvalidRecordingError(
            f"Invalid value for the 'method' parameter. Allowed values are "
            f"{', '.join(ADAPT_METHODS)}, but got {method!r} instead."
        )
    if not adapt_trials:
        raise InvalidRecordingError("No adaptation trials.")
    n_chans = adapt_trials[0].data.shape[0]
    cut = TRAIN_PART["adapt"]
    train = cut_windows(
        adapt_trials, window=spec.window, step=spec.step, part=(0, cut), n_chans=n_chans
    )
    val = cut_windows(
        adapt_trials, window=spec.window, step=spec.step, part=(cut, 1), n_chans=n_chans
    )
    if len(val) == 0:  # trials too short to keep a quarter aside
        val = train
    scaler = ChannelScaler.fit(train.X, spec.representation)
    if method == "scratch":
        if source is not None:
            widths = source.get_config()["widths"]

        def start() -> AllConvNet:  # seeded: the same weights every call
            return build_gesture_model(spec, n_chans, widths=widths, seed=seed)

        cfg = config or SCRATCH_CONFIG
    else:
        if source is None:
            raise InvalidRecordingError(f"Method {method!r} needs a source model.")
        rows = n_chans * spec.rows_per_channel
        if source.n_chans != rows:
            raise InvalidRecordingError(
                f"The source model reads {source.n_chans // spec.rows_per_channel} "
                f"channels; the adaptation trials have {n_chans}."
            )

        def start() -> AllConvNet:
            return copy.deepcopy(source)

        cfg = config or ADAPT_CONFIG
        if method == "tl_frozen":
            # Frozen for every epoch: TrainConfig keeps the encoder (conv 1-3)
            # frozen when freeze_encoder_epochs >= epochs.
            cfg = dataclasses.replace(
                cfg, freeze_encoder_epochs=cfg.epochs, frozen_lr=cfg.lr
            )
    model = start()
    # The scaler is fitted on the recorded windows, before augmentation.
    X, y = (train.X, train.y) if augment is None else augment.apply(train, seed=seed)
    info = _train(
        model,
        (scaler.transform(X), y),
        (scaler.transform(val.X), val.y),
        cfg,
        seed,
        _tagged(on_epoch, "select"),
    )
    if refit and not info["cancelled"]:
        whole = cut_windows(
            adapt_trials, window=spec.window, step=spec.step, n_chans=n_chans
        )
        scaler = ChannelScaler.fit(whole.X, spec.representation)
        X, y = (
            (whole.X, whole.y) if augment is None else augment.apply(whole, seed=seed)
        )
        model = start()
        _refit(model, (scaler.transform(X), y), cfg, seed, on_epoch, info)
    info["method"] = method
    info["augment"] = None if augment is None else augment.to_dict()
    info["n_trainable"] = (
        count_parameters(model)
        - sum(p.numel() for p in model.frozen_prefix_parameters(3))
        if method == "tl_frozen"
        else count_parameters(model)
    )
    return model, scaler, info
