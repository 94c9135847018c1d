"""Windows, their image representation and the per-row scaler.

Representation (documented choice, Islam et al. 2023 adapted to sparse
electrodes): the datasets here have 2-10 electrodes, not an HD-sEMG grid, so a
*sparse multi-channel window* becomes one grey-scale image: rows are
electrodes, columns are consecutive samples (200 ms at the native rate: 40
columns for Myo at 200 Hz, 20 for NinaPro DB1 at 100 Hz, 100 for UCI sEMG at
500 Hz). For the raw-signal datasets (Myo, UCI sEMG) the rectified signal is
stacked under the raw rows (``"raw+rectified"``: 16x40 for Myo, 4x100 for UCI
sEMG); NinaPro DB1 is already an RMS envelope and stays ``"raw"`` (10x20).
Each row is standardised with a mean and standard deviation estimated on
*training* windows only and stored in the checkpoint (:class:`ChannelScaler`).
No further filtering: the Myo and Otto Bock devices already band-pass, and a
200 Hz stream has no room for a useful band-pass.

For HD-sEMG grids the paper's *instantaneous* image is kept:
:func:`grid_images` turns every sample of a ``rows*cols``-channel recording into
a ``(1, rows, cols)`` frame (e.g. CapgMyo 8x16).

Windows are cut inside one trial, never across two (:func:`trial_windows`).
Separate from :mod:`~emgcore.gesture.data.trials`: this module turns trials
into model inputs and knows nothing of files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore.errors import InvalidRecordingError
from emgcore.gesture.data.registry import REPRESENTATIONS
from emgcore.gesture.data.trials import GestureTrial
from emgcore.preprocess.windows import make_windows


# -- windows and images ----------------------------------------------------------
def trial_windows(
    data: NDArray[np.floating], window: int, step: int
) -> NDArray[np.float32]:
    """Cut one trial into windows that stay inside it.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
    window, step : int
        Window length and step in samples.

    Returns
    -------
    ndarray of float32, shape (n_windows, n_chans, window)
        ``n_windows = (n_times - window) // step + 1`` (0 if the trial is
        shorter than one window).
    """
    # the preprocessor's windowing, in samples (a rate of 1 Hz)
    windows, _ = make_windows(
        np.asarray(data, dtype=np.float32), 1.0, window, step, copy=True
    )
    return windows


@dataclass
class Windows:
    """Windows with their labels and the trial each came from.

    Attributes
    ----------
    X : ndarray of float32, shape (n, n_chans, window)
    y : ndarray of int64, shape (n,)
    trial : ndarray of int64, shape (n,)
        Index into the trial list the windows were cut from.
    """

    X: NDArray[np.float32]
    y: NDArray[np.int64]
    trial: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.y.shape[0])


def cut_windows(
    trials: Sequence[GestureTrial],
    *,
    window: int,
    step: int,
    part: tuple[float, float] = (0.0, 1.0),
    n_chans: int | None = None,
) -> Windows:
    """Windows of many trials, each window inside one trial.

    Parameters
    ----------
    trials : sequence of GestureTrial
    window, step : int
        Samples.
    part : (float, float)
        Fractions of each trial to use, e.g. ``(0, 0.75)`` for the first three
        quarters; windows never cross the cut, so ``(0, .75)`` and ``(.75, 1)``
        share no sample.
    n_chans : int, optional
        Expected number of channels (checked).

    Returns
    -------
    Windows
    """
    xs, ys, ts = [], [], []
    for i, tr in enumerate(trials):
        if n_chans is not None and tr.data.shape[0] != n_chans:
            raise InvalidRecordingError(
                f"Trial {tr.source} has {tr.data.shape[0]} channels; "
                f"{n_chans} expected."
            )
        n = tr.n_times
        a, b = int(round(part[0] * n)), int(round(part[1] * n))
        w = trial_windows(tr.data[:, a:b], window, step)
        xs.append(w)
        ys.append(np.full(len(w), tr.label, dtype=np.int64))
        ts.append(np.full(len(w), i, dtype=np.int64))
    if not xs:
        c = n_chans or 1
        return Windows(
            np.zeros((0, c, window), np.float32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
        )
    return Windows(np.concatenate(xs), np.concatenate(ys), np.concatenate(ts))


#: Samples in the moving mean of |x| behind ``"logenv"`` rows (25 ms at 200 Hz).
LOGENV_SMOOTH = 5


def log_envelope(X: NDArray[np.floating]) -> NDArray[np.float32]:
    """``"logenv"`` rows: the log of a short moving mean of |x|, per electrode.

    The Hudgins + LDA peer works on log amplitudes; on a log scale an
    electrode's gain (skin contact, placement) becomes an additive offset, which
    the per-person standardisation then removes. The floor added before the
    log is 1 % of the row's mean envelope in that window, so a gain scales it
    too and silent stretches stay finite.

    Parameters
    ----------
    X : ndarray, shape (n, n_chans, n_times)

    Returns
    -------
    ndarray of float32, same shape
    """
    from scipy.ndimage import uniform_filter1d

    env = uniform_filter1d(np.abs(X).astype(np.float32), LOGENV_SMOOTH, axis=-1)
    floor = 1e-2 * env.mean(axis=-1, keepdims=True) + 1e-30
    return np.log(env + floor).astype(np.float32)


def represent(X: NDArray[np.floating], representation: str) -> NDArray[np.floating]:
    """Windows (n, n_chans, n_times) as image rows (n, rows, n_times).

    Raises
    ------
    InvalidRecordingError
        For an unknown representation.
    """
    if representation == "raw":
        return X
    if representation == "raw+rectified":
        return np.concatenate([X, np.abs(X)], axis=1)
    if representation == "logenv":
        return log_envelope(X)
    raise InvalidRecordingError(
        f"Invalid value for the 'representation' parameter. Allowed values are "
        f"{', '.join(REPRESENTATIONS)}, but got {representation!r} instead."
    )


@dataclass(frozen=True)
class ChannelScaler:
    """Per-row standardisation of window images, fitted on training windows only.

    Attributes
    ----------
    mean, std : tuple of float
        One value per image row (see :data:`REPRESENTATIONS`), in the data's
        units.
    representation : str
        How windows become image rows before scaling.
    per_subject : bool
        The model was trained with every subject standardised by their own
        statistics (source pretraining). ``mean``/``std`` are then the pooled
        source statistics, kept for reference; a new person's windows are
        scaled with their own statistics (:meth:`for_person`).
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]
    representation: str = "raw"
    per_subject: bool = False

    @classmethod
    def fit(
        cls,
        X: NDArray[np.floating],
        representation: str = "raw",
        *,
        per_subject: bool = False,
    ) -> ChannelScaler:
        """Estimate from windows of shape (n, n_chans, n_times)."""
        if X.ndim != 3 or X.shape[0] == 0:
            raise InvalidRecordingError(
                f"Cannot fit a channel scaler on windows of shape {X.shape}."
            )
        R = represent(X, representation)
        mean = R.mean(axis=(0, 2), dtype=np.float64)
        std = R.std(axis=(0, 2), dtype=np.float64)
        std = np.where(std > 1e-8, std, 1.0)
        return cls(
            tuple(float(m) for m in mean),
            tuple(float(s) for s in std),
            representation,
            per_subject,
        )

    @property
    def n_chans(self) -> int:
        """Electrodes (input channels) the scaler expects."""
        return len(self.mean) // REPRESENTATIONS[self.representation]

    def for_person(self, X: NDArray[np.floating]) -> ChannelScaler:
        """The scaler to use on one person's windows ``X``.

        Itself, unless the model was trained per subject: then a scaler fitted
        on ``X`` (labels are not needed), as every source subject was.
        """
        if not self.per_subject:
            return self
        return ChannelScaler.fit(X, self.representation)

    def transform(self, X: NDArray[np.floating]) -> NDArray[np.float32]:
        """Images of shape (n, 1, rows, n_times), float32."""
        if X.shape[1] != self.n_chans:
            raise InvalidRecordingError(
                f"Windows have {X.shape[1]} channels; the scaler was fitted on "
                f"{self.n_chans}."
            )
        R = represent(X, self.representation)
        m = np.asarray(self.mean, dtype=np.float32)[None, :, None]
        s = np.asarray(self.std, dtype=np.float32)[None, :, None]
        return ((R - m) / s).astype(np.float32)[:, None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": list(self.mean),
            "std": list(self.std),
            "representation": self.representation,
            "per_subject": self.per_subject,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChannelScaler:
        # Checkpoints from before representations and per-subject scaling
        # were raw, pooled.
        return cls(
            tuple(map(float, data["mean"])),
            tuple(map(float, data["std"])),
            str(data.get("representation", "raw")),
            bool(data.get("per_subject", False)),
        )


def grid_images(
    data: NDArray[np.floating],
    grid_shape: tuple[int, int],
    *,
    order: str = "row",
) -> NDArray[np.float32]:
    """Instantaneous HD-sEMG images: one ``(1, rows, cols)`` frame per sample.

    The paper's representation for electrode grids (e.g. CapgMyo 8x16): the
    ``rows*cols`` channels at one time instant are laid out as the grid.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        ``n_chans == rows * cols``.
    grid_shape : (int, int)
        ``(rows, cols)``.
    order : {"row", "column"}
        Channel numbering: ``"row"`` = channel ``r*cols + c`` sits at (r, c);
        ``"column"`` = channel ``c*rows + r`` sits at (r, c).

    Returns
    -------
    ndarray of float32, shape (n_times, 1, rows, cols)
    """
    data = np.asarray(data, dtype=np.float32)
    rows, cols = (int(v) for v in grid_shape)
    if data.ndim != 2 or data.shape[0] != rows * cols:
        raise InvalidRecordingError(
            f"A {rows}x{cols} grid needs {rows * cols} channels; got data of "
            f"shape {data.shape}."
        )
    frames = data.T  # (n_times, n_chans)
    if order == "row":
        img = frames.reshape(-1, rows, cols)
    elif order == "column":
        img = frames.reshape(-1, cols, rows).transpose(0, 2, 1)
    else:
        raise InvalidRecordingError(
            f"Invalid value for the 'order' parameter. Allowed values are 'row', "
            f"'column', but got {order!r} instead."
        )
    return np.ascontiguousarray(img[:, None], dtype=np.float32)
