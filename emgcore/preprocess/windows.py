"""Z-scoring and cutting a signal into overlapping windows.

The last steps before a model: :func:`zscore` per channel (flat channels
left centred) and :func:`make_windows` (strided views, copied on request).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from emgcore.errors import InvalidRecordingError
from emgcore.preprocess._common import _as_float, _check_2d

#: Windows with a smaller standard deviation than this are left centred, not
#: scaled, by z-scoring (a flat window would otherwise become inf/NaN).
_STD_FLOOR = 1e-12


def zscore(data: NDArray[np.floating], *, axis: int = -1) -> NDArray[np.floating]:
    """Subtract the mean and divide by the standard deviation along ``axis``.

    Parameters
    ----------
    data : ndarray, shape (..., n_times)
        E.g. a signal (n_chans, n_times) or windows (n_windows, n_chans, n_times).
    axis : int
        Axis holding time.

    Returns
    -------
    ndarray, same shape
        Normalised copy. Slices with a standard deviation below 1e-12 (flat)
        are only centred.
    """
    data = _as_float(data)
    out = np.empty(data.shape, dtype=data.dtype)
    _zscore_into(data, out, axis=axis)
    return out


def _zscore_into(
    data: NDArray[np.floating], out: NDArray[np.floating], *, axis: int
) -> None:
    """:func:`zscore` of ``data`` written into ``out`` (same shape)."""
    mean = data.mean(axis=axis, keepdims=True, dtype=np.float64)
    std = data.std(axis=axis, keepdims=True, dtype=np.float64)
    std = np.where(std < _STD_FLOOR, 1.0, std)
    np.subtract(data, mean.astype(data.dtype), out=out)
    out /= std.astype(data.dtype)


def _window_lengths(sfreq: float, window_s: float, step_s: float) -> tuple[int, int]:
    n_win = int(round(window_s * sfreq))
    step = int(round(step_s * sfreq))
    if n_win < 1 or step < 1:
        raise InvalidRecordingError(
            f"Windows of {window_s:g} s with steps of {step_s:g} s are shorter than "
            f"one sample at {sfreq:g} Hz."
        )
    return n_win, step


def make_windows(
    data: NDArray[np.floating],
    sfreq: float,
    window_s: float,
    step_s: float,
    *,
    copy: bool = False,
) -> tuple[NDArray[np.floating], NDArray[np.intp]]:
    """Cut a signal into (overlapping) windows without a Python loop.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        Signal.
    sfreq : float
        Sampling rate in Hz.
    window_s, step_s : float
        Window length and step between starts in seconds, rounded to whole
        samples (``round(window_s * sfreq)``).
    copy : bool
        Return a contiguous, writable copy instead of a read-only view.

    Returns
    -------
    windows : ndarray, shape (n_windows, n_chans, n_win_samples)
        ``windows[i] == data[:, start_samples[i]:start_samples[i] + n_win_samples]``.
        ``n_windows = (n_times - n_win_samples) // step + 1`` (0 if the signal
        is shorter than a window). By default a read-only strided view of
        ``data`` (no memory used).
    start_samples : ndarray of int, shape (n_windows,)
        First sample of each window.
    """
    data = np.asarray(data)
    _check_2d(data)
    n_win, step = _window_lengths(float(sfreq), float(window_s), float(step_s))
    n_chans, n_times = data.shape
    if n_times < n_win:
        empty = np.zeros((0, n_chans, n_win), dtype=data.dtype)
        return empty, np.zeros(0, dtype=np.intp)
    view = sliding_window_view(data, n_win, axis=-1)[:, ::step]  # (n_chans, n_w, n_win)
    windows = view.transpose(1, 0, 2)
    starts = np.arange(windows.shape[0], dtype=np.intp) * step
    if copy:
        windows = np.ascontiguousarray(windows)
    return windows, starts
