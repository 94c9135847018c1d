"""Each plot function writes a non-empty PNG."""

from __future__ import annotations

import numpy as np
import pytest

from emgcore import metrics as M
from studies import plots

NAMES = ["healthy", "myopathy", "neuropathy"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _is_png(path):
    data = path.read_bytes()
    return data[:8] == PNG_MAGIC and len(data) > 2000


@pytest.fixture
def predictions(rng):
    y = rng.integers(0, 3, 120)
    proba = M.apply_temperature(rng.standard_normal((120, 3)) + 2 * np.eye(3)[y], 1.0)
    return y, proba


def test_plot_confusion_writes_png(tmp_path, predictions):
    y, proba = predictions
    cm = M.classification_report(y, proba, NAMES)["confusion_matrix"]
    out = plots.plot_confusion(cm, NAMES, tmp_path / "sub" / "cm.png")
    assert _is_png(out)
    with pytest.raises(ValueError, match="3x3"):
        plots.plot_confusion([[1, 2], [3, 4]], NAMES, tmp_path / "bad.png")


def test_plot_reliability_writes_png(tmp_path, predictions):
    y, proba = predictions
    curve = M.reliability_curve(y, proba)
    ece = M.expected_calibration_error(y, proba)
    assert _is_png(plots.plot_reliability(curve, tmp_path / "rel.png", ece=ece))


def test_plot_roc_writes_png_and_skips_absent_classes(tmp_path, predictions):
    y, proba = predictions
    assert _is_png(plots.plot_roc(y, proba, NAMES, tmp_path / "roc.png"))
    two = y[y < 2]
    assert _is_png(plots.plot_roc(two, proba[y < 2], NAMES, tmp_path / "roc2.png"))


def test_plot_embedding_writes_png(tmp_path, rng):
    xy = rng.standard_normal((60, 2))
    y = np.repeat(np.arange(3), 20)
    assert _is_png(plots.plot_embedding(xy, y, NAMES, tmp_path / "tsne.png"))


def test_plot_curves_writes_png(tmp_path):
    k = [1, 2, 5, 10]
    series = {
        "TL": ([0.5, 0.6, 0.7, 0.8], [0.05, 0.04, 0.03, 0.02]),
        "scratch": ([0.3, 0.4, np.nan, 0.6], [0.1, 0.1, np.nan, 0.05]),
    }
    out = plots.plot_curves(k, series, tmp_path / "curves.png", chance=1 / 8)
    assert _is_png(out)
    with pytest.raises(ValueError, match="must match x"):
        plots.plot_curves(k, {"bad": ([1, 2], [0, 0])}, tmp_path / "x.png")


def test_importing_the_plots_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, studies.plots;print('matplotlib' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"
