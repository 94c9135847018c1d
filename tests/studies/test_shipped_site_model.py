"""The shipped site-standardised model: refused until calibrated, and calibrated
exactly as its evaluation assumed (the study's per-site statistics)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emgcore.checkpoint import load_checkpoint
from emgcore.errors import IncompatibleCheckpointError
from emgcore.inference import predict
from emgcore.io import read_recording
from emgcore.site_calibration import calibrate_site

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / "disease" / "site_standardised.pt"


@pytest.fixture(scope="module")
def mendeley(data_dir):
    from emgcore.datasets.clinical import clinical_records

    recs = [r for r in clinical_records(data_dir) if r.site == "mendeley"]
    folder = data_dir / "needle-emg-mendeley"
    return recs, [folder / f"{r.record.split(':', 1)[1]}.hea" for r in recs]


def test_the_shipped_site_model_is_refused_until_calibrated(mendeley) -> None:
    _, meta = load_checkpoint(SHIPPED)
    assert meta["model_kwargs"]["site_standardised"] is True
    assert "site_calibration" not in meta
    # Its figures are the headline protocol's for the site-standardised method.
    assert meta["evaluation"]["subject_held_out"] is True
    assert meta["metrics"]["method"] == "window-linear-sitenorm"
    with pytest.raises(IncompatibleCheckpointError, match="calibrated"):
        predict(read_recording(mendeley[1][0]), SHIPPED)


def test_calibrating_on_a_site_gives_the_statistics_its_evaluation_used(
    mendeley, tmp_path
) -> None:
    from studies.site_norm import site_stats
    from studies.window_linear import window_table

    recs, files = mendeley
    out = tmp_path / "mendeley.pt"
    calibrate_site(SHIPPED, files, out, site="mendeley")
    model, meta = load_checkpoint(out)
    assert meta["site_calibration"]["n_recordings"] == len(files)
    train = meta["train"]
    mean, spread = site_stats(
        window_table(train["window_s"], train["sub_window_s"]), recs
    )["mendeley"]
    assert np.allclose(model.site_center.numpy(), mean, rtol=1e-9, atol=1e-9)
    assert np.allclose(model.site_scale.numpy(), spread, rtol=1e-9, atol=1e-9)
    assert predict(read_recording(files[0]), out).probabilities is not None


def test_its_expected_performance_names_the_cross_site_figures() -> None:
    from emgcore.performance import expected_performance

    _, meta = load_checkpoint(SHIPPED)
    text = expected_performance(meta)["text"]
    assert "one recording at a time" in text
    assert "cross-site test gave 0.70-0.93" in text
    # The default model (no site standardisation) says nothing of the kind.
    _, default = load_checkpoint(SHIPPED.with_name("default.pt"))
    assert "cross-site" not in expected_performance(default)["text"]
