"""The CNN-TCN disease model: pretraining sources, fine-tuning and protocols.

This module reproduces the system of the CNN-TCN paper
(``../shared/papers/cnn-tcn-tl-emg-disease-classification.md``): a CNN-TCN
encoder pretrained on gesture sEMG, then fine-tuned with gradual unfreezing to
classify healthy / myopathy / neuropathy needle EMG. It runs three protocols:

1. ``paper``: the paper's random 80/20 window split of the three emgdb
   recordings, early stopping on the same 20 % it reports (leaky twice: the
   overlapping windows of one recording fall on both sides, and the test set
   picks the epoch);
2. ``blocked``: contiguous, gapped time blocks of each emgdb recording for
   train / validation / test (no raw sample in two sets; still one person per
   class, so it measures recording identity as much as disease);
3. ``n2001_loso``: leave-one-subject-out on EMGLAB N2001 at recording level,
   the protocol that tells disease from recording identity.

Every run writes one JSON file, so an interrupted experiment resumes where it
stopped (:func:`run_protocol` skips runs whose file exists).

The package is split by stage; every name is re-exported here, so
``from emgcore.disease import ...`` works as before: :mod:`.pretraining`
(constants, budget, preprocessing, encoder), :mod:`.finetune` (one split)
and :mod:`.protocols`.
"""

from __future__ import annotations

from emgcore.disease.finetune import (
    _cap_per_recording,
    classic_score,
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
from emgcore.disease.protocols import (
    load_protocol_data,
    protocol_splits,
    run_protocol,
)

__all__ = [
    "Budget",
    "CLASSIC",
    "METHODS",
    "MODEL_N_CHANS",
    "MOVEMENT_OUTPUTS",
    "PRETRAIN_SOURCES",
    "PROTOCOLS",
    "classic_score",
    "disease_preprocess",
    "finetune_config",
    "is_transfer",
    "load_protocol_data",
    "logits_of",
    "new_model",
    "pretrain",
    "pretrain_windows",
    "protocol_splits",
    "run_protocol",
    "train_and_score",
    "_cap_per_recording",
]
