"""Tests for studies.embedding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studies.embedding import embedding_analysis

NAMES = ["healthy", "myopathy", "neuropathy"]


def _clusters(rng, n_per=40, dims=16, spread=0.1):
    centres = np.zeros((3, dims))
    centres[1, 0] = 3.0  # healthy-myopathy distance 3
    centres[2, 1] = 4.0  # healthy-neuropathy distance 4, myopathy-neuropathy 5
    y = np.repeat(np.arange(3), n_per)
    x = centres[y] + spread * rng.standard_normal((y.size, dims))
    return x, y


def test_it_reports_centroid_distances_and_pca_variance(rng):
    x, y = _clusters(rng)
    out = embedding_analysis(x, y, NAMES, seed=0, tsne=False)
    d = out["centroid_distances"]
    assert d["healthy vs myopathy"] == pytest.approx(3.0, abs=0.1)
    assert d["healthy vs neuropathy"] == pytest.approx(4.0, abs=0.1)
    assert d["myopathy vs neuropathy"] == pytest.approx(5.0, abs=0.1)
    # three tight clusters lie in a plane: two components explain nearly all
    assert out["pca_cumulative_2"] > 0.95
    assert out["pca_cumulative"][-1] == pytest.approx(1.0)
    assert sum(out["pca_explained_variance_ratio"]) == pytest.approx(
        out["pca_cumulative_2"]
    )
    assert out["class_counts"] == {n: 40 for n in NAMES}
    json.dumps(out)


def test_tsne_keeps_clusters_apart_and_is_seeded(rng):
    x, y = _clusters(rng, n_per=20, dims=64)
    a = embedding_analysis(x, y, NAMES, seed=1, tsne_max_iter=500)
    b = embedding_analysis(x, y, NAMES, seed=1, tsne_max_iter=500)
    xy = a["tsne_xy"]
    assert xy.shape == (60, 2)
    np.testing.assert_allclose(xy, b["tsne_xy"])
    centres = np.array([xy[a["tsne_y"] == k].mean(0) for k in range(3)])
    within = max(
        np.linalg.norm(xy[a["tsne_y"] == k] - centres[k], axis=1).max()
        for k in range(3)
    )
    between = min(
        np.linalg.norm(centres[i] - centres[j])
        for i in range(3)
        for j in range(i + 1, 3)
    )
    assert between > within


def test_tsne_subsamples_large_inputs_stratified(rng):
    x, y = _clusters(rng, n_per=100, dims=8)
    out = embedding_analysis(x, y, NAMES, seed=0, max_tsne_points=60, tsne_max_iter=500)
    assert out["tsne_xy"].shape[0] <= 60
    assert np.bincount(out["tsne_y"]).tolist() == [20, 20, 20]
    np.testing.assert_array_equal(y[out["tsne_index"]], out["tsne_y"])


def test_it_rejects_labels_outside_the_class_names(rng):
    x, y = _clusters(rng, n_per=5)
    with pytest.raises(ValueError, match="class names"):
        embedding_analysis(x, y + 1, NAMES, seed=0, tsne=False)
