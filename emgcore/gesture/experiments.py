"""Evaluation protocols for gesture adaptation, resumable and JSON-first.

Every protocol is a function returning a JSON-serialisable dict. The
inter-subject experiment writes one JSON file per unit of work
``(fold, target, method, k)`` as it goes, and skips units whose file exists,
so an interrupted run continues where it stopped.

Reduced leave-one-subject-out scheme (CPU budget, documented in
docs/RESULTS_GESTURE.md): a list of *target* subjects is split into
``n_folds`` folds; for each fold one source model is pretrained on every
other subject (the fold's targets are never seen in pretraining), and each
target of the fold is then adapted and tested on its own. With
``n_folds == len(targets)`` this is plain leave-one-subject-out.
"""

from __future__ import annotations

import json
import logging
import math
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
    ADAPT_METHODS,
    DEFAULT_WIDTHS,
    PRETRAIN_CONFIG,
    SCRATCH_CONFIG,
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

logger = logging.getLogger(__name__)

#: Every method of the inter-subject table, in plot order.
METHODS: tuple[str, ...] = (
    "no_adapt",
    "tl_frozen",
    "tl_full",
    "scratch",
    "lda_source",
    "lda_target",
)
METHOD_LABELS = {
    "no_adapt": "no adaptation",
    "tl_frozen": "TL (conv 1-3 frozen)",
    "tl_full": "TL (full)",
    "scratch": "scratch (k trials)",
    "lda_source": "LDA, source only",
    "lda_target": "LDA, k target trials",
}


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
    model, scaler, info = pretrain(
        src,
        spec,
        config=config,
        seed=seed,
        widths=widths,
        max_windows=max_windows,
        per_subject=per_subject,
        val_subjects=val_subjects,
    )
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
                (m2, sc2, info), wall = timed(
                    adapt,
                    model,
                    adapt_trials,
                    spec,
                    method=method,
                    config=cfg,
                    seed=seed,
                    widths=widths,
                    augment=augment,
                    refit=refit,
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


def _mean_sd(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0


def summarise(
    out_dir: str | Path, *, spec: GestureDatasetSpec | None = None
) -> dict[str, Any]:
    """Mean +- sd over targets of every (method, k) found in ``out_dir/units``.

    Methods without k (``no_adapt``, ``lda_source``, stored as k = 0) are
    repeated at every k for the table and plot.

    Returns
    -------
    dict
        ``{"dataset", "ks", "n_targets", "methods": {method: {k: {"accuracy":
        [mean, sd], "balanced_accuracy": [mean, sd], "n": n_targets,
        "per_target": {target: acc}}}}}``.
    """
    units = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(Path(out_dir).glob("units/fold*/*/*.json"))
    ]
    ks = sorted({u["k"] for u in units if u["k"] > 0})
    table: dict[str, dict[str, Any]] = {}
    for method in METHODS:
        rows = [u for u in units if u["method"] == method]
        if not rows:
            continue
        table[method] = {}
        for k in ks or [0]:
            sel = (
                [u for u in rows if u["k"] in (k, 0)]
                if method in ("no_adapt", "lda_source")
                else [u for u in rows if u["k"] == k]
            )
            if not sel:
                continue
            acc = _mean_sd([u["accuracy"] for u in sel])
            bal = _mean_sd([u["balanced_accuracy"] for u in sel])
            table[method][str(k)] = {
                "accuracy": list(acc),
                "balanced_accuracy": list(bal),
                "n": len(sel),
                "per_target": {u["target"]: round(u["accuracy"], 4) for u in sel},
                "mean_wall_s": float(np.mean([u["wall_s"] for u in sel])),
            }
    return {
        "dataset": spec.name if spec else (units[0]["dataset"] if units else None),
        "paired_vs_tl_frozen": _paired(table, ks),
        "n_classes": len(spec.class_names) if spec else None,
        "ks": ks,
        "n_targets": len({u["target"] for u in units}),
        "targets": sorted({u["target"] for u in units}),
        "methods": table,
    }


def _paired(table: dict[str, dict[str, Any]], ks: list[int]) -> dict[str, Any]:
    """TL-frozen minus each other method, per k, over targets present in both."""
    out: dict[str, Any] = {}
    ref = table.get("tl_frozen", {})
    for k in ks:
        base = ref.get(str(k), {}).get("per_target", {})
        for method, per_k in table.items():
            other = per_k.get(str(k), {}).get("per_target", {})
            common = sorted(set(base) & set(other))
            if method == "tl_frozen" or not common:
                continue
            diff = [base[t] - other[t] for t in common]
            out.setdefault(method, {})[str(k)] = {
                "mean_diff": float(np.mean(diff)),
                "sd_diff": float(np.std(diff, ddof=1)) if len(diff) > 1 else 0.0,
                "tl_frozen_wins": int(sum(d > 0 for d in diff)),
                "n": len(diff),
            }
    return out


def plot_summary(summary: dict[str, Any], path: str | Path) -> Path:
    """Accuracy vs k with mean +- sd error bars for every method (PNG)."""
    from emgcore.plots import plot_curves

    ks = summary["ks"] or [0]
    series = {}
    for method, per_k in summary["methods"].items():
        mean = [
            per_k.get(str(k), {}).get("accuracy", [math.nan, math.nan])[0] for k in ks
        ]
        sd = [
            per_k.get(str(k), {}).get("accuracy", [math.nan, math.nan])[1] for k in ks
        ]
        series[METHOD_LABELS.get(method, method)] = (mean, sd)
    n_classes = summary.get("n_classes")
    return plot_curves(
        ks,
        series,
        path,
        xlabel="adaptation trials per gesture (k)",
        ylabel="window accuracy on held-back trials",
        title=f"{summary['dataset']}: {summary['n_targets']} target subjects",
        chance=1.0 / n_classes if n_classes else None,
    )


def summary_markdown(summary: dict[str, Any], *, metric: str = "accuracy") -> str:
    """Markdown table: one row per method, one column per k, ``mean ± sd`` in %."""
    ks = summary["ks"] or [0]
    head = "| method | " + " | ".join(f"k = {k}" for k in ks) + " |"
    lines = [head, "|---|" + "---|" * len(ks)]
    for method, per_k in summary["methods"].items():
        cells = []
        for k in ks:
            cell = per_k.get(str(k))
            if cell is None:
                cells.append("")
            else:
                m, sd = cell[metric]
                cells.append(f"{100 * m:.1f} ± {100 * sd:.1f} (n={cell['n']})")
        lines.append(
            f"| {METHOD_LABELS.get(method, method)} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def paired_markdown(summary: dict[str, Any]) -> str:
    """Markdown: TL-frozen minus each method per k (points), wins / targets."""
    ks = summary["ks"] or [0]
    lines = [
        "| TL (conv 1-3 frozen) minus | " + " | ".join(f"k = {k}" for k in ks) + " |",
        "|---|" + "---|" * len(ks),
    ]
    for method, per_k in summary.get("paired_vs_tl_frozen", {}).items():
        cells = []
        for k in ks:
            c = per_k.get(str(k))
            cells.append(
                ""
                if c is None
                else f"{100 * c['mean_diff']:+.1f} ± {100 * c['sd_diff']:.1f} "
                f"({c['tl_frozen_wins']}/{c['n']} wins)"
            )
        lines.append(
            f"| {METHOD_LABELS.get(method, method)} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


# -- other protocols ---------------------------------------------------------------
def run_intra_subject(
    trials: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
    *,
    subjects: Sequence[str],
    seed: int = 0,
    config: TrainConfig = SCRATCH_CONFIG,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    augment: GainAugment | None = ADAPT_AUGMENT,
    refit: bool = True,
) -> dict[str, Any]:
    """Intra-subject: train from scratch on a subject's first half of trials per
    gesture, test on the second half (disjoint trials); All-ConvNet and LDA.

    Parameters
    ----------
    augment : GainAugment or None
        Training-window augmentation (see :func:`emgcore.gesture.core.adapt`).
    refit : bool
        See :func:`emgcore.gesture.core.adapt`.

    Returns
    -------
    dict
        ``{"per_subject": {s: {"allconvnet": acc, "lda": acc}}, "allconvnet":
        [mean, sd], "lda": [mean, sd]}``.
    """
    per: dict[str, dict[str, float]] = {}
    for s in subjects:
        tr = subject_trials(trials, s)
        train, test = _half_split(tr)
        check_disjoint(train, test)
        model, scaler, _ = adapt(
            None,
            train,
            spec,
            method="scratch",
            config=config,
            seed=seed,
            widths=widths,
            augment=augment,
            refit=refit,
        )
        per[s] = {
            "allconvnet": evaluate(model, scaler, test, spec)["accuracy"],
            "lda": lda_accuracy(train, test, spec, seed=seed)["accuracy"],
        }
    return {
        "protocol": "intra_subject",
        "dataset": spec.name,
        "per_subject": per,
        "allconvnet": list(_mean_sd([v["allconvnet"] for v in per.values()])),
        "lda": list(_mean_sd([v["lda"] for v in per.values()])),
    }


def _half_split(
    trials: Sequence[GestureTrial],
) -> tuple[list[GestureTrial], list[GestureTrial]]:
    counts: dict[int, int] = {}
    for t in trials:
        counts[t.label] = max(counts.get(t.label, 0), t.order + 1)
    train = [t for t in trials if t.order < counts[t.label] // 2]
    test = [t for t in trials if t.order >= counts[t.label] // 2]
    return train, test


def run_percent(
    trials: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
    source: Any,
    *,
    target: str,
    percents: Sequence[int] = (20, 40, 60, 80, 100),
    methods: Sequence[str] = ("tl_frozen", "scratch"),
    seed: int = 0,
    adapt_config: TrainConfig = ADAPT_CONFIG,
    scratch_config: TrainConfig = SCRATCH_CONFIG,
    augment: GainAugment | None = ADAPT_AUGMENT,
    refit: bool = True,
) -> dict[str, Any]:
    """Adaptation with 20..100 % of the target's training trials (paper's ratios).

    The target's first half of trials per gesture is its training pool, the
    second half its test set; ``p`` % of the pool (at least one trial per
    gesture, earliest first) adapts ``source`` (a trained All-ConvNet).

    Parameters
    ----------
    augment : GainAugment or None
        Training-window augmentation (see :func:`emgcore.gesture.core.adapt`).
    refit : bool
        See :func:`emgcore.gesture.core.adapt`.

    Returns
    -------
    dict
        ``{"per_percent": {p: {method: acc}}}``.
    """
    tr = subject_trials(trials, target)
    pool, test = _half_split(tr)
    n_pool = max(t.order for t in pool) + 1
    out: dict[str, dict[str, float]] = {}
    for p in percents:
        k = max(1, int(round(n_pool * p / 100)))
        sub = [t for t in pool if t.order < k]
        check_disjoint(sub, test)
        out[str(p)] = {"k": k}
        for m in methods:
            cfg = scratch_config if m == "scratch" else adapt_config
            model, scaler, _ = adapt(
                source,
                sub,
                spec,
                method=m,
                config=cfg,
                seed=seed,
                augment=augment,
                refit=refit,
            )
            out[str(p)][m] = evaluate(model, scaler, test, spec)["accuracy"]
    return {
        "protocol": "percent",
        "dataset": spec.name,
        "target": target,
        "per_percent": out,
    }


def run_inter_session(
    trials: Sequence[GestureTrial],
    spec: GestureDatasetSpec,
    *,
    subjects: Sequence[str],
    k: int = 1,
    seed: int = 0,
    pretrain_config: TrainConfig = PRETRAIN_CONFIG,
    max_source_windows: int | None = 6000,
    adapt_config: TrainConfig = ADAPT_CONFIG,
    scratch_config: TrainConfig = SCRATCH_CONFIG,
    widths: Sequence[int] = DEFAULT_WIDTHS,
    augment: GainAugment | None = ADAPT_AUGMENT,
    refit: bool = True,
) -> dict[str, Any]:
    """Inter-session: pretrain on a subject's first session, adapt with the
    first k trials per gesture of the second session, test on the rest of it.

    Parameters
    ----------
    augment : GainAugment or None
        Training-window augmentation (see :func:`emgcore.gesture.core.adapt`).
    refit : bool
        See :func:`emgcore.gesture.core.adapt`.

    Returns
    -------
    dict
        Per subject: ``no_adapt``, ``tl_frozen``, ``scratch``, ``lda_target``
        accuracies on the second session's held-back trials.
    """
    per: dict[str, Any] = {}
    for s in subjects:
        tr = subject_trials(trials, s)
        sessions = sorted({t.session for t in tr})
        if len(sessions) < 2:
            continue
        s1 = [t for t in tr if t.session == sessions[0]]
        s2 = [t for t in tr if t.session == sessions[1]]
        first = {}
        for t in s2:
            first[t.label] = min(first.get(t.label, t.order), t.order)
        adapt_tr = [t for t in s2 if t.order - first[t.label] < k]
        test_tr = [t for t in s2 if t.order - first[t.label] >= k]
        check_disjoint(adapt_tr, test_tr)
        model, scaler, _ = pretrain(
            s1,
            spec,
            config=pretrain_config,
            seed=seed,
            max_windows=max_source_windows,
            widths=widths,
        )
        before = person_scaler(scaler, adapt_tr, spec)
        row = {"no_adapt": evaluate(model, before, test_tr, spec)["accuracy"]}
        for m in ("tl_frozen", "scratch"):
            cfg = scratch_config if m == "scratch" else adapt_config
            m2, sc2, _ = adapt(
                model,
                adapt_tr,
                spec,
                method=m,
                config=cfg,
                seed=seed,
                augment=augment,
                refit=refit,
            )
            row[m] = evaluate(m2, sc2, test_tr, spec)["accuracy"]
        row["lda_target"] = lda_accuracy(adapt_tr, test_tr, spec, seed=seed)["accuracy"]
        per[s] = row
    keys = ("no_adapt", "tl_frozen", "scratch", "lda_target")
    return {
        "protocol": "inter_session",
        "dataset": spec.name,
        "k": k,
        "per_subject": per,
        "mean_sd": {m: list(_mean_sd([r[m] for r in per.values()])) for m in keys},
    }


__all__ = [
    "ADAPT_METHODS",
    "METHODS",
    "make_folds",
    "pick_targets",
    "plot_summary",
    "run_inter_session",
    "run_inter_subject",
    "run_intra_subject",
    "run_percent",
    "summarise",
    "paired_markdown",
    "summary_markdown",
]
