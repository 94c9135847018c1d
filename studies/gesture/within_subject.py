"""Intra-subject, percent-of-data and inter-session protocols.

The protocols that adapt and test within one subject's own recordings, each
returning a JSON-serialisable dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emgcore.config import TrainConfig
from emgcore.gesture.core import (
    DEFAULT_WIDTHS,
    SCRATCH_CONFIG,
    AdaptOptions,
    PretrainOptions,
    adapt,
    evaluate,
    lda_accuracy,
    person_scaler,
    pretrain,
)
from emgcore.gesture.data import (
    ADAPT_AUGMENT,
    GainAugment,
    GestureDatasetSpec,
    GestureTrial,
    check_disjoint,
    subject_trials,
)
from studies.gesture.config import InterSessionConfig, PercentConfig
from studies.gesture.summary import _mean_sd


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
        options = AdaptOptions(
            method="scratch",
            config=config,
            widths=widths,
            augment=augment,
            refit=refit,
        )
        model, scaler, _ = adapt(None, train, spec, options, seed=seed)
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
    config: PercentConfig | None = None,
) -> dict[str, Any]:
    """Adaptation with 20..100 % of the target's training trials (paper's ratios).

    The target's first half of trials per gesture is its training pool, the
    second half its test set; ``p`` % of the pool (at least one trial per
    gesture, earliest first) adapts ``source`` (a trained All-ConvNet).
    ``config``: the percents, methods and adaptation settings (default
    :class:`PercentConfig`).

    Returns
    -------
    dict
        ``{"per_percent": {p: {method: acc}}}``.
    """
    config = config or PercentConfig()
    tr = subject_trials(trials, target)
    pool, test = _half_split(tr)
    n_pool = max(t.order for t in pool) + 1
    out: dict[str, dict[str, float]] = {}
    for p in config.percents:
        k = max(1, int(round(n_pool * p / 100)))
        sub = [t for t in pool if t.order < k]
        check_disjoint(sub, test)
        out[str(p)] = {"k": k}
        for m in config.methods:
            model, scaler, _ = config.adapt(source, sub, spec, m)
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
    config: InterSessionConfig | None = None,
) -> dict[str, Any]:
    """Inter-session: pretrain on a subject's first session, adapt with the
    first k trials per gesture of the second session, test on the rest of it.
    ``config``: k, the first session's pretraining and the adaptation settings
    (default :class:`InterSessionConfig`).

    Returns
    -------
    dict
        Per subject: ``no_adapt``, ``tl_frozen``, ``scratch``, ``lda_target``
        accuracies on the second session's held-back trials.
    """
    config = config or InterSessionConfig()
    k = config.k
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
        source_options = PretrainOptions(
            config=config.pretrain_config,
            max_windows=config.max_source_windows,
            widths=config.widths,
        )
        model, scaler, _ = pretrain(s1, spec, source_options, seed=config.seed)
        before = person_scaler(scaler, adapt_tr, spec)
        row = {"no_adapt": evaluate(model, before, test_tr, spec)["accuracy"]}
        for m in ("tl_frozen", "scratch"):
            m2, sc2, _ = config.adapt(model, adapt_tr, spec, m)
            row[m] = evaluate(m2, sc2, test_tr, spec)["accuracy"]
        lda = lda_accuracy(adapt_tr, test_tr, spec, seed=config.seed)
        row["lda_target"] = lda["accuracy"]
        per[s] = row
    keys = ("no_adapt", "tl_frozen", "scratch", "lda_target")
    return {
        "protocol": "inter_session",
        "dataset": spec.name,
        "k": k,
        "per_subject": per,
        "mean_sd": {m: list(_mean_sd([r[m] for r in per.values()])) for m in keys},
    }
