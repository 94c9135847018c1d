"""The resumable inter-subject (reduced leave-one-subject-out) protocol.

Choosing and folding the target subjects, pretraining or loading the source
model of a fold, and :func:`run_inter_subject`, which writes one JSON file
per unit of work ``(fold, target, method, k)`` and skips those that exist.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emgcore.config import TrainConfig
from emgcore.errors import InvalidOptionError
from emgcore.gesture.core import (
    ADAPT_CONFIG,
    DEFAULT_WIDTHS,
    PRETRAIN_CONFIG,
    SCRATCH_CONFIG,
    AdaptOptions,
    PretrainOptions,
    adapt,
    evaluate,
    lda_accuracy,
    person_scaler,
    pretrain,
    timed,
)
from emgcore.gesture.data import (
    ADAPT_AUGMENT,
    ChannelScaler,
    GainAugment,
    GestureDatasetSpec,
    GestureTrial,
    check_disjoint,
    split_adapt_test,
    subject_trials,
)
from emgcore.gesture.experiments.summary import METHODS, summarise

logger = logging.getLogger(__name__)


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=float), encoding="utf-8")
    os.replace(tmp, path)


def _slim(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "confusion"}


def pick_targets(subjects: Sequence[str], n: int) -> list[str]:
    """``n`` subjects spread evenly over the sorted list (deterministic)."""
    subjects = list(subjects)
    if n >= len(subjects):
        return subjects
    idx = np.linspace(0, len(subjects) - 1, n).round().astype(int)
    return [subjects[i] for i in idx]


def _testable_targets(
    trials: Sequence[Any], targets: Sequence[str], k_max: int
) -> list[str]:
    """The targets that have both an adaptation trial and a test trial.

    A subject with fewer than ``k_max + 1`` trials per gesture (e.g. one
    recording session where the others have two) has no test trial; it is
    left out with a warning rather than stopping the whole experiment.
    """
    kept, dropped = [], []
    for target in targets:
        orders = [t.order for t in trials if t.subject == target]
        if orders and min(orders) == 0 and max(orders) >= k_max:
            kept.append(target)
        else:
            dropped.append(f"{target} ({max(orders) + 1 if orders else 0} trials)")
    if dropped:
        logger.warning(
            "Left out as targets, no trial ranked >= %d to test on: %s",
            k_max,
            ", ".join(dropped),
        )
    if not kept:
        raise InvalidOptionError(
            f"No target subject has a trial ranked >= {k_max} per gesture to test "
            "on; lower --test-from or pick other --subjects."
        )
    return kept


def make_folds(targets: Sequence[str], n_folds: int) -> list[list[str]]:
    """Round-robin folds of target subjects."""
    n_folds = max(1, min(int(n_folds), len(targets)))
    return [list(targets[i::n_folds]) for i in range(n_folds)]


def _source_model(
    fold_dir: Path,
    trials: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
    source_subjects: Sequence[str],
    heldout: Sequence[str],
    *,
    config: TrainConfig,
    seed: int,
    widths: Sequence[int],
    max_windows: int | None,
    per_subject: bool,
    val_subjects: int = 0,
) -> tuple[torch.nn.Module, ChannelScaler, dict[str, Any]]:
    """Pretrain (or reload) a fold's source model, saved as a checkpoint."""
    from emgcore.checkpoint import load_checkpoint
    from emgcore.gesture.api import save_gesture_checkpoint

    ckpt = fold_dir / "source.pt"
    if ckpt.is_file():
        model, meta = load_checkpoint(ckpt)  # its validation: checked by the caller
        return (
            model,
            ChannelScaler.from_dict(meta["preprocess"]["scaler"]),
            meta["train"],
        )
    src = subject_trials(trials, source_subjects)
    options = PretrainOptions(
        config=config,
        widths=widths,
        max_windows=max_windows,
        per_subject=per_subject,
        val_subjects=val_subjects,
    )
    model, scaler, info = pretrain(src, spec, options, seed=seed)
    train_meta = {
        "val_subjects_n": val_subjects,
        "config": config.to_dict(),
        "source_subjects": list(source_subjects),
        "heldout_subjects": list(heldout),
        "max_windows": max_windows,
        **info,
    }
    fold_dir.mkdir(parents=True, exist_ok=True)
    save_gesture_checkpoint(
        ckpt,
        model,
        scaler,
        spec,
        train=train_meta,
        seed=seed,
        metrics={"val_acc": info["best_val_acc"]},
    )
    return model, scaler, train_meta


