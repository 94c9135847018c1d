"""The answer types of the signal-quality gate (:mod:`emgcore.gate`).

Kept apart so the gate module holds the policy (thresholds and rules) and
these stay plain data: what a model needs, one reason, one verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore._validation import MAX_SFREQ_HZ


@dataclass(frozen=True)
class ModelInput:
    """What a model needs from a recording.

    Attributes
    ----------
    n_chans : int
        Channels the model reads. With ``single_channel`` the recording may
        have any number and one is picked (the shipped model replicates it).
    single_channel : bool
        The model analyses one channel of the recording.
    min_sfreq_hz, max_sfreq_hz : float
        Accepted sampling rates: below the model's own rate the recording lacks
        the frequencies it learnt from.
    window_s : float
        Length of one model window in seconds.
    physical_units : bool
        The model reads amplitude in physical units (its ``input_units``), so
        a channel in raw counts or arbitrary units cannot be analysed.
    site_calibrated : bool
        False for a site-standardised model not yet calibrated to the
        laboratory (:mod:`emgcore.site_calibration`): it cannot analyse
        anything until it is.
    """

    n_chans: int
    single_channel: bool
    min_sfreq_hz: float
    max_sfreq_hz: float = MAX_SFREQ_HZ
    window_s: float = 0.25
    physical_units: bool = False
    site_calibrated: bool = True

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> ModelInput:
        """The requirements of a checkpoint (see emgcore.checkpoint)."""
        pre = metadata.get("preprocess") or {}
        kwargs = metadata.get("model_kwargs") or {}
        n_chans = int(metadata["n_chans"])
        return cls(
            n_chans=n_chans,
            single_channel=pre.get("replicate_to_n_chans") is not None or n_chans == 1,
            min_sfreq_hz=float(metadata["sfreq"]),
            max_sfreq_hz=float(metadata.get("max_sfreq", MAX_SFREQ_HZ)),
            window_s=float(pre.get("window_s", 1.0)),
            physical_units=bool(kwargs.get("input_units")),
            site_calibrated=not kwargs.get("site_standardised")
            or bool(metadata.get("site_calibration")),
        )


@dataclass(frozen=True)
class Reason:
    """One thing that is wrong: ``code``, plain ``message``, ``value`` vs ``limit``."""

    code: str
    message: str
    value: float | None = None
    limit: float | None = None
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "value": self.value,
            "limit": self.limit,
            "unit": self.unit,
        }


@dataclass(frozen=True)
class Verdict:
    """The gate's answer for one recording (see the module docstring)."""

    analysable: bool
    reasons: tuple[Reason, ...]
    duration_s: float
    bad_intervals_s: tuple[tuple[float, float], ...]
    excluded_s: float
    usable_s: float
    excluded_by: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    measured: dict[str, Any] = field(default_factory=dict)

    @property
    def excluded_fraction(self) -> float:
        return self.excluded_s / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def good_intervals_s(self) -> tuple[tuple[float, float], ...]:
        out, t = [], 0.0
        for lo, hi in self.bad_intervals_s:
            if lo > t:
                out.append((t, lo))
            t = hi
        if t < self.duration_s:
            out.append((t, self.duration_s))
        return tuple(out)

    @property
    def message(self) -> str:
        """One plain paragraph for people: the outcome and what to do."""
        if not self.analysable:
            return "This recording cannot be analysed, so no diagnosis is given. " + (
                " ".join(r.message for r in self.reasons)
            )
        return self.exclusion_note or ""

    @property
    def exclusion_note(self) -> str | None:
        """What was left out of an analysable recording, or None."""
        if self.excluded_s <= 0:
            return None
        causes = ", ".join(
            f"{CAUSE_WORDS[c]} {s:.1f} s" for c, s in self.excluded_by.items()
        )
        return (
            f"{100 * self.excluded_fraction:.0f} % of the recording "
            f"({self.excluded_s:.1f} of {self.duration_s:.1f} s) was left out of "
            f"the analysis ({causes}); the result comes from the remaining "
            f"{self.duration_s - self.excluded_s:.1f} s."
        )

    def good_sample_mask(self, n_times: int, sfreq: float) -> NDArray[np.bool_]:
        """True for samples (at ``sfreq``) outside every bad interval."""
        mask = np.ones(n_times, dtype=bool)
        for lo, hi in self.bad_intervals_s:
            mask[int(math.floor(lo * sfreq)) : int(math.ceil(hi * sfreq))] = False
        return mask

    def keep_windows(self, starts_s: Any, stops_s: Any) -> NDArray[np.bool_]:
        """True for windows ``[start, stop)`` that overlap no bad interval."""
        starts = np.asarray(starts_s, dtype=np.float64)
        stops = np.asarray(stops_s, dtype=np.float64)
        keep = np.ones(starts.shape, dtype=bool)
        for lo, hi in self.bad_intervals_s:
            keep &= (stops <= lo) | (starts >= hi)
        return keep

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysable": self.analysable,
            "message": self.message,
            "reasons": [r.to_dict() for r in self.reasons],
            "duration_s": round(self.duration_s, 4),
            "usable_s": round(self.usable_s, 4),
            "excluded_s": round(self.excluded_s, 4),
            "excluded_fraction": round(self.excluded_fraction, 4),
            "excluded_by_s": {k: round(v, 4) for k, v in self.excluded_by.items()},
            "bad_intervals_s": [
                [round(a, 4), round(b, 4)] for a, b in self.bad_intervals_s
            ],
            "warnings": list(self.warnings),
            "measured": self.measured,
        }


CAUSE_WORDS = {
    "flat": "flat",
    "clipped": "clipped",
    "near_flat": "nearly flat",
    "amplitude_high": "amplitude too high",
}
