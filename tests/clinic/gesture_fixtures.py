"""Fixtures shared by the gesture tests (imported by tests/clinic/test_gestures_*.py).

Real parts: a tiny All-ConvNet pretrained for one epoch on one real
myo-readings session (subject 55555) and the real session of another person
(44444) as the calibration upload.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.emgcore.gesture_fixtures import make_tiny_gesture_checkpoint

MYO = "myo-readings-dataset/_readings_left_hand"
PERSON_FILE = "44444-1.npz"
SOURCE_FILE = "55555-1.npz"


@pytest.fixture(scope="session")
def tiny_gesture_checkpoint(data_dir, tmp_path_factory) -> Path:
    import torch

    folder = tmp_path_factory.mktemp("gesture-ckpt")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # Pretrained on 55555, so 44444 (the calibration upload) is a new person.
        return make_tiny_gesture_checkpoint(
            data_dir,
            folder / "tiny-allconvnet-myo.pt",
            source=SOURCE_FILE[:5],
            heldout=(),
        )
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def fast_adaptation(settings):
    """One adaptation epoch on one thread, so a real run takes about a second.

    (The test machine's two cores are shared: more threads than free cores
    make torch several times slower.)
    """
    import torch

    settings.EMG_GESTURE_ADAPT_EPOCHS = 1
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def gesture_model(db, tiny_gesture_checkpoint):
    """The tiny checkpoint registered through the service."""
    from clinic.gestures.services import gesture_model_register

    gm, _ = gesture_model_register(checkpoint_path=tiny_gesture_checkpoint)
    return gm


@pytest.fixture
def person_path(data_dir) -> Path:
    """The real calibration session of person 44444 (myo-readings layout)."""
    return data_dir / MYO / PERSON_FILE


@pytest.fixture
def person_file(data_dir):
    """``person_file()`` -> the real calibration session of person 44444, uploaded."""

    def factory(name: str = PERSON_FILE) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, (data_dir / MYO / name).read_bytes())

    return factory


@pytest.fixture
def make_gesture_session(db):
    """``make_gesture_session(user=..., gesture_model=..., status=...)``."""
    return _make_session


def _make_session(*, user, gesture_model, status="QUEUED", **kwargs):
    """A session row without running anything (for views and permissions)."""
    from clinic.gestures.models import GestureSession

    classes = gesture_model.class_names
    n = len(classes)
    report = {
        "class_names": classes,
        "accuracy_before": 0.25,
        "accuracy_after": 0.75,
        "balanced_accuracy_before": 0.25,
        "balanced_accuracy_after": 0.75,
        "confusion_before": [[1] * n for _ in range(n)],
        "confusion_after": [[3 if i == j else 0 for j in range(n)] for i in range(n)],
        "n_adapt_trials": n,
        "n_test_trials": 4 * n,
        "k": 1,
        "method": "tl_frozen",
        "train": {
            "n_train_windows": 500,
            "augment": {"copies": 4, "channel_sd": 0.25, "global_sd": 0.2},
            "refit": {"epochs": 2, "n_train_windows": 650},
        },
    }
    values = {
        "person_code": "G-1",
        "base_model": gesture_model,
        "layout": gesture_model.layout,
        "k": 1,
        "status": status,
        "created_by": user,
        "team": user.profile.team,
    }
    if status == GestureSession.Status.SUCCEEDED:
        values.update(
            progress=100,
            report=report,
            adapted_sha256="a" * 64,
            history=[
                {"phase": "select", "epoch": 1, "train_loss": 1.0, "val_acc": 0.5},
                {"phase": "refit", "epoch": 1, "train_loss": 0.9, "val_acc": None},
            ],
        )
    values.update(kwargs)
    return GestureSession.objects.create(**values)
