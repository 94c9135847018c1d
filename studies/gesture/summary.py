"""Method names and the summary of an inter-subject run.

The method list and labels of the inter-subject table, the mean and SD
helper, :func:`summarise` (reads every unit file of a run directory), the
paired comparisons, the summary plot and the Markdown tables.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from emgcore.gesture.data import GestureDatasetSpec

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
    from studies.plots import plot_curves

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
