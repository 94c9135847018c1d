"""The gesture fixtures shared by tests/emgcore and tests/studies/gesture."""

from tests.emgcore.gesture_fixtures import (  # noqa: F401 (fixtures)
    myo_trials,
    one_torch_thread,
    tiny_ckpt,
)
