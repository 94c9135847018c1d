"""Pretraining, adaptation and evaluation of the gesture All-ConvNet.

Transfer learning as in Islam et al. (2023, arXiv:2305.08014): a source model
is pretrained on other subjects with Adam and early stopping; a new subject's
first ``k`` trials per gesture then fine-tune it with the first three conv
layers frozen (``"tl_frozen"``, the paper's method). Compared with fine-tuning
every layer (``"tl_full"``), training the same network from scratch on the
same ``k`` trials (``"scratch"``), the source model as is (``"no_adapt"``) and
Hudgins features + LDA (:func:`lda_accuracy`).

Validation for early stopping during adaptation comes from the adaptation
trials only: the last quarter of each adaptation trial (windows never cross the
cut, so training and validation windows share no sample). Test trials are never
seen before testing. Pretraining validates on the last fifth of each source
trial the same way, or on source subjects kept out of training
(``pretrain(..., PretrainOptions(val_subjects=n))``).

The package is split by role; every name is re-exported here, so
``from emgcore.gesture.core import ...`` works as before: :mod:`.model`
(network, defaults), :mod:`.training` (:func:`pretrain`, :func:`adapt`) and
:mod:`.evaluation` (accuracy, person scaler, LDA peer).
"""

from __future__ import annotations

from emgcore.gesture.core.evaluation import (
    accuracy_report,
    evaluate,
    lda_accuracy,
    person_scaler,
    timed,
)
from emgcore.gesture.core.model import (
    ADAPT_CONFIG,
    ADAPT_METHODS,
    ADAPT_OPTIONS,
    DEFAULT_WIDTHS,
    PRETRAIN_CONFIG,
    PRETRAIN_OPTIONS,
    SCRATCH_CONFIG,
    TRAIN_PART,
    AdaptOptions,
    EpochCallback,
    PretrainOptions,
    build_gesture_model,
    predict_proba,
)
from emgcore.gesture.core.training import (
    _scaled_per_subject,
    adapt,
    pretrain,
)

__all__ = [
    "_scaled_per_subject",
    "accuracy_report",
    "adapt",
    "ADAPT_CONFIG",
    "ADAPT_METHODS",
    "ADAPT_OPTIONS",
    "AdaptOptions",
    "build_gesture_model",
    "DEFAULT_WIDTHS",
    "EpochCallback",
    "evaluate",
    "lda_accuracy",
    "person_scaler",
    "predict_proba",
    "pretrain",
    "PRETRAIN_CONFIG",
    "PRETRAIN_OPTIONS",
    "PretrainOptions",
    "SCRATCH_CONFIG",
    "timed",
    "TRAIN_PART",
]