def _check_source_validation(
    ckpt: Path, train: dict[str, Any], val_subjects: int
) -> None:
    """Refuse a fold's saved source model made with another pretraining validation.

    ``train`` is the checkpoint's ``train`` metadata.
    """
    made = int(train.get("val_subjects_n", 0))
    if made != val_subjects:
        raise InvalidOptionError(
            f"{ckpt} was pretrained with --source-val-subjects {made}; use a new --out."
        )


def run_inter_subject(
    trials: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
    out_dir: str | Path,
    *,
    targets: Sequence[str],
    n_folds: int = 1,
    ks: Sequence[int] = (1,),
    methods: Sequence[str] = METHODS,
    seed: int = 0,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    pretrain_config: TrainConfig = PRETRAIN_CONFIG,
    adapt_config: TrainConfig = ADAPT_CONFIG,
    scratch_config: TrainConfig = SCRATCH_CONFIG,
    max_source_windows: int | None = 20000,
    source_checkpoint: str | Path | None = None,
    test_from: int | None = None,
    per_subject: bool = True,
    augment: GainAugment | None = ADAPT_AUGMENT,
    refit: bool = True,
    only_fold: int | None = None,
    source_val_subjects: int = 0,
) -> dict[str, Any]:
    """Leave-subject(s)-out adaptation with k = 1, 2, ... trials per gesture.

    For each target the test set is its trials with ``order >= test_from``
    (default ``max(ks)``; the same for every k) and never overlaps the adaptation trials
    (``order < k``; checked). Units run k by k (all targets at k=1 first).

    Parameters
    ----------
    trials : sequence of GestureTrial
        Every trial of the dataset.
    spec : GestureDatasetSpec
    out_dir : path
        Unit JSON files go to ``out_dir/units/``; fold source checkpoints to
        ``out_dir/fold<i>/source.pt``.
    targets : sequence of str
        Target subjects.
    n_folds : int
        Source models to pretrain (see the module notes).
    ks : sequence of int
    methods : sequence of str
        Subset of :data:`METHODS`.
    seed : int
    widths : (int, int)
    pretrain_config, adapt_config, scratch_config : TrainConfig
    max_source_windows : int or None
    source_checkpoint : path, optional
        Use this pretrained checkpoint as the single source model; the
        targets must be among its ``train.heldout_subjects``.
    test_from : int, optional
        First trial rank (0-based, per gesture) used for testing; must be
        >= max(ks). Fix it when runs with more k are added later.
    per_subject : bool
        Pretrain with every source subject scaled by their own statistics
        (see :func:`emgcore.gesture.core.pretrain`).
    augment : GainAugment or None
        Training-window augmentation of the adapted and scratch models
        (see :func:`emgcore.gesture.core.adapt`); None for none.
    refit : bool
        Retrain on the whole adaptation trials for the chosen epoch count
        (see :func:`emgcore.gesture.core.adapt`).
    only_fold : int, optional
        Run the units of this fold only (0-based), so that several processes
        can share one run's folds; the summary covers every unit written.
    source_val_subjects : int
        Source subjects kept aside for the pretraining's early stopping (see
        ``val_subjects`` of :func:`emgcore.gesture.core.pretrain`); 0 validates
        on the end of every source trial.

    Returns
    -------
    dict
        :func:`summarise` of the units written so far.
    """
    out = Path(out_dir)
    ks = sorted({int(k) for k in ks})
    k_max = ks[-1] if test_from is None else int(test_from)
    if k_max < ks[-1]:
        raise InvalidOptionError(
            f"test_from={k_max} is below the largest k ({ks[-1]})."
        )
    subjects = sorted({t.subject for t in trials})
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InvalidOptionError(
            f"Unknown method(s) {unknown}; known: {', '.join(METHODS)}."
        )
    targets = _testable_targets(trials, targets, k_max)
    if source_checkpoint is not None:
        folds = [list(targets)]
    else:
        folds = make_folds(list(targets), n_folds)
    if only_fold is not None and not 0 <= only_fold < len(folds):
        raise InvalidOptionError(
            f"Fold {only_fold} does not exist: this run has folds 0-{len(folds) - 1}."
        )
    run_folds = [
        (f, fold) for f, fold in enumerate(folds) if only_fold is None or f == only_fold
    ]
    sources: dict[int, tuple[Any, ChannelScaler, dict[str, Any]]] = {}
    wanted_augment = None if augment is None else augment.to_dict()

    def source_for(f: int) -> tuple[Any, ChannelScaler, dict[str, Any]]:
        if f not in sources:
            if source_checkpoint is not None:
                from emgcore.checkpoint import load_checkpoint

                model, meta = load_checkpoint(source_checkpoint)
                held = set(meta["train"].get("heldout_subjects", []))
                leaked = sorted(set(folds[f]) - held)
                if leaked:
                    raise InvalidOptionError(
                        f"Target(s) {leaked} were in the source checkpoint's "
                        "training subjects."
                    )
                scaler = ChannelScaler.from_dict(meta["preprocess"]["scaler"])
                sources[f] = (model, scaler, meta["train"])
            else:
                heldout = folds[f]
                src = [s for s in subjects if s not in heldout]
                sources[f] = _source_model(
                    out / f"fold{f}",
                    trials,
                    spec,
                    src,
                    heldout,
                    config=pretrain_config,
                    seed=seed,
                    widths=widths,
                    max_windows=max_source_windows,
                    per_subject=per_subject,
                    val_subjects=source_val_subjects,
                )
        return sources[f]

    if source_checkpoint is None:
        # Checked before any unit (finished units never ask for their source);
        # the loaded models stay cached for the units still to run.
        for f, _ in run_folds:
            ckpt = out / f"fold{f}" / "source.pt"
            if ckpt.is_file():
                _check_source_validation(ckpt, source_for(f)[2], source_val_subjects)

    def unit(f: int, target: str, method: str, k: int) -> None:
        path = out / "units" / f"fold{f}" / target / f"{method}_k{k}.json"
        if path.is_file():
            done = json.loads(path.read_text(encoding="utf-8"))
            if done["k_max"] != k_max:
                raise InvalidOptionError(
                    f"{path} was made with another test set; use a new --out."
                )
            if "train" in done and done["train"].get("augment") != wanted_augment:
                raise InvalidOptionError(
                    f"{path} was made with another augmentation "
                    f"({done['train'].get('augment')}); use a new --out."
                )
            if "train" in done and ("refit" in done["train"]) != refit:
                made = "--no-refit" if refit else "--refit"
                raise InvalidOptionError(
                    f"{path} was made with {made}; use a new --out."
                )
            return
        tgt = subject_trials(trials, target)
        adapt_trials, test_trials = split_adapt_test(tgt, k=max(k, 1), k_max=k_max)
        if k == 0:
            adapt_trials = []
        check_disjoint(adapt_trials, test_trials)
        rec: dict[str, Any] = {
            "dataset": spec.name,
            "fold": f,
            "target": target,
            "method": method,
            "k": k,
            "k_max": k_max,
            "seed": seed,
            "n_adapt_trials": len(adapt_trials),
            "n_test_trials": len(test_trials),
        }
        if method == "lda_source":
            src_trials = [t for t in trials if t.subject not in folds[f]]
            rep, wall = timed(lda_accuracy, src_trials, test_trials, spec, seed=seed)
        elif method == "lda_target":
            rep, wall = timed(lda_accuracy, adapt_trials, test_trials, spec, seed=seed)
        else:
            model, scaler, _ = source_for(f)
            if method == "no_adapt":
                # A per-subject source model scales the target with the
                # statistics of its first trial per gesture (labels unused).
                calib = split_adapt_test(tgt, k=1, k_max=k_max)[0]
                rec["scaling"] = "target's own" if scaler.per_subject else "source"
                scaler = person_scaler(scaler, calib, spec)
                rep, wall = timed(evaluate, model, scaler, test_trials, spec)
            else:
                cfg = scratch_config if method == "scratch" else adapt_config
                options = AdaptOptions(
                    method=method,
                    config=cfg,
                    widths=widths,
                    augment=augment,
                    refit=refit,
                )
                (m2, sc2, info), wall = timed(
                    adapt, model, adapt_trials, spec, options, seed=seed
                )
                rep = evaluate(m2, sc2, test_trials, spec)
                rec["train"] = info
        rec.update(_slim(rep))
        rec["confusion"] = rep["confusion"]
        rec["wall_s"] = round(wall, 2)
        _write_json(path, rec)
        logger.info(
            "%s fold%d %s %s k=%d acc=%.3f (%.1f s)",
            spec.name,
            f,
            target,
            method,
            k,
            rec["accuracy"],
            wall,
        )

    # Order: source-free and k-free units first, then k by k.
    for f, fold in run_folds:
        for target in fold:
            for method in ("lda_source", "no_adapt"):
                if method in methods:
                    unit(f, target, method, 0)
    for k in ks:
        for f, fold in run_folds:
            for target in fold:
                for method in methods:
                    if method in ("lda_source", "no_adapt"):
                        continue
                    unit(f, target, method, k)
    summary = summarise(out, spec=spec)
    _write_json(out / "summary.json", summary)
    return summary
