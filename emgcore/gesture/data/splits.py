"""Adaptation/test splits, subsampling and gain augmentation.

How a subject's trials are divided (the first ``k`` per gesture adapt, the
rest test, never sharing a trial: :func:`check_disjoint`) and how the
adaptation windows are thinned or augmented (:class:`GainAugment`). Kept
apart from windowing because these are protocol choices, not representation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore.errors import InvalidRecordingError
from emgcore.gesture.data.trials import GestureTrial
from emgcore.gesture.data.windows import Windows


# -- splits ----------------------------------------------------------------------
def split_adapt_test(
    trials: Sequence[GestureTrial], *, k: int, k_max: int | None = None
) -> tuple[list[GestureTrial], list[GestureTrial]]:
    """The first ``k`` trials per gesture for adaptation, the rest for testing.

    Parameters
    ----------
    trials : sequence of GestureTrial
        One subject's trials.
    k : int
        Adaptation trials per class (``order < k``).
    k_max : int, optional
        Test trials are ``order >= k_max`` (default ``k``). Using the largest k
        of an experiment keeps the test set the same for every k.

    Returns
    -------
    adapt, test : list of GestureTrial
        Disjoint.

    Raises
    ------
    InvalidRecordingError
        If ``k < 1`` or ``k_max < k``.
    """
    k_max = k if k_max is None else k_max
    if k < 1 or k_max < k:
        raise InvalidRecordingError(
            f"Need 1 <= k <= k_max adaptation trials per gesture, got k={k}, "
            f"k_max={k_max}."
        )
    adapt = [t for t in trials if t.order < k]
    test = [t for t in trials if t.order >= k_max]
    return adapt, test


def check_disjoint(a: Sequence[GestureTrial], b: Sequence[GestureTrial]) -> None:
    """Raise if two trial lists share a trial (same subject, source and label).

    Raises
    ------
    InvalidRecordingError
    """
    ka = {(t.subject, t.source, t.label) for t in a}
    shared = ka & {(t.subject, t.source, t.label) for t in b}
    if shared:
        raise InvalidRecordingError(
            f"{len(shared)} trial(s) are both adaptation and test trials, e.g. "
            f"{sorted(shared)[0]}."
        )


def subject_trials(
    trials: Sequence[GestureTrial], subjects: Sequence[str] | str
) -> list[GestureTrial]:
    """The trials of one subject or of a set of subjects."""
    wanted = {subjects} if isinstance(subjects, str) else set(subjects)
    return [t for t in trials if t.subject in wanted]


def subsample(win: Windows, max_n: int | None, *, seed: int) -> Windows:
    """At most ``max_n`` windows chosen at random without replacement (seeded)."""
    if max_n is None or len(win) <= max_n:
        return win
    idx = np.sort(np.random.default_rng(seed).choice(len(win), max_n, replace=False))
    return Windows(win.X[idx], win.y[idx], win.trial[idx])


@dataclass(frozen=True)
class GainAugment:
    """Random electrode gains on the adaptation windows (training part only).

    One or a few calibration trials show a person's muscles at one skin
    contact and one effort level; on another day every electrode picks up a
    somewhat different amplitude. Each copy multiplies every window's
    electrodes by ``exp(N(0, channel_sd))`` times one ``exp(N(0, global_sd))``
    for the whole window, so fine-tuning cannot lean on exact amplitude
    ratios. The raw signal is scaled before the rectified rows are made, so
    both rows of an electrode get the same gain.

    Attributes
    ----------
    copies : int
        Augmented copies added to the original windows (0 = none).
    channel_sd, global_sd : float
        Standard deviations of the log gains.
    """

    copies: int = 4
    channel_sd: float = 0.25
    global_sd: float = 0.2

    def __post_init__(self) -> None:
        if self.copies < 0 or self.channel_sd < 0 or self.global_sd < 0:
            raise ValueError(
                "Invalid gain augmentation: copies and standard deviations must "
                f"be >= 0, got {self}."
            )

    def apply(
        self, win: Windows, *, seed: int
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """The original windows followed by ``copies`` gained copies (seeded)."""
        rng = np.random.default_rng(seed)
        n, c = len(win), win.X.shape[1]
        Xs, ys = [win.X], [win.y]
        for _ in range(self.copies):
            log_gain = rng.normal(0, self.channel_sd, (n, c, 1)) + rng.normal(
                0, self.global_sd, (n, 1, 1)
            )
            Xs.append((win.X * np.exp(log_gain)).astype(np.float32))
            ys.append(win.y)
        return np.concatenate(Xs), np.concatenate(ys)

    def to_dict(self) -> dict[str, Any]:
        return {
            "copies": self.copies,
            "channel_sd": self.channel_sd,
            "global_sd": self.global_sd,
        }


#: Adaptation default (docs/experiments/2026-12-01-results-notebook.md,
#: "Gain augmentation").
ADAPT_AUGMENT = GainAugment()
