"""Fixtures shared by the gesture tests of emgcore and of the studies.

Real parts: one real myo-readings session (subject 44444) to pretrain on, the
session of another person (55555) to adapt to, a 1-epoch source checkpoint
(widths 4, 8) and a synthetic helper of subjects told apart by electrode.
Import the fixtures a test module uses by name.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from emgcore.gesture.api import save_gesture_checkpoint
from emgcore.gesture.core import (
    ADAPT_CONFIG,
    PRETRAIN_CONFIG,
    PretrainOptions,
    pretrain,
)
from emgcore.gesture.data import GestureTrial, get_spec, trials_from_files
from emgcore.io.gestures import read_myo_readings


@pytest.fixture
def one_torch_thread():
    # Tiny models: a second intra-op thread only spins on a shared 2-core machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY_PRE = dataclasses.replace(PRETRAIN_CONFIG, epochs=1, patience=None)


TINY_ADAPT = dataclasses.replace(ADAPT_CONFIG, epochs=1, patience=None)


MYO = "myo-readings-dataset/_readings_left_hand"


@pytest.fixture(scope="module")
def myo_trials(data_dir):
    spec = get_spec("myo-readings")
    src = trials_from_files(read_myo_readings(data_dir / MYO / "44444-1.npz"), spec)
    tgt_files = read_myo_readings(data_dir / MYO / "55555-1.npz")
    return spec, src, tgt_files


def make_tiny_gesture_checkpoint(
    data_dir, path, *, source: str = "44444", heldout: tuple[str, ...] = ("55555",)
):
    """THE tiny gesture checkpoint of the suite: a 1-epoch All-ConvNet (widths
    4, 8, 200 windows) pretrained on one real myo-readings session."""
    spec = get_spec("myo-readings")
    trials = trials_from_files(
        read_myo_readings(data_dir / MYO / f"{source}-1.npz"), spec
    )
    options = PretrainOptions(config=TINY_PRE, widths=(4, 8), max_windows=200)
    model, scaler, info = pretrain(trials, spec, options, seed=0)
    save_gesture_checkpoint(
        path,
        model,
        scaler,
        spec,
        seed=0,
        train={"source_subjects": [source], "heldout_subjects": list(heldout), **info},
    )
    return path


@pytest.fixture(scope="module")
def tiny_ckpt(data_dir, tmp_path_factory):
    return make_tiny_gesture_checkpoint(
        data_dir, tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    )


def synthetic_subjects(names, n_times=400):
    """Two classes told apart by which electrode is active, per subject."""
    rng = np.random.default_rng(1)
    trials = []
    for subject in names:
        for label in (0, 1):
            for order in (0, 1):
                data = rng.normal(0, 0.1, (8, n_times)).astype(np.float32)
                data[label] *= 20
                src = f"{subject}-{label}-{order}@0"
                trials.append(GestureTrial(data, label, subject, "1", order, src))
    return trials
