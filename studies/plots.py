"""PNG figures of the studies' reports (matplotlib, Agg backend).

Study code: the app draws its own figures (plotly, :mod:`clinic.plots`).
matplotlib is imported inside each function, so importing a study stays light
and the functions work on servers without a display. Every function writes
one PNG to ``path``, returns the path, and closes its figure.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

DPI = 120


def _pyplot() -> Any:
    import matplotlib

    # Agg renders to files without a display; set it before pyplot is imported
    # (and without force, so a notebook's interactive backend is left alone
    # once pyplot is already loaded).
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, format="png")
    plt.close(fig)
    logger.debug("wrote %s", path)
    return path


def plot_confusion(
    cm: ArrayLike,
    class_names: Sequence[str],
    path: str | Path,
    *,
    normalize: bool = True,
    title: str = "Confusion matrix",
) -> Path:
    """Confusion-matrix heatmap (rows = true class, columns = predicted).

    Parameters
    ----------
    cm : array-like of int, shape (n_classes, n_classes)
        Counts, e.g. ``classification_report(...)["confusion_matrix"]``.
    class_names : sequence of str
    path : str or Path
        Output PNG.
    normalize : bool
        Colour by row share (sensitivity on the diagonal); cells show both the
        share and the count.
    title : str

    Returns
    -------
    Path
    """
    plt = _pyplot()
    counts = np.asarray(cm, dtype=np.float64)
    k = len(class_names)
    if counts.shape != (k, k):
        raise ValueError(
            f"'cm' must be {k}x{k} for {k} class names, got {counts.shape}."
        )
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    shown = share if normalize else counts
    fig, ax = plt.subplots(figsize=(1.3 * k + 2.5, 1.2 * k + 2))
    im = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    for i in range(k):
        for j in range(k):
            text = (
                f"{share[i, j]:.2f}\n({int(counts[i, j])})"
                if normalize
                else (f"{int(counts[i, j])}")
            )
            dark = shown[i, j] > 0.6 * (shown.max() or 1)
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                color="white" if dark else "black",
                fontsize=9,
            )
    ax.set_xticks(range(k), class_names, rotation=30, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    ax.set_title(title)
    return _save(fig, path)


def plot_reliability(
    curve: Mapping[str, Any],
    path: str | Path,
    *,
    ece: float | None = None,
    title: str = "Reliability diagram",
) -> Path:
    """Reliability diagram from :func:`emgcore.metrics.reliability_curve`.

    Parameters
    ----------
    curve : dict
        With ``bin_edges``, ``confidence``, ``accuracy`` and ``counts``.
    path : str or Path
    ece : float, optional
        Shown in the title when given.
    title : str

    Returns
    -------
    Path
    """
    plt = _pyplot()
    edges = np.asarray(curve["bin_edges"], dtype=np.float64)
    acc = np.array([np.nan if a is None else a for a in curve["accuracy"]], float)
    conf = np.array([np.nan if c is None else c for c in curve["confidence"]], float)
    counts = np.asarray(curve["counts"], dtype=np.float64)
    centers = (edges[:-1] + edges[1:]) / 2
    width = np.diff(edges)
    fig, (ax, axc) = plt.subplots(
        2, 1, figsize=(5, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ok = np.isfinite(acc)
    ax.bar(
        centers[ok],
        acc[ok],
        width=width[ok],
        edgecolor="k",
        alpha=0.7,
        label="accuracy",
    )
    ax.plot(conf[ok], acc[ok], "o", color="C3", ms=4, label="mean confidence")
    ax.set_ylim(0, 1)
    ax.set_ylabel("Accuracy")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title if ece is None else f"{title} (ECE {ece:.3f})")
    axc.bar(centers, counts, width=width, color="0.5", edgecolor="k")
    axc.set_xlim(0, 1)
    axc.set_xlabel("Confidence (top-class probability)")
    axc.set_ylabel("Count")
    return _save(fig, path)


def plot_roc(
    y_true: ArrayLike,
    proba: ArrayLike,
    class_names: Sequence[str],
    path: str | Path,
    *,
    title: str = "ROC (one vs rest)",
) -> Path:
    """One-vs-rest ROC curves, one per class present with both outcomes.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
    proba : array-like of float, shape (n_samples, n_classes)
    class_names : sequence of str
    path : str or Path
    title : str

    Returns
    -------
    Path
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = _pyplot()
    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != len(class_names) or y.shape != (p.shape[0],):
        raise ValueError(
            f"'proba' must be (n_samples, {len(class_names)}) with one label per "
            f"row; got proba {p.shape} and y_true {y.shape}."
        )
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    for k, name in enumerate(class_names):
        pos = y == k
        if pos.all() or not pos.any():
            continue  # ROC is undefined without both outcomes
        fpr, tpr, _ = roc_curve(pos, p[:, k])
        auc = roc_auc_score(pos, p[:, k])
        ax.plot(fpr, tpr, lw=1.5, label=f"{name} (AUC {auc:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("Sensitivity")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def plot_embedding(
    tsne_xy: ArrayLike,
    y: ArrayLike,
    class_names: Sequence[str],
    path: str | Path,
    *,
    title: str = "t-SNE of embeddings",
) -> Path:
    """Scatter plot of 2-D points coloured by class.

    Parameters
    ----------
    tsne_xy : array-like of float, shape (n_points, 2)
        From :func:`studies.embedding.embedding_analysis` (``tsne_xy``).
    y : array-like of int, shape (n_points,)
        Class index per point (``tsne_y``).
    class_names : sequence of str
    path : str or Path
    title : str

    Returns
    -------
    Path
    """
    plt = _pyplot()
    xy = np.asarray(tsne_xy, dtype=np.float64)
    labels = np.asarray(y)
    if xy.ndim != 2 or xy.shape[1] != 2 or labels.shape != (xy.shape[0],):
        raise ValueError(
            f"'tsne_xy' must be (n_points, 2) with one label per point; got "
            f"{xy.shape} and {labels.shape}."
        )
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for k, name in enumerate(class_names):
        m = labels == k
        if m.any():
            ax.scatter(xy[m, 0], xy[m, 1], s=8, alpha=0.7, label=name)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    ax.legend(fontsize=8, markerscale=2)
    return _save(fig, path)


