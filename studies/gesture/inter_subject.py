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

import torch

from emgcore.errors import InvalidOptionError
from emgcore.gesture.core import (
    PretrainOptions,
    evaluate,
    lda_accuracy,
    person_scaler,
    pretrain,
    timed,
)
from emgcore.gesture.data import (
    ChannelScaler,
    GestureDatasetSpec,
    GestureTrial,
    check_disjoint,
    split_adapt_test,
    subject_trials,
)
from studies.gesture.config import InterSubjectConfig
from studies.gesture.summary import METHODS, summarise

logger = logging.getLogger(__name__)


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=float), encoding="utf-8")
    os.replace(tmp, path)


def _slim(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "confusion"}


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
    config: InterSubjectConfig,
) -> tuple[torch.nn.Module, ChannelScaler, dict[str, Any]]:
    """Pretrain (or reload) a fold's source model, saved as a checkpoint.

    Its pretraining: ``config.pretrain_config``, ``seed``, ``widths``,
    ``max_source_windows``, ``per_subject`` and ``source_val_subjects``.
    """
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
        config=config.pretrain_config,
        widths=config.widths,
        max_windows=config.max_source_windows,
        per_subject=config.per_subject,
        val_subjects=config.source_val_subjects,
    )
    model, scaler, info = pretrain(src, spec, options, seed=config.seed)
    train_meta = {
        "val_subjects_n": config.source_val_subjects,
        "config": config.pretrain_config.to_dict(),
        "source_subjects": list(source_subjects),
        "heldout_subjects": list(heldout),
        "max_windows": config.max_source_windows,
        **info,
    }
    fold_dir.mkdir(parents=True, exist_ok=True)
    save_gesture_checkpoint(
        ckpt,
        model,
        scaler,
        spec,
        train=train_meta,
        seed=config.seed,
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
    config: InterSubjectConfig | None = None,
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
    config : InterSubjectConfig, optional
        Folds, ks, methods, the source models' pretraining and the adaptation
        settings (the defaults of :class:`InterSubjectConfig` when omitted).

    Returns
    -------
    dict
        :func:`summarise` of the units written so far.
    """
    cfg = config or InterSubjectConfig()
    out = Path(out_dir)
    ks = sorted({int(k) for k in cfg.ks})
    k_max = ks[-1] if cfg.test_from is None else int(cfg.test_from)
    if k_max < ks[-1]:
        raise InvalidOptionError(
            f"test_from={k_max} is below the largest k ({ks[-1]})."
        )
    subjects = sorted({t.subject for t in trials})
    unknown = [m for m in cfg.methods if m not in METHODS]
    if unknown:
        raise InvalidOptionError(
            f"Unknown method(s) {unknown}; known: {', '.join(METHODS)}."
        )
    targets = _testable_targets(trials, targets, k_max)
    if cfg.source_checkpoint is not None:
        folds = [list(targets)]
    else:
        folds = make_folds(list(targets), cfg.n_folds)
    if cfg.only_fold is not None and not 0 <= cfg.only_fold < len(folds):
        raise InvalidOptionError(
            f"Fold {cfg.only_fold} does not exist: this run has folds 0-{len(folds) - 1}."
        )
    run_folds = [
        (f, fold)
        for f, fold in enumerate(folds)
        if cfg.only_fold is None or f == cfg.only_fold
    ]
    sources: dict[int, tuple[Any, ChannelScaler, dict[str, Any]]] = {}
    wanted_augment = None if cfg.augment is None else cfg.augment.to_dict()

    def source_for(f: int) -> tuple[Any, ChannelScaler, dict[str, Any]]:
        if f not in sources:
            if cfg.source_checkpoint is not None:
                from emgcore.checkpoint import load_checkpoint

                model, meta = load_checkpoint(cfg.source_checkpoint)
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
                    config=cfg,
                )
        return sources[f]

    if cfg.source_checkpoint is None:
        # Checked before any unit (finished units never ask for their source);
        # the loaded models stay cached for the units still to run.
        for f, _ in run_folds:
            ckpt = out / f"fold{f}" / "source.pt"
            if ckpt.is_file():
                _check_source_validation(
                    ckpt, source_for(f)[2], cfg.source_val_subjects
                )

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
            if "train" in done and ("refit" in done["train"]) != cfg.refit:
                made = "--no-refit" if cfg.refit else "--refit"
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
            "seed": cfg.seed,
            "n_adapt_trials": len(adapt_trials),
            "n_test_trials": len(test_trials),
        }
        if method == "lda_source":
            src_trials = [t for t in trials if t.subject not in folds[f]]
            rep, wall = timed(
                lda_accuracy, src_trials, test_trials, spec, seed=cfg.seed
            )
        elif method == "lda_target":
            rep, wall = timed(
                lda_accuracy, adapt_trials, test_trials, spec, seed=cfg.seed
            )
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
                (m2, sc2, info), wall = timed(
                    cfg.adapt, model, adapt_trials, spec, method, widths=cfg.widths
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
                if method in cfg.methods:
                    unit(f, target, method, 0)
    for k in ks:
        for f, fold in run_folds:
            for target in fold:
                for method in cfg.methods:
                    if method in ("lda_source", "no_adapt"):
                        continue
                    unit(f, target, method, k)
    summary = summarise(out, spec=spec)
    _write_json(out / "summary.json", summary)
    return summary
