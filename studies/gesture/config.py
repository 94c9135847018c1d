"""The options of the gesture protocols, one frozen dataclass per protocol.

Each protocol function takes its data (trials, spec, subjects, output folder)
as arguments and every other option in one of these, so a run is described
by one value that can be replaced field by field (``dataclasses.replace``).
:class:`AdaptSettings` holds what every protocol shares: how the adapted and
scratch models train.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emgcore.config import TrainConfig
from emgcore.gesture.core import (
    ADAPT_CONFIG,
    DEFAULT_WIDTHS,
    PRETRAIN_CONFIG,
    SCRATCH_CONFIG,
    AdaptOptions,
    adapt,
)
from emgcore.gesture.data import (
    ADAPT_AUGMENT,
    GainAugment,
    GestureDatasetSpec,
    GestureTrial,
)
from studies.gesture.summary import METHODS


@dataclass(frozen=True)
class AdaptSettings:
    """How the adapted (TL) and scratch models train.

    augment : training-window gain augmentation, None for none (see
        :func:`emgcore.gesture.core.adapt`).
    refit : retrain on the whole adaptation trials for the epoch count early
        stopping chose (see :func:`emgcore.gesture.core.adapt`).
    """

    seed: int = 0
    adapt_config: TrainConfig = ADAPT_CONFIG
    scratch_config: TrainConfig = SCRATCH_CONFIG
    augment: GainAugment | None = ADAPT_AUGMENT
    refit: bool = True

    def train_config(self, method: str) -> TrainConfig:
        """The schedule of one adaptation method: scratch trains longer."""
        return self.scratch_config if method == "scratch" else self.adapt_config

    def adapt(
        self,
        source: Any,
        trials: Sequence[GestureTrial],
        spec: GestureDatasetSpec,
        method: str,
        **options: Any,
    ) -> tuple[Any, Any, dict[str, Any]]:
        """:func:`emgcore.gesture.core.adapt` of one method with these settings.

        ``options`` are further :class:`~emgcore.gesture.core.AdaptOptions`
        fields (e.g. ``widths``).
        """
        adapt_options = AdaptOptions(
            method=method,
            config=self.train_config(method),
            augment=self.augment,
            refit=self.refit,
            **options,
        )
        return adapt(source, trials, spec, adapt_options, seed=self.seed)


@dataclass(frozen=True)
class InterSubjectConfig(AdaptSettings):
    """The options of :func:`studies.gesture.run_inter_subject`.

    n_folds : source models to pretrain (targets split round-robin).
    ks : adaptation trials per gesture, one curve point each.
    methods : a subset of :data:`studies.gesture.METHODS`.
    widths : the All-ConvNet's two widths.
    pretrain_config, max_source_windows : the source models' pretraining.
    source_checkpoint : use this pretrained checkpoint as the single source
        model; the targets must be among its ``train.heldout_subjects``.
    test_from : first trial rank (0-based, per gesture) tested; >= max(ks)
        (default max(ks)). Fix it when runs with more k are added later.
    per_subject : pretrain with every source subject scaled by their own
        statistics (see :func:`emgcore.gesture.core.pretrain`).
    only_fold : run the units of this fold only (0-based), so that several
        processes can share one run's folds.
    source_val_subjects : source subjects kept aside for the pretraining's
        early stopping (``val_subjects`` of :func:`emgcore.gesture.core.pretrain`);
        0 validates on the end of every source trial.
    """

    n_folds: int = 1
    ks: Sequence[int] = (1,)
    methods: Sequence[str] = METHODS
    widths: Sequence[int] = DEFAULT_WIDTHS
    pretrain_config: TrainConfig = PRETRAIN_CONFIG
    max_source_windows: int | None = 20000
    source_checkpoint: str | Path | None = None
    test_from: int | None = None
    per_subject: bool = True
    only_fold: int | None = None
    source_val_subjects: int = 0


@dataclass(frozen=True)
class InterSessionConfig(AdaptSettings):
    """The options of :func:`studies.gesture.run_inter_session`.

    k : adaptation trials per gesture of the second session.
    widths, pretrain_config, max_source_windows : the first session's model.
    """

    k: int = 1
    widths: Sequence[int] = DEFAULT_WIDTHS
    pretrain_config: TrainConfig = PRETRAIN_CONFIG
    max_source_windows: int | None = 6000


@dataclass(frozen=True)
class PercentConfig(AdaptSettings):
    """The options of :func:`studies.gesture.run_percent`.

    percents : shares of the target's training pool that adapt (paper's ratios).
    methods : adaptation methods compared.
    """

    percents: Sequence[int] = (20, 40, 60, 80, 100)
    methods: Sequence[str] = ("tl_frozen", "scratch")
