"""Analysis of learned embeddings: PCA, class-centroid distances, t-SNE.

The same three views the CNN-TCN paper reports (its Section 5.3 and 5.5),
computed reproducibly (seeded) and returned as data, so that the numbers go
into JSON and the points into :func:`studies.plots.plot_embedding`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

#: Most points handed to t-SNE (it is O(n log n) at best and slow beyond this).
MAX_TSNE_POINTS = 2000
#: Embeddings wider than this are reduced by PCA before t-SNE.
TSNE_PCA_DIMS = 50


def embedding_analysis(
    embeddings: ArrayLike,
    y: ArrayLike,
    class_names: Sequence[str],
    *,
    seed: int,
    max_tsne_points: int = MAX_TSNE_POINTS,
    tsne: bool = True,
    tsne_max_iter: int = 1000,
) -> dict[str, Any]:
    """PCA variance explained, class-centroid distances and a 2-D t-SNE.

    Parameters
    ----------
    embeddings : array-like of float, shape (n_samples, n_dims)
        One embedding per window (e.g. the 128-d CNN-TCN embedding).
    y : array-like of int, shape (n_samples,)
        Class index of each sample, in ``0 .. len(class_names) - 1``.
    class_names : sequence of str
        Class names in index order.
    seed : int
        Seed for the subsample and for t-SNE.
    max_tsne_points : int
        Larger inputs are subsampled (stratified by class) to this many points
        for t-SNE; PCA and centroids always use every point. t-SNE runs on
        the first ``TSNE_PCA_DIMS`` principal components.
    tsne : bool
        Set False to skip the (slow) t-SNE.
    tsne_max_iter : int
        Optimisation iterations of t-SNE (>= 250).

    Returns
    -------
    dict
        ``pca_explained_variance_ratio`` (first two components, floats),
        ``pca_cumulative_2`` (their sum), ``pca_cumulative`` (cumulative
        ratio over all components, list), ``centroid_distances``
        ({"a vs b": Euclidean distance in embedding units} for every pair of
        classes present), ``class_counts``, and — as numpy arrays, for
        plotting (call ``.tolist()`` before JSON) — ``tsne_xy`` (n_points, 2),
        ``tsne_y`` (n_points,) and ``tsne_index`` (rows of ``embeddings``
        used), or None for these when ``tsne`` is False.
    """
    from sklearn.decomposition import PCA

    x = np.asarray(embeddings, dtype=np.float64)
    labels = np.asarray(y)
    names = [str(c) for c in class_names]
    if x.ndim != 2 or labels.ndim != 1 or labels.shape[0] != x.shape[0]:
        raise ValueError(
            f"'embeddings' (n_samples, n_dims) and 'y' (n_samples,) do not fit: "
            f"got {x.shape} and {labels.shape}."
        )
    if x.shape[0] < 3:
        raise ValueError(f"At least 3 samples are needed, got {x.shape[0]}.")
    if not np.isfinite(x).all():
        raise ValueError("'embeddings' holds NaN or infinite values.")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= len(names):
        raise ValueError(
            f"'y' holds labels {labels.min()}..{labels.max()}, outside "
            f"0..{len(names) - 1} for {len(names)} class names."
        )

    pca = PCA(random_state=seed).fit(x)
    ratio = pca.explained_variance_ratio_
    cumulative = np.cumsum(ratio)

    present = [k for k in range(len(names)) if np.any(labels == k)]
    centroids = {k: x[labels == k].mean(axis=0) for k in present}
    distances = {
        f"{names[a]} vs {names[b]}": float(np.linalg.norm(centroids[a] - centroids[b]))
        for a, b in combinations(present, 2)
    }

    out: dict[str, Any] = {
        "n_samples": int(x.shape[0]),
        "n_dims": int(x.shape[1]),
        "pca_explained_variance_ratio": [float(v) for v in ratio[:2]],
        "pca_cumulative_2": float(cumulative[min(1, cumulative.size - 1)]),
        "pca_cumulative": [float(v) for v in cumulative],
        "centroid_distances": distances,
        "class_counts": {names[k]: int(np.sum(labels == k)) for k in present},
        "tsne_xy": None,
        "tsne_y": None,
        "tsne_index": None,
    }
    if tsne:
        idx = _stratified_subsample(labels, int(max_tsne_points), seed)
        out["tsne_xy"] = _tsne(x[idx], seed, int(tsne_max_iter))
        out["tsne_y"] = labels[idx]
        out["tsne_index"] = idx
    return out


def _stratified_subsample(labels: np.ndarray, limit: int, seed: int) -> np.ndarray:
    n = labels.size
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    picked = []
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.maximum(1, np.floor(counts / n * limit)).astype(int)
    for c, q in zip(classes, quota, strict=True):
        members = np.flatnonzero(labels == c)
        picked.append(rng.choice(members, size=min(q, members.size), replace=False))
    return np.sort(np.concatenate(picked))


def _tsne(x: np.ndarray, seed: int, max_iter: int) -> np.ndarray:
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    n = x.shape[0]
    if x.shape[1] > TSNE_PCA_DIMS and n > TSNE_PCA_DIMS:
        # The usual speed-up (recommended in scikit-learn's TSNE docs): t-SNE on
        # the first 50 principal components, which keep the neighbourhoods.
        x = PCA(n_components=TSNE_PCA_DIMS, random_state=seed).fit_transform(x)
    # Perplexity must be below n; 30 is the usual default for larger sets.
    perplexity = float(min(30.0, max(2.0, (n - 1) / 3.0)))
    if n < 5:
        perplexity = float(max(1.0, n - 2))
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        random_state=seed,
        learning_rate="auto",
        max_iter=max_iter,
    )
    # Small inputs run on one OpenMP thread: on a busy machine scikit-learn's
    # threads spin and a 60-point t-SNE became ~50x slower than single-threaded.
    # Larger inputs still gain from the threads.
    with threadpool_limits(limits=1 if n <= 1000 else None, user_api="openmp"):
        return tsne.fit_transform(x).astype(np.float64)
