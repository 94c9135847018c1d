"""The CNN-TCN disease model: pretraining sources and fine-tuning.

This module reproduces the system of the CNN-TCN paper
(``../shared/papers/cnn-tcn-tl-emg-disease-classification.md``): a CNN-TCN
encoder pretrained on gesture sEMG, then fine-tuned with gradual unfreezing to
classify healthy / myopathy / neuropathy needle EMG. The paper's three
evaluation protocols (paper, blocked, N2001 leave-one-subject-out) are study
code: :mod:`studies.disease_paper`, run by ``python -m studies evaluate``.

The package is split by stage; every name is re-exported here:
:mod:`.pretraining` (constants, budget, preprocessing, encoder) and
:mod:`.finetune` (one split: fine-tuning, calibration).
"""

from __future__ import annotations

from emgcore.disease.finetune import (
    _cap_per_recording,
    finetune_config,
    is_transfer,
    logits_of,
    train_and_score,
)
from emgcore.disease.pretraining import (
    CLASSIC,
    METHODS,
    MODEL_N_CHANS,
    MOVEMENT_OUTPUTS,
    PRETRAIN_SOURCES,
    PROTOCOLS,
    Budget,
    disease_preprocess,
    new_model,
    pretrain,
    pretrain_windows,
)

# The public name of the window cap, for the study code (studies/ imports no
# private emgcore name); the app and emgcore keep the underscored one.
cap_per_recording = _cap_per_recording

__all__ = [
    "Budget",
    "cap_per_recording",
    "CLASSIC",
    "METHODS",
    "MODEL_N_CHANS",
    "MOVEMENT_OUTPUTS",
    "PRETRAIN_SOURCES",
    "PROTOCOLS",
    "disease_preprocess",
    "finetune_config",
    "is_transfer",
    "logits_of",
    "new_model",
    "pretrain",
    "pretrain_windows",
    "train_and_score",
    "_cap_per_recording",
]