def plot_curves(
    x: ArrayLike,
    series: Mapping[str, tuple[ArrayLike, ArrayLike]],
    path: str | Path,
    *,
    xlabel: str = "k",
    ylabel: str = "accuracy",
    title: str = "",
    ylim: tuple[float, float] | None = (0.0, 1.0),
    chance: float | None = None,
) -> Path:
    """Lines with mean +- sd error bars, e.g. accuracy vs number of shots k.

    Parameters
    ----------
    x : array-like of float, shape (n_points,)
        Shared x values.
    series : mapping
        ``{label: (mean, sd)}``, each array-like of shape (n_points,); use
        NaN for a missing point.
    path : str or Path
    xlabel, ylabel, title : str
    ylim : (float, float) or None
    chance : float, optional
        Draws a dotted horizontal line at chance level.

    Returns
    -------
    Path
    """
    plt = _pyplot()
    xs = np.asarray(x, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (mean, sd) in series.items():
        m = np.asarray(mean, dtype=np.float64)
        s = np.asarray(sd, dtype=np.float64)
        if m.shape != xs.shape or s.shape != xs.shape:
            raise ValueError(
                f"Series {label!r}: mean {m.shape} and sd {s.shape} must match x "
                f"{xs.shape}."
            )
        ax.errorbar(xs, m, yerr=s, marker="o", ms=4, capsize=3, label=label)
    if chance is not None:
        ax.axhline(chance, color="0.4", ls=":", lw=1, label="chance")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)
