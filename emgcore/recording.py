"""The one in-memory form every reader produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore._validation import MAX_CHANNELS, MAX_TOTAL_SAMPLES, _check_sfreq
from emgcore.errors import InvalidRecordingError


@dataclass(frozen=True, eq=False)
class Recording:
    """A multi-channel EMG recording in physical units.

    Parameters
    ----------
    data : ndarray of float32, shape (n_chans, n_times)
        Samples in physical units (``units`` gives them per channel).
    sfreq : float
        Sampling rate in Hz.
    ch_names : tuple of str
        One name per channel.
    units : tuple of str
        Physical unit per channel (``"mV"``, ``"uV"``, ``"V"``, ``"counts"``, ...).
    source : dict
        Where it came from: ``format``, ``path`` and any reader metadata
        (header comments, subject, labels). JSON-serialisable values only.

    Raises
    ------
    InvalidRecordingError
        If the array is empty, not 2-D, holds NaN/inf, or a size or rate limit
        is broken.
    """

    data: NDArray[np.float32]
    sfreq: float
    ch_names: tuple[str, ...]
    units: tuple[str, ...]
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = self.source.get("path", "recording")
        data = np.asarray(self.data)
        if data.ndim != 2:
            raise InvalidRecordingError(
                f"{name}: expected samples shaped (n_chans, n_times), got {data.ndim} "
                "dimension(s)."
            )
        n_chans, n_times = data.shape
        if n_chans == 0 or n_times == 0:
            raise InvalidRecordingError(f"{name}: the recording holds no samples.")
        if n_chans > MAX_CHANNELS:
            raise InvalidRecordingError(
                f"{name}: {n_chans} channels is more than the {MAX_CHANNELS} supported "
                "(is the file transposed or corrupt?)."
            )
        if data.size > MAX_TOTAL_SAMPLES:
            raise InvalidRecordingError(
                f"{name}: {data.size} samples is more than the {MAX_TOTAL_SAMPLES} "
                "this application accepts in one recording."
            )
        if data.dtype != np.float32:
            data = data.astype(np.float32)
        if not np.isfinite(data).all():
            bad = int(np.size(data) - np.count_nonzero(np.isfinite(data)))
            raise InvalidRecordingError(
                f"{name}: {bad} sample(s) are NaN or infinite; the recording is corrupt."
            )
        if len(self.ch_names) != n_chans or len(self.units) != n_chans:
            raise InvalidRecordingError(
                f"{name}: {n_chans} channels but {len(self.ch_names)} names and "
                f"{len(self.units)} units."
            )
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "sfreq", _check_sfreq(self.sfreq, what=str(name)))
        object.__setattr__(self, "ch_names", tuple(str(c) for c in self.ch_names))
        object.__setattr__(self, "units", tuple(str(u) for u in self.units))

    @property
    def n_chans(self) -> int:
        return int(self.data.shape[0])

    @property
    def n_times(self) -> int:
        return int(self.data.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_times / self.sfreq

    def check_min_duration(self, min_duration_s: float) -> Recording:
        """Raise if the recording is shorter than ``min_duration_s`` seconds."""
        if self.duration_s < min_duration_s:
            name = self.source.get("path", "recording")
            raise InvalidRecordingError(
                f"{name}: {self.n_times} samples ({self.duration_s:.3f} s at "
                f"{self.sfreq:g} Hz) is shorter than one {min_duration_s:g} s analysis "
                "window."
            )
        return self
