"""Figures and the Markdown report of a summary.

:func:`write_figures` (confusion matrices, reliability diagrams and ROC
curves of seed 0), the method labels and order of the tables, and
:func:`render_markdown` with the paper-beside-ours and per-recording tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emgcore.datasets.base import DISEASE_CLASSES
from studies.disease_report.summary import (
    PAPER_TABLE,
    _is_deep,
    _load_runs,
    _pool_seed,
)


def write_figures(
    summary: dict[str, Any], runs_dir: Path, data_by_protocol: dict, out_dir: Path
) -> list[str]:
    """Confusion matrices, reliability diagrams and ROC curves (seed 0)."""
    from emgcore.metrics import aggregate_by_group, labels_by_group, reliability_curve
    from studies.plots import plot_confusion, plot_reliability, plot_roc

    out_dir.mkdir(parents=True, exist_ok=True)
    names = list(DISEASE_CLASSES)
    written = []
    runs = _load_runs(runs_dir)
    for (protocol, method), records in sorted(runs.items()):
        if not _is_deep(method):
            continue
        ws = data_by_protocol[protocol]
        seed = min(int(r["seed"]) for r in records)
        recs = [r for r in records if int(r["seed"]) == seed]
        y, p, praw, groups = _pool_seed(recs, ws.y, ws.recording_ids)
        level = "recording" if protocol == "n2001_loso" else "window"
        if level == "recording":
            _, p = aggregate_by_group(p, groups)
            _, praw_g = (
                aggregate_by_group(praw, groups) if praw is not None else (None, None)
            )
            _, y = labels_by_group(y, groups)
            praw = praw_g
        cm = summary["protocols"][protocol][method][level]["report"]["confusion_matrix"]
        stem = f"{protocol}-{method}"
        plot_confusion(np.asarray(cm), names, out_dir / f"{stem}-confusion.png")
        plot_reliability(reliability_curve(y, p), out_dir / f"{stem}-reliability.png")
        plot_roc(y, p, names, out_dir / f"{stem}-roc.png")
        written += [
            f"{stem}-confusion.png",
            f"{stem}-reliability.png",
            f"{stem}-roc.png",
        ]
    return written


METHOD_LABELS = {
    "tl": "CNN-TCN, transfer learning",
    "tl-ninapro_db1": "CNN-TCN, TL from NinaPro DB1",
    "tl-myo_readings": "CNN-TCN, TL from myo-readings",
    "tl-mix": "CNN-TCN, TL from DB1 + myo-readings",
    "scratch": "CNN-TCN, from scratch",
    "scratch-bal": "CNN-TCN, from scratch, class-balanced loss",
    "lda": "classic features + LDA",
    "logreg": "classic features + logistic regression",
    "rf": "classic features + random forest",
}
_ORDER = [
    "tl",
    "tl-mix",
    "tl-ninapro_db1",
    "tl-myo_readings",
    "scratch",
    "lda",
    "logreg",
    "rf",
]


def _ms(entry: dict[str, Any], metric: str) -> str:
    s = entry["summary"][metric]
    if s["mean"] is None:
        return "n/a"
    return (
        f"{s['mean']:.3f} ± {s['sd']:.3f}"
        if len(s["values"]) > 1
        else f"{s['mean']:.3f}"
    )


def _fmt_ci(pc: dict[str, Any], name: str) -> str:
    from emgcore.retrain.card import metric_with_ci

    return metric_with_ci(pc, name, value_digits=3)


def render_markdown(summary: dict[str, Any]) -> str:
    """The result tables of ``docs/RESULTS.md`` (generated, do not edit by hand)."""
    lines: list[str] = []
    titles = {
        "paper": "Protocol 1: the paper's random 80/20 window split of emgdb (leaky)",
        "blocked": "Protocol 2: leakage-free blocked split of emgdb (one person per class)",
        "n2001_loso": "Protocol 3: N2001 leave-one-subject-out (the headline)",
    }
    for protocol in ("paper", "blocked", "n2001_loso"):
        methods = summary["protocols"].get(protocol)
        if not methods:
            continue
        lines += [f"#### {titles[protocol]}", ""]
        lines += _paper_beside_ours(
            methods, "recording" if protocol == "n2001_loso" else "window"
        )
        levels = ["recording", "window"] if protocol == "n2001_loso" else ["window"]
        for level in levels:
            lines += [
                f"{level.capitalize()} level; mean ± sd over seeds "
                "(ECE after temperature scaling fitted on validation data; raw = before).",
                "",
                "| method | seeds | accuracy | balanced accuracy | macro F1 | ECE | ECE raw |",
                "|---|---|---|---|---|---|---|",
            ]
            for m in sorted(
                methods, key=lambda k: _ORDER.index(k) if k in _ORDER else 99
            ):
                e = methods[m][level]
                lines.append(
                    f"| {METHOD_LABELS.get(m, m)} | {methods[m]['n_seeds']} | {_ms(e, 'accuracy')} | "
                    f"{_ms(e, 'balanced_accuracy')} | {_ms(e, 'macro_f1')} | {_ms(e, 'ece')} | "
                    f"{_ms(e, 'ece_raw')} |"
                )
            lines.append("")
        deep = [m for m in methods if _is_deep(m)]
        for m in sorted(deep, key=lambda k: _ORDER.index(k) if k in _ORDER else 99):
            level = levels[0]
            e = methods[m][level]
            rep = e["report"]
            unit = rep["ci"]["resampled_unit"]
            lines += [
                f"Per class, {METHOD_LABELS.get(m, m)}, {level} level, seed {e['report_seed']} "
                f"(95 % percentile bootstrap CI, {rep['ci']['n_boot']} resamples of "
                f"{'recordings' if unit == 'group' or level == 'recording' else 'windows'}):",
                "",
                "| class | precision | sensitivity | specificity | F1 | AUC |",
                "|---|---|---|---|---|---|",
            ]
            for c in DISEASE_CLASSES:
                pc = rep["per_class"][c]
                lines.append(
                    f"| {c} | {_fmt_ci(pc, 'precision')} | {_fmt_ci(pc, 'sensitivity')} | "
                    f"{_fmt_ci(pc, 'specificity')} | {_fmt_ci(pc, 'f1')} | {_fmt_ci(pc, 'auc')} |"
                )
            cm = rep["confusion_matrix"]
            lines += [
                "",
                f"Confusion matrix (rows true, columns predicted, order "
                f"{', '.join(DISEASE_CLASSES)}): `{cm}`",
                "",
            ]
        if protocol == "n2001_loso":
            lines += _per_recording_table(methods)
    return "\n".join(lines)


def _paper_beside_ours(methods: dict[str, Any], level: str) -> list[str]:
    """The paper's per-class table (its TL model, its split) beside ours (seed 0)."""
    deep = sorted(
        (m for m in methods if _is_deep(m)),
        key=lambda k: _ORDER.index(k) if k in _ORDER else 99,
    )
    cols = ["paper (TL)"] + [METHOD_LABELS.get(m, m) for m in deep]
    lines = [
        f"The paper's table (its TL model on its random split) beside ours ({level} "
        "level, seed 0); sensitivity / specificity / F1 per class, then accuracy:",
        "",
        "| class | " + " | ".join(cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    for c in DISEASE_CLASSES:
        paper = PAPER_TABLE["per_class"][c]
        cells = [
            f"{paper['sensitivity']:.3f} / {paper['specificity']:.3f} / {paper['f1']:.3f}"
        ]
        for m in deep:
            pc = methods[m][level]["report"]["per_class"][c]
            cells.append(
                f"{pc['sensitivity']:.3f} / {pc['specificity']:.3f} / {pc['f1']:.3f}"
            )
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    acc = [f"{PAPER_TABLE['accuracy']:.3f}"] + [
        f"{methods[m][level]['report']['accuracy']:.3f}" for m in deep
    ]
    lines += ["| accuracy | " + " | ".join(acc) + " |", ""]
    return lines


def _per_recording_table(methods: dict[str, Any]) -> list[str]:
    """Every held-out N2001 recording, right or wrong, for each deep method (seed 0)."""
    lines = [
        "Every held-out recording (seed 0, recording-level probabilities "
        "healthy/myopathy/neuropathy; ✔ = argmax is the true class):",
        "",
    ]
    deep = [
        m for m in methods if _is_deep(m) and "items" in methods[m].get("recording", {})
    ]
    deep.sort(key=lambda k: _ORDER.index(k) if k in _ORDER else 99)
    if not deep:
        return []
    lines.append(
        "| recording | true | "
        + " | ".join(METHOD_LABELS.get(m, m) for m in deep)
        + " |"
    )
    lines.append("|---|---|" + "---|" * len(deep))
    seed_items = {
        m: methods[m]["recording"]["items"][
            min(methods[m]["recording"]["items"], key=int)
        ]
        for m in deep
    }
    for rec in sorted(seed_items[deep[0]]):
        true = seed_items[deep[0]][rec]["true"]
        cells = []
        for m in deep:
            item = seed_items[m].get(rec)
            if item is None:
                cells.append("–")
                continue
            p = item["proba"]
            ok = "✔" if DISEASE_CLASSES[int(np.argmax(p))] == true else "✘"
            cells.append(f"{ok} {p[0]:.2f}/{p[1]:.2f}/{p[2]:.2f}")
        lines.append(f"| {rec} | {true} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines
