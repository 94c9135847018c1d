"""Gesture trials and their image representation for the All-ConvNet.

The package is split by stage; every name is re-exported here, so
``from emgcore.gesture.data import ...`` works as before:

- :mod:`.registry`: the corpora (:class:`GestureDatasetSpec`, ``DATASETS``),
  built on the corpus registry shared with pretraining
  (:mod:`emgcore.datasets.corpora`);
- :mod:`.trials`: readers and :class:`GestureTrial` (files to labelled runs,
  through the shared trial layer);
- :mod:`.windows`: windows, representations, :class:`ChannelScaler`,
  HD-sEMG grid images (the representation choice is documented there);
- :mod:`.splits`: adaptation/test splits, subsampling, gain augmentation.

Rest: a class wherever the dataset labels rest *as a gesture* (myo-readings
label 0 "rest", uci-emg-gestures label 1 "rest"); its trials are the rest runs
between gestures. The myo-readings ``0.txt`` part (one minute of rest in a
single run) is left out so rest trials look like gesture trials (~5 s).
NinaPro's unlabelled rest between repetitions (``restimulus`` 0) is not a
class, as in most NinaPro E1 studies; uci-semg has no rest.
"""

from __future__ import annotations

from emgcore.gesture.data.registry import (
    DATASETS,
    LAYOUTS,
    NINAPRO_DB1_E1_CLASSES,
    REPRESENTATIONS,
    GestureDatasetSpec,
    get_spec,
)
from emgcore.gesture.data.splits import (
    ADAPT_AUGMENT,
    GainAugment,
    check_disjoint,
    split_adapt_test,
    subject_trials,
    subsample,
)
from emgcore.gesture.data.trials import (
    GestureTrial,
    list_subjects,
    load_trials,
    read_gesture_files,
    read_labelled_csv,
    subject_files,
    trials_from_files,
)
from emgcore.gesture.data.windows import (
    LOGENV_SMOOTH,
    ChannelScaler,
    Windows,
    cut_windows,
    grid_images,
    log_envelope,
    represent,
    trial_windows,
)

__all__ = [
    "ADAPT_AUGMENT",
    "ChannelScaler",
    "check_disjoint",
    "cut_windows",
    "DATASETS",
    "GainAugment",
    "GestureDatasetSpec",
    "GestureTrial",
    "get_spec",
    "grid_images",
    "LAYOUTS",
    "list_subjects",
    "load_trials",
    "log_envelope",
    "LOGENV_SMOOTH",
    "NINAPRO_DB1_E1_CLASSES",
    "read_gesture_files",
    "read_labelled_csv",
    "represent",
    "REPRESENTATIONS",
    "split_adapt_test",
    "subject_files",
    "subject_trials",
    "subsample",
    "trial_windows",
    "trials_from_files",
    "Windows",
]
