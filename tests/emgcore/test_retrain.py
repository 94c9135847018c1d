"""emgcore.retrain: the split and caps, and one real (tiny) retraining."""

from __future__ import annotations

import numpy as np
import pytest

from emgcore.datasets.base import WindowSet
from emgcore.errors import InvalidOptionError
from emgcore.retrain import (
    BaseCheckpoint,
    RetrainConfig,
    cap_per_recording,
    cap_windows,
    retrain,
    retrain_split,
)
from tests.conftest import make_tiny_disease_checkpoint


def _windows(rng, n_people: int = 4, per_person: int = 6, n_times: int = 1000):
    """Three classes, ``n_people`` people each, one recording per person."""
    subjects, labels = [], []
    for c in range(3):
        for p in range(n_people):
            subjects += [f"c{c}-p{p}"] * per_person
            labels += [c] * per_person
    n = len(subjects)
    starts = np.tile(np.arange(per_person) * n_times, 3 * n_people)
    return WindowSet(
        X=rng.standard_normal((n, 12, n_times)).astype(np.float32),
        y=np.array(labels),
        class_names=("healthy", "myopathy", "neuropathy"),
        recording_ids=np.array(subjects),
        subjects=np.array(subjects),
        start_samples=starts,
        stop_samples=starts + n_times,
        sfreq=1000.0,
        orig_sfreq=np.full(n, 1000.0),
    )


def test_caps_spread_the_windows_evenly_over_the_recordings(rng):
    ws = _windows(rng)
    idx = np.arange(len(ws))
    capped = cap_per_recording(ws, idx, 2, seed=0)
    assert len(capped) == 2 * 12
    assert cap_per_recording(ws, idx, None, seed=0) is idx
    assert len(cap_windows(ws, idx, 24, seed=0)) == 24
    assert cap_windows(ws, idx, 1000, seed=0) is idx


def test_the_split_refuses_a_class_without_training_windows(rng):
    ws = _windows(rng)
    mine = np.flatnonzero(ws.y != 2)
    with pytest.raises(InvalidOptionError, match="no neuropathy example"):
        retrain_split(ws.subset(mine), RetrainConfig(method="scratch"))


def test_an_unknown_method_is_refused():
    with pytest.raises(InvalidOptionError, match="Unknown retraining method"):
        RetrainConfig(method="magic")


def test_transfer_learning_unfreezes_gradually():
    class Encoded:
        def encoder_parameters(self):
            return []

    tl = RetrainConfig(method="tl", epochs=6, learning_rate=1e-3).train_config(
        Encoded()
    )
    assert (tl.freeze_encoder_epochs, tl.frozen_lr, tl.unfrozen_lr) == (2, 1e-3, 1e-4)
    plain = RetrainConfig(method="scratch", epochs=6, learning_rate=1e-3)
    assert plain.train_config(Encoded()).freeze_encoder_epochs == 0


def test_retrain_fits_calibrates_and_evaluates(rng, tmp_path):
    from emgcore.checkpoint import file_sha256

    path = make_tiny_disease_checkpoint(tmp_path / "base.pt")
    base = BaseCheckpoint.load(path, expected_sha256=file_sha256(path))
    config = RetrainConfig(
        method="tl", epochs=2, max_windows=40, n_boot=5, data_sources=("synthetic",)
    )
    epochs, stages = [], []
    result = retrain(
        _windows(rng),
        config,
        base=base,
        on_epoch=lambda record: epochs.append(record["epoch"]),
        on_stage=stages.append,
    )
    assert not result.cancelled and epochs == [1, 2] and stages == ["evaluating"]
    meta = result.metadata
    assert meta["parent"] == base.sha256 and meta["dataset"]["name"] == "synthetic"
    assert list(meta["metrics"])[:7] == [
        "temperature",
        "method",
        "n_train",
        "n_val",
        "val_acc",
        "best_epoch",
        "retraining_run",
    ]
    # One validation person (one recording) per class: window-level metrics.
    assert meta["metrics"]["evaluation_level"] == "window"
    assert set(meta["metrics"]["per_class"]) == {"healthy", "myopathy", "neuropathy"}


def test_a_stop_after_the_fit_gives_no_model(rng, tmp_path):
    from emgcore.checkpoint import file_sha256

    path = make_tiny_disease_checkpoint(tmp_path / "base.pt")
    base = BaseCheckpoint.load(path, expected_sha256=file_sha256(path))
    config = RetrainConfig(method="scratch", epochs=1, max_windows=40)
    result = retrain(_windows(rng), config, base=base, should_stop=lambda: True)
    assert result.cancelled and result.model is None and result.metadata == {}
