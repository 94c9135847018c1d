"""Shared fixtures: the real-data directory, seeded RNG, synthetic EMG."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Fixture modules shared by several test files, registered once here (pytest
# reads pytest_plugins only in the top conftest): gesture sessions and the
# moto S3 server.
pytest_plugins = ("tests.clinic.gesture_fixtures", "tests.clinic.s3")

REPO_ROOT = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    return Path(os.environ.get("EMG_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real recordings (``EMG_DATA_DIR``, default ``../shared/data``).

    Missing data is an error, not a skip: the suite is meant to run on them.
    """
    path = _data_dir()
    if not (path / "physionet-emgdb").is_dir():
        pytest.fail(
            f"Real EMG data not found at {path}. Set EMG_DATA_DIR to the folder "
            "that holds physionet-emgdb/, emglab-n2001/, ... (../shared/data)."
        )
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


def make_synthetic_emg(
    rng: np.random.Generator,
    *,
    sfreq: float = 2000.0,
    duration_s: float = 5.0,
    n_chans: int = 1,
    line_hz: float | None = None,
    line_amp: float = 0.0,
) -> np.ndarray:
    """Band-limited noise bursts (a crude sEMG stand-in), shape (n_chans, n_times)."""
    from scipy.signal import butter, sosfiltfilt

    n_times = int(round(sfreq * duration_s))
    noise = rng.standard_normal((n_chans, n_times))
    hi = min(450.0, 0.45 * sfreq)
    sos = butter(4, [20.0, hi], btype="bandpass", fs=sfreq, output="sos")
    emg = sosfiltfilt(sos, noise, axis=-1)
    t = np.arange(n_times) / sfreq
    envelope = 0.5 + 0.5 * (np.sin(2 * np.pi * 0.5 * t) > 0)
    emg = emg * envelope
    if line_hz is not None:
        emg = emg + line_amp * np.sin(2 * np.pi * line_hz * t)
    return emg.astype(np.float32)


@pytest.fixture
def synthetic_emg(rng):
    def factory(**kwargs):
        return make_synthetic_emg(rng, **kwargs)

    return factory


def make_tiny_disease_checkpoint(
    path: Path,
    *,
    min_confidence: float | None = 0.5,
    seed: int = 0,
    metrics: dict | None = None,
) -> Path:
    """An untrained CNN-TCN saved with real disease metadata (fast; for plumbing tests)."""
    from emgcore.checkpoint import save_checkpoint
    from emgcore.disease import disease_preprocess, new_model

    model = new_model(seed=seed)
    save_checkpoint(
        path,
        model,
        {
            "class_names": ["healthy", "myopathy", "neuropathy"],
            "preprocess": disease_preprocess().to_dict(),
            "train": {"stage": "test"},
            "dataset": {"name": "none", "split_hash": None},
            "metrics": {"temperature": 1.0, **(metrics or {})},
            "seed": seed,
            "parent": None,
            "min_confidence": min_confidence,
        },
    )
    return path


def make_tiny_clinic_checkpoint(
    path: Path,
    *,
    min_confidence: float | None = 0.5,
    training_sha256s: tuple[str, ...] = ("ab" * 32,),
) -> Path:
    """A tiny All-ConvNet with a qualifying held-out evaluation and per-class
    metrics, so the clinic's registry registers and promotes it (``path`` with its
    sha256 sidecar).

    ``min_confidence=None`` makes every answer a class (never "inconclusive");
    ``training_sha256s`` are the data-file hashes its training data list."""
    import torch

    from emgcore.checkpoint import save_checkpoint
    from emgcore.models import build_model

    torch.manual_seed(0)
    # 0.25 s windows at 1 kHz: small enough to run in a test, real enough for
    # emgcore.inference.predict (untrained, so its answers mean nothing).
    model = build_model(
        "allconvnet", n_chans=1, n_times=250, n_outputs=3, sfreq=1000.0, widths=(4, 8)
    )
    classes = ["healthy", "myopathy", "neuropathy"]
    metrics = {
        "per_class": {
            c: {
                "sensitivity": 0.9,
                "sensitivity_ci": [0.8, 0.97],
                "specificity": 0.8,
                "specificity_ci": [0.7, 0.9],
            }
            for c in classes
        }
    }
    save_checkpoint(
        path,
        model,
        {
            "class_names": classes,
            "metrics": metrics,
            "min_confidence": min_confidence,
            "preprocess": {"target_sfreq": 1000.0, "window_s": 0.25, "step_s": 0.25},
            "evaluation": HELD_OUT_EVALUATION,
            "training_data": {
                "datasets": ["synthetic"],
                "subjects": ["T01", "T02"],
                "recordings": ["t01", "t02"],
                "sha256s": list(training_sha256s),
            },
        },
    )
    return path


#: A qualifying evaluation record (meta["evaluation"], clinic.provenance).
HELD_OUT_EVALUATION = {
    "protocol": "subject_held_out",
    "dataset": "synthetic",
    "people_per_class": {"healthy": 3, "myopathy": 3, "neuropathy": 3},
    "subjects": [f"S{i:02d}" for i in range(9)],
    "recordings": [f"s{i:02d}" for i in range(9)],
    "sha256s": [],
    "subject_held_out": True,
}


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """emgcore's disease CNN-TCN, untrained (tests/clinic: tiny_clinic_checkpoint)."""
    return make_tiny_disease_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt")
