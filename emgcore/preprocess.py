"""EMG preprocessing as in the CNN-TCN paper, vectorised and chunked.

Pure functions take ``(data, sfreq, ...)`` with ``data`` shaped
``(n_chans, n_times)`` and return new arrays; the inputs are never changed.
:class:`EMGPreprocessor` chains them (resample -> band-pass + notch -> z-score ->
windows) over a whole :class:`~emgcore.recording.Recording`, filtering the
continuous signal once, in overlapping chunks so memory stays bounded.

References
----------
CNN-TCN transfer learning for EMG disease classification, section 3.2
(``../shared/papers/cnn-tcn-tl-emg-disease-classification.md``): resample to
1 kHz, 4th-order Butterworth band-pass, z-score, 1 s windows with 50 % overlap,
single-channel recordings replicated to 12 channels.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy.signal import (
    butter,
    firwin,
    iirnotch,
    resample_poly,
    sosfilt,
    sosfiltfilt,
    tf2sos,
)

from emgcore._spectral import LineNoise, chunked_welch, line_noise, line_noise_from_psd
from emgcore.config import PreprocessConfig
from emgcore.errors import InvalidRecordingError
from emgcore.recording import Recording

logger = logging.getLogger(__name__)

#: Default -3 dB width of each notch, in Hz (the same at every harmonic).
NOTCH_BANDWIDTH_HZ = 2.0
#: Longest input piece filtered at once by EMGPreprocessor, in seconds.
DEFAULT_CHUNK_S = 60.0
#: Chunk padding is where the filter's impulse response has decayed below this
#: fraction of its peak, so edge effects stay below it in the kept part.
_EDGE_TOL = 1e-7
#: Windows with a smaller standard deviation than this are left centred, not
#: scaled, by z-scoring (a flat window would otherwise become inf/NaN).
_STD_FLOOR = 1e-12
#: Output samples per block of the matrix-product resampler (see
#: _polyphase_resample); 32 was the fastest of 8-128 for 2 -> 1 kHz.
_RESAMPLE_BLOCK_OUT = 32
#: The block product does more multiply-adds than the filter has taps; beyond
#: this factor (both ``up`` and ``down`` large, e.g. 997/1000) resample_poly's
#: direct loop is used instead.
_RESAMPLE_MAX_EXTRA_WORK = 4.0

_T = TypeVar("_T")
_NO_PSD = (np.zeros(0), np.zeros((0, 0)))


def _as_float(data: NDArray) -> NDArray[np.floating]:
    """The array as a floating type (float32 stays float32, ints -> float64)."""
    data = np.asarray(data)
    if not np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float64)
    return data


def _check_2d(data: NDArray, what: str = "data") -> None:
    if data.ndim != 2:
        raise InvalidRecordingError(
            f"{what} must be shaped (n_chans, n_times), got shape {data.shape}."
        )


def _resample_factors(sfreq: float, target_sfreq: float) -> tuple[int, int]:
    """Integers ``(up, down)`` with ``sfreq * up / down`` ~= ``target_sfreq``.

    The smallest denominator giving a relative rate error below 1e-6 is used
    (exact for 23437.5 -> 1000 (16/375), 4000 -> 1000, 100 -> 1000, ...).
    """
    ratio = Fraction(target_sfreq / sfreq)
    for max_den in (1_000, 10_000, 100_000):
        frac = ratio.limit_denominator(max_den)
        if frac.numerator > 0 and abs(float(frac) / float(ratio) - 1) < 1e-6:
            break
    if frac.numerator == 0:
        raise InvalidRecordingError(
            f"Cannot resample from {sfreq:g} Hz to {target_sfreq:g} Hz: the ratio "
            "is too extreme."
        )
    return frac.numerator, frac.denominator


@dataclass(frozen=True)
class _PolyphasePlan:
    """Block matrices that apply resample_poly's filter as matrix products.

    Output block ``q`` (``out_len`` samples) of a signal cut into rows of
    ``in_len`` input samples is ``sum(X[q + o, lo:hi] @ W for o, lo, hi, W in
    terms)``, with ``X[k]`` the k-th input row (zero outside the signal).
    """

    in_len: int
    out_len: int
    terms: tuple[tuple[int, int, int, NDArray[np.floating]], ...]


@functools.lru_cache(maxsize=32)
def _polyphase_plan(up: int, down: int, dtype_str: str) -> _PolyphasePlan | None:
    """The block matrices for ``up/down`` (None when resample_poly is cheaper).

    The filter is exactly the one ``resample_poly(x, up, down)`` designs for an
    ``x`` of this dtype (Kaiser window, beta 5, ``2 * 10 * max(up, down) + 1``
    taps, cut-off at the lower of the two Nyquist frequencies, gain ``up``),
    and output sample ``m`` is ``sum_s h[m * down + half - s * up] * x[s]``,
    which is how resample_poly aligns its output with the input.
    """
    dtype = np.dtype(dtype_str)
    half = 10 * max(up, down)
    h = np.asarray(firwin(2 * half + 1, 1.0 / max(up, down), window=("kaiser", 5.0)))
    h = h.astype(dtype)  # resample_poly casts the taps to x's dtype, then scales
    h *= up
    # r repeats of the up/down pattern per block: at least ~32 outputs per
    # block (BLAS efficiency) and rows at least as long as the filter's
    # one-sided reach, so each output needs at most three input rows.
    r = max(1, -(-_RESAMPLE_BLOCK_OUT // up), -(-half // (up * down)))
    in_len, out_len = down * r, up * r
    reach = 2 * half / up  # input samples under the filter
    if in_len + reach > _RESAMPLE_MAX_EXTRA_WORK * reach:
        return None
    j = np.arange(out_len)[None, :]
    rows = np.arange(in_len)[:, None]
    n_rows_away = -(-(half // up + 1) // in_len) + 1
    terms = []
    for o in range(-n_rows_away, n_rows_away + 1):
        idx = j * down + half - (rows + o * in_len) * up
        valid = (idx >= 0) & (idx < h.size)
        used = np.flatnonzero(valid.any(axis=1))
        if used.size == 0:
            continue
        lo, hi = int(used[0]), int(used[-1]) + 1
        w = np.where(valid, h[np.clip(idx, 0, h.size - 1)], 0).astype(dtype)
        terms.append((o, lo, hi, np.ascontiguousarray(w[lo:hi])))
    return _PolyphasePlan(in_len, out_len, tuple(terms))


def _polyphase_resample(
    data: NDArray[np.floating], up: int, down: int
) -> NDArray[np.floating]:
    """``resample_poly(data, up, down, axis=-1)`` computed with matrix products.

    Same filter, alignment, zero padding at the ends and output length, so the
    result equals resample_poly's up to float rounding (the sums are added in
    another order; ~1e-7 relative in float32). Why: resample_poly's
    ``upfirdn`` loops over taps one sample at a time (about 40 ms of CPU for
    60 s x 12 channels at 2 -> 1 kHz, half of the whole pipeline), while the
    same sums as a few BLAS matrix products over rows of the signal take
    about 7 ms. Ratios where the products would need far more operations than
    the filter has taps (``_RESAMPLE_MAX_EXTRA_WORK``) and dtypes other than
    float32/float64 fall back to resample_poly.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        float32 or float64 signal.
    up, down : int
        Resampling factors (coprime).

    Returns
    -------
    ndarray, shape (n_chans, ceil(n_times * up / down))
        Same dtype as ``data``; a (non-contiguous) view of a work buffer.
    """
    plan = (
        _polyphase_plan(up, down, data.dtype.str)
        if data.dtype in (np.float32, np.float64)
        else None
    )
    if plan is None:
        return resample_poly(data, up, down, axis=-1)
    n_chans, n_in = data.shape
    n_out = -(-n_in * up // down)
    o_min = min(t[0] for t in plan.terms)
    o_max = max(t[0] for t in plan.terms)
    n_blocks = -(-n_out // plan.out_len)
    pad_rows = -o_min
    # Rows per channel: zero rows before (filter reach into the past) and after.
    n_rows = pad_rows + max(n_blocks + o_max, -(-n_in // plan.in_len))
    padded = np.zeros((n_chans, n_rows * plan.in_len), dtype=data.dtype)
    padded[:, pad_rows * plan.in_len : pad_rows * plan.in_len + n_in] = data
    rows = padded.reshape(n_chans * n_rows, plan.in_len)
    # Channels are stacked along the rows, so one product serves them all;
    # output row i is block (i mod n_rows) of channel (i // n_rows), and the
    # rows that mix two channels are never read.
    n_valid = n_chans * n_rows - (o_max - o_min)
    out = np.empty((n_chans * n_rows, plan.out_len), dtype=data.dtype)
    with _single_threaded_blas():  # a counter only, inside transform
        for k, (o, lo, hi, w) in enumerate(plan.terms):
            block = rows[o - o_min : o - o_min + n_valid, lo:hi]
            if k == 0:
                np.matmul(block, w, out=out[:n_valid])
            else:
                out[:n_valid] += block @ w
    out = out.reshape(n_chans, n_rows, plan.out_len)[:, :n_blocks]
    return out.reshape(n_chans, n_blocks * plan.out_len)[:, :n_out]


def resample(
    data: NDArray[np.floating], sfreq: float, target_sfreq: float
) -> NDArray[np.floating]:
    """Resample along time with a polyphase FIR filter.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        Signal in any unit.
    sfreq : float
        Its sampling rate in Hz.
    target_sfreq : float
        Wanted rate in Hz. The ratio is approximated by a fraction ``up/down``
        (relative error < 1e-6; exact for usual rates such as 23437.5, 4000,
        2000 or 100 -> 1000 Hz).

    Returns
    -------
    ndarray, shape (n_chans, ceil(n_times * up / down))
        Resampled signal, same dtype family as ``data``; sample 0 is at the
        same time as the input's sample 0. A copy when the rates are equal.

    Notes
    -----
    Gives the result of :func:`scipy.signal.resample_poly` (Kaiser-windowed
    anti-aliasing filter; the signal is zero beyond its ends) to float
    rounding, computed with matrix products for speed where that is cheaper.
    """
    data = _as_float(data)
    if float(sfreq) == float(target_sfreq):
        return data.copy()
    up, down = _resample_factors(float(sfreq), float(target_sfreq))
    flat = np.atleast_2d(data).reshape(-1, data.shape[-1])
    out = _polyphase_resample(flat, up, down)
    return np.ascontiguousarray(out).reshape(*data.shape[:-1], out.shape[-1])


def _bandpass_sos(
    sfreq: float, low_hz: float, high_hz: float | None, order: int
) -> NDArray[np.float64]:
    """Butterworth band-pass (or high-pass) sections (a copy of a cached design)."""
    return _bandpass_sos_cached(sfreq, low_hz, high_hz, order).copy()


# Filter designs are cached: butter + iirnotch + tf2sos took ~2.5 ms per
# transform, for the same few (rate, band) pairs every time. Callers get
# copies (scipy's sosfilt refuses read-only sections).
@functools.lru_cache(maxsize=64)
def _bandpass_sos_cached(
    sfreq: float, low_hz: float, high_hz: float | None, order: int
) -> NDArray[np.float64]:
    nyq = sfreq / 2.0
    if not 0 < low_hz < nyq:
        raise InvalidRecordingError(
            f"Band-pass low edge {low_hz:g} Hz must be between 0 and the Nyquist "
            f"frequency {nyq:g} Hz (sampling rate {sfreq:g} Hz)."
        )
    if high_hz is not None and high_hz <= low_hz:
        raise InvalidRecordingError(
            f"Band-pass low edge {low_hz:g} Hz must be below the high edge "
            f"{high_hz:g} Hz."
        )
    if high_hz is None or high_hz >= nyq:
        # Documented choice (PreprocessConfig.bandpass_hz): an upper edge at or
        # above Nyquist cannot be placed, so only the high-pass remains.
        return butter(order, low_hz, btype="highpass", fs=sfreq, output="sos")
    return butter(order, [low_hz, high_hz], btype="bandpass", fs=sfreq, output="sos")


def _notch_freqs(
    sfreq: float,
    notch_hz: float,
    *,
    harmonics: bool,
    max_hz: float | None,
    bandwidth_hz: float,
) -> list[float]:
    """``notch_hz`` and (optionally) its harmonics that fit below ``max_hz``."""
    nyq = sfreq / 2.0
    top = nyq if max_hz is None else min(max_hz, nyq)
    n_max = int(top // notch_hz) + 1 if harmonics else 1
    freqs = [notch_hz * k for k in range(1, n_max + 1)]
    return [f for f in freqs if f + bandwidth_hz < top]


def _notch_sos(
    sfreq: float, freqs_hz: list[float], bandwidth_hz: float
) -> NDArray[np.float64]:
    """One second-order ``iirnotch`` section per frequency (Q = f0 / bandwidth).

    A copy of a cached design.
    """
    return _notch_sos_cached(float(sfreq), tuple(freqs_hz), float(bandwidth_hz)).copy()


@functools.lru_cache(maxsize=64)
def _notch_sos_cached(
    sfreq: float, freqs_hz: tuple[float, ...], bandwidth_hz: float
) -> NDArray[np.float64]:
    sections = [tf2sos(*iirnotch(f0, Q=f0 / bandwidth_hz, fs=sfreq)) for f0 in freqs_hz]
    return np.concatenate(sections, axis=0) if sections else np.zeros((0, 6))


def bandpass_filter(
    data: NDArray[np.floating],
    sfreq: float,
    low_hz: float,
    high_hz: float | None,
    order: int = 4,
) -> NDArray[np.floating]:
    """Zero-phase Butterworth band-pass (second-order sections, ``sosfiltfilt``).

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        Signal in any unit.
    sfreq : float
        Sampling rate in Hz.
    low_hz : float
        Lower -3 dB edge in Hz (per pass; the forward-backward response is
        squared, about -6 dB at the edge).
    high_hz : float or None
        Upper edge in Hz. None, or a value at or above Nyquist (``sfreq / 2``),
        gives a high-pass at ``low_hz`` only.
    order : int
        Butterworth order of one pass.

    Returns
    -------
    ndarray, shape (n_chans, n_times)
        Filtered signal, same dtype as ``data`` (float64 for integer input).

    Raises
    ------
    InvalidRecordingError
        If ``low_hz`` is not between 0 and Nyquist or not below ``high_hz``.
    """
    data = _as_float(data)
    sos = _bandpass_sos(float(sfreq), float(low_hz), high_hz, int(order))
    return sosfiltfilt(sos, data, axis=-1).astype(data.dtype, copy=False)


def notch_filter(
    data: NDArray[np.floating],
    sfreq: float,
    notch_hz: float,
    *,
    harmonics: bool = True,
    max_hz: float | None = None,
    bandwidth_hz: float = NOTCH_BANDWIDTH_HZ,
) -> NDArray[np.floating]:
    """Remove power-line interference with zero-phase IIR notches.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        Signal in any unit.
    sfreq : float
        Sampling rate in Hz.
    notch_hz : float
        Mains frequency in Hz (50 or 60).
    harmonics : bool
        Also notch ``2 * notch_hz``, ``3 * notch_hz``, ... below ``max_hz``.
    max_hz : float or None
        Highest frequency notched, in Hz; None means Nyquist.
    bandwidth_hz : float
        -3 dB width of each notch in Hz (``iirnotch`` with
        ``Q = f0 / bandwidth_hz``), the same at every harmonic.

    Returns
    -------
    ndarray, shape (n_chans, n_times)
        Filtered signal (a copy if no notch fits below Nyquist).
    """
    data = _as_float(data)
    freqs = _notch_freqs(
        float(sfreq),
        float(notch_hz),
        harmonics=harmonics,
        max_hz=max_hz,
        bandwidth_hz=bandwidth_hz,
    )
    sos = _notch_sos(float(sfreq), freqs, bandwidth_hz)
    if sos.shape[0] == 0:
        logger.info("No notch at %g Hz fits below Nyquist at %g Hz.", notch_hz, sfreq)
        return data.copy()
    return sosfiltfilt(sos, data, axis=-1).astype(data.dtype, copy=False)


def detect_line_frequency(data: NDArray[np.floating], sfreq: float) -> float | None:
    """Detect 50 or 60 Hz power-line interference.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        Signal in any unit, ideally unfiltered.
    sfreq : float
        Sampling rate in Hz.

    Returns
    -------
    float or None
        50.0 or 60.0 when the line stands more than 10 dB above the neighbouring
        spectrum (chunked Welch estimate, channel-averaged), else None. Also None
        when the recording is too short (< 1 s) or the rate too low to tell.
    """
    data = _as_float(data)
    _check_2d(data)
    if data.shape[-1] < sfreq:
        return None
    return line_noise(data, float(sfreq)).line_freq_hz


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


@dataclass(frozen=True, eq=False)
class Preprocessed:
    """Output of :meth:`EMGPreprocessor.transform`.

    Attributes
    ----------
    windows : ndarray of float32, shape (n_windows, n_chans, n_times_window)
        Model-ready windows. With ``zscore="window"`` a contiguous array; else
        a read-only strided view of ``signal`` (copy it before changing it).
    window_starts_s, window_stops_s : ndarray of float64, shape (n_windows,)
        Start and end (exclusive) of each window in seconds from the start of
        the original recording.
    sfreq : float
        Sampling rate of ``signal`` and ``windows`` in Hz.
    signal : ndarray of float32, shape (n_chans, n_times)
        Continuous filtered signal at ``sfreq``; z-scored when
        ``config.zscore == "recording"`` (windows are cut from it).
    line_freq_hz : float or None
        Mains frequency that was notched (None: no notch applied).
    config : PreprocessConfig
        The settings used.
    """

    windows: NDArray[np.float32]
    window_starts_s: NDArray[np.float64]
    window_stops_s: NDArray[np.float64]
    sfreq: float
    signal: NDArray[np.float32]
    line_freq_hz: float | None
    config: PreprocessConfig

    @property
    def n_windows(self) -> int:
        return int(self.windows.shape[0])

    @property
    def n_chans(self) -> int:
        return int(self.signal.shape[0])


class _RunningStats:
    """Per-channel mean and variance merged over chunks (Chan et al. 1979)."""

    def __init__(self, n_chans: int) -> None:
        self.n = 0
        self.mean = np.zeros(n_chans)
        self.m2 = np.zeros(n_chans)

    def update(self, x: NDArray[np.floating]) -> None:
        n_b = x.shape[-1]
        mean_b = x.mean(axis=-1, dtype=np.float64)
        centred = x - mean_b[:, None].astype(x.dtype)
        m2_b = np.einsum("ij,ij->i", centred, centred, dtype=np.float64)
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * n_b / n
        self.m2 = self.m2 + m2_b + delta**2 * self.n * n_b / n
        self.n = n

    @property
    def std(self) -> NDArray[np.float64]:
        return np.sqrt(self.m2 / max(self.n, 1))


def _decay_samples(sos: NDArray[np.float64], sfreq: float) -> int:
    """Samples after which the impulse response of ``sos`` stays below _EDGE_TOL."""
    if sos.shape[0] == 0:
        return 0
    return _decay_samples_cached(sos.tobytes(), sos.shape[0], float(sfreq))


# Cached: the response's tail underflows to subnormal numbers, which made this
# 10 s impulse response cost ~5 ms per transform.
@functools.lru_cache(maxsize=64)
def _decay_samples_cached(sos_bytes: bytes, n_sections: int, sfreq: float) -> int:
    sos = np.frombuffer(sos_bytes, dtype=np.float64).reshape(n_sections, 6).copy()
    n = int(min(max(10 * sfreq, 1000), 2_000_000))
    impulse = np.zeros(n)
    impulse[0] = 1.0
    h = np.abs(sosfilt(sos, impulse))
    above = np.flatnonzero(h > _EDGE_TOL * h.max())
    return int(above[-1]) + 1 if above.size else 0


def _default_n_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _channel_groups(n_chans: int, n_groups: int) -> list[slice]:
    """``n_groups`` contiguous, nearly equal, non-empty channel ranges."""
    n_groups = max(1, min(n_groups, n_chans))
    bounds = np.linspace(0, n_chans, n_groups + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _map(
    fn: Callable[[slice], _T], groups: Sequence[slice], pool: ThreadPoolExecutor | None
) -> list[_T]:
    """``[fn(g) for g in groups]``, on ``pool``'s threads when there is one."""
    if pool is None or len(groups) == 1:
        return [fn(g) for g in groups]
    return list(pool.map(fn, groups))


_BLAS_LOCK = threading.Lock()
_BLAS_CONTROLLER: Any = None
_BLAS_LIMITER: Any = None
_BLAS_USERS = 0


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread while the resampler's matrix products run.

    The products are small and run inside our own channel threads; letting
    OpenBLAS start 2 more threads per call made them 2x slower (CPU and wall)
    on the shared 2-core machine. threadpoolctl changes a process-wide
    setting: the first of concurrent callers sets it and the last restores it.
    """
    global _BLAS_CONTROLLER, _BLAS_LIMITER, _BLAS_USERS
    with _BLAS_LOCK:
        if _BLAS_USERS == 0:
            if _BLAS_CONTROLLER is None:
                from threadpoolctl import ThreadpoolController  # ~30 ms, once

                _BLAS_CONTROLLER = ThreadpoolController()
            _BLAS_LIMITER = _BLAS_CONTROLLER.limit(limits=1, user_api="blas")
        _BLAS_USERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_USERS -= 1
            if _BLAS_USERS == 0:
                _BLAS_LIMITER.restore_original_limits()
                _BLAS_LIMITER = None


class EMGPreprocessor:
    """Resample, filter, normalise and window EMG recordings (paper section 3.2).

    Parameters
    ----------
    config : PreprocessConfig or None
        The settings (None: the paper's defaults); saved with every model so
        inference repeats them.
    chunk_s : float
        Longest piece of signal (seconds) resampled or filtered at once. Each
        piece is padded on both sides (resampling: the anti-aliasing filter's
        half-length; filtering: the time the band-pass/notch impulse response
        needs to decay below 1e-7 of its peak), processed and cropped, so the
        output matches processing the whole signal in one go (within ~1e-6
        relative) while the extra memory stays a small multiple of one padded
        chunk. It does not change the result.
    n_jobs : int or None
        Threads that process groups of channels at the same time (None:
        ``min(2, os.cpu_count())``; 1: everything in the calling thread). The
        heavy steps (scipy's ``sosfilt``, FFTs, BLAS products) release the
        GIL, so 2 threads nearly halve the wall time on 2 free cores. The
        result does not depend on it (channels are processed independently),
        and neither does the memory: each thread holds one padded chunk of
        its own channels.

    Notes
    -----
    Steps: replication check -> pass 1, per channel group and chunk:
    resampling into the output buffer (resample_poly's filter, applied as
    matrix products, see ``_polyphase_resample``) and the group's Welch
    spectrum -> mains detection on the channel spectra (``notch_hz="auto"``:
    notches the detected 50/60 Hz line and each harmonic that stands out by
    itself) -> pass 2, per channel group and chunk, in place: one
    ``sosfiltfilt`` holding the band-pass and notch sections, while the
    channel mean and variance are accumulated, then the recording z-score
    (or, with ``zscore="window"``, the z-scored copies of the group's
    windows) -> replication -> windows as a strided view of the signal. The
    signal is filtered once, never per window.
    """

    def __init__(
        self,
        config: PreprocessConfig | None = None,
        *,
        chunk_s: float = DEFAULT_CHUNK_S,
        n_jobs: int | None = None,
    ) -> None:
        self.config = config if config is not None else PreprocessConfig()
        if (
            isinstance(chunk_s, bool)
            or not isinstance(chunk_s, int | float)
            or not math.isfinite(chunk_s)
            or chunk_s <= 0
        ):
            raise ValueError(f"'chunk_s' must be a positive number, got {chunk_s!r}.")
        self.chunk_s = float(chunk_s)
        if n_jobs is None:
            n_jobs = _default_n_jobs()
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
            raise ValueError(
                f"'n_jobs' must be a whole number of threads >= 1 or None, got "
                f"{n_jobs!r}."
            )
        self.n_jobs = n_jobs

    def __repr__(self) -> str:
        return (
            f"EMGPreprocessor({self.config!r}, chunk_s={self.chunk_s:g}, "
            f"n_jobs={self.n_jobs})"
        )

    def transform(self, recording: Recording) -> Preprocessed:
        """Turn a recording into model-ready windows.

        Parameters
        ----------
        recording : Recording
            Any sampling rate and number of channels, shape (n_chans, n_times).
            It is not modified.

        Returns
        -------
        Preprocessed
            Windows (n_windows, n_chans_out, n_times_window) float32, their
            times in seconds of the original recording, and the continuous
            signal at the output rate.

        Raises
        ------
        InvalidRecordingError
            If replication is asked for and the recording has neither 1 nor
            ``replicate_to_n_chans`` channels, if the band-pass does not fit the
            output rate, or if the recording is shorter than one window.
        """
        cfg = self.config
        data = recording.data
        sfreq = float(recording.sfreq)
        name = recording.source.get("path", "recording")
        n_chans, n_in = data.shape
        n_rep = cfg.replicate_to_n_chans
        if n_rep is not None and n_chans not in (1, n_rep):
            raise InvalidRecordingError(
                f"{name}: {n_chans} channels, but this model expects {n_rep}; only "
                f"single-channel recordings are replicated to {n_rep} channels."
            )
        target = cfg.target_sfreq if cfg.target_sfreq is not None else sfreq
        up, down = (1, 1) if target == sfreq else _resample_factors(sfreq, target)
        sfreq_out = sfreq * up / down
        n_win, win_step = _window_lengths(sfreq_out, cfg.window_s, cfg.step_s)
        n_out = -(-n_in * up // down)
        if n_out < n_win:
            raise InvalidRecordingError(
                f"{name}: {recording.duration_s:.3f} s is shorter than one "
                f"{cfg.window_s:g} s analysis window."
            )
        # Designed first so a band that does not fit fails before any work.
        sos_band = (
            _bandpass_sos(sfreq_out, *cfg.bandpass_hz, cfg.filter_order)
            if cfg.bandpass_hz is not None
            else np.zeros((0, 6))
        )

        signal = np.empty((n_chans, n_out), dtype=np.float32)
        # Per-window z-scoring also runs in the channel threads, into one
        # array (before replication: copies of a channel normalise alike).
        windows_z = None
        if cfg.zscore == "window":
            n_windows = (n_out - n_win) // win_step + 1  # as make_windows
            windows_z = np.empty((n_windows, n_chans, n_win), dtype=np.float32)
        detect = cfg.notch_hz == "auto" and n_out >= sfreq_out  # < 1 s: can't tell
        groups = _channel_groups(n_chans, self.n_jobs)

        def pass_1(g: slice) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            self._resample_into(data[g], signal[g], up, down, sfreq)
            # Each channel's spectrum only depends on that channel, so the
            # groups' spectra stacked are the whole signal's.
            return chunked_welch(signal[g], sfreq_out) if detect else _NO_PSD

        def pass_2(g: slice, sos: NDArray[np.float64]) -> NDArray[np.float64]:
            stats = self._filter_in_place(signal[g], sfreq_out, sos)
            if cfg.zscore == "recording":
                self._zscore_in_place(signal[g], sfreq_out, stats)
            elif windows_z is not None:
                view, _ = make_windows(signal[g], sfreq_out, cfg.window_s, cfg.step_s)
                _zscore_into(view, windows_z[:, g], axis=-1)
            return stats.std

        # Threads share `signal` but write disjoint rows (their channel group).
        pool = ThreadPoolExecutor(len(groups)) if len(groups) > 1 else None
        try:
            with _single_threaded_blas():
                spectra = _map(pass_1, groups, pool)
            noise = None
            if detect:
                psd = np.concatenate([p for _, p in spectra])
                noise = line_noise_from_psd(spectra[0][0], psd, sfreq_out)
            line_freq, notch_freqs = self._line(sfreq_out, noise)
            if notch_freqs:
                logger.info("%s: notching %s Hz.", name, notch_freqs)
            sos = np.concatenate(
                [sos_band, _notch_sos(sfreq_out, notch_freqs, NOTCH_BANDWIDTH_HZ)]
            )
            stds = np.concatenate(
                _map(functools.partial(pass_2, sos=sos), groups, pool)
            )
        finally:
            if pool is not None:
                pool.shutdown()
        if cfg.zscore == "recording":
            flat = np.flatnonzero(stds < _STD_FLOOR)
            if flat.size:
                logger.warning(
                    "%s: channel(s) %s are flat after filtering.", name, flat
                )

        replicate = n_rep is not None and n_chans == 1 and n_rep > 1
        if replicate:
            signal = np.repeat(signal, n_rep, axis=0)
        windows, starts = make_windows(signal, sfreq_out, cfg.window_s, cfg.step_s)
        if windows_z is not None:
            windows = np.repeat(windows_z, n_rep, axis=1) if replicate else windows_z
        starts_s = starts / sfreq_out
        return Preprocessed(
            windows=windows,
            window_starts_s=starts_s,
            window_stops_s=starts_s + n_win / sfreq_out,
            sfreq=sfreq_out,
            signal=signal,
            line_freq_hz=line_freq if notch_freqs else None,
            config=cfg,
        )

    def _chunk_len(self, sfreq: float, multiple: int = 1) -> int:
        return max(multiple, int(self.chunk_s * sfreq) // multiple * multiple)

    def _resample_into(
        self,
        data: NDArray[np.float32],
        signal: NDArray[np.float32],
        up: int,
        down: int,
        sfreq: float,
    ) -> None:
        """Pass 1: resample ``data`` into ``signal`` (n_chans, n_out), by chunks."""
        if (up, down) == (1, 1):
            signal[...] = data
            return
        n_in = data.shape[-1]
        # resample_poly's filter has 10 * max(up, down) taps on each side at
        # the up-sampled rate; the pad is a multiple of down so that output
        # samples of a chunk line up with those of the whole signal.
        pad = -(-10 * max(up, down) // up) + 1
        pad = -(-pad // down) * down
        core = self._chunk_len(sfreq, down)
        for lo in range(0, n_in, core):
            hi = min(lo + core, n_in)
            p_lo, p_hi = max(0, lo - pad), min(n_in, hi + pad)
            piece = _polyphase_resample(data[:, p_lo:p_hi], up, down)
            out_lo, out_hi = lo * up // down, -(-hi * up // down)
            offset = (lo - p_lo) * up // down
            signal[:, out_lo:out_hi] = piece[:, offset : offset + out_hi - out_lo]

    def _line(
        self, sfreq: float, noise: LineNoise | None
    ) -> tuple[float | None, list[float]]:
        """Mains frequency and the frequencies to notch, per ``config.notch_hz``.

        ``noise`` is the detection result for ``notch_hz="auto"`` (None when
        the recording is under 1 s, too short to tell).
        """
        cfg = self.config
        high = cfg.bandpass_hz[1] if cfg.bandpass_hz is not None else None
        top = sfreq / 2 if high is None else min(high, sfreq / 2)
        if cfg.notch_hz is None:
            return None, []
        if cfg.notch_hz == "auto":
            if noise is None:
                return None, []
            logger.info("Automatic mains detection: %s", noise.line_freq_hz)
            if noise.line_freq_hz is None:
                return None, []
            freqs = noise.harmonics_hz if cfg.notch_harmonics else [noise.line_freq_hz]
            freqs = [f for f in freqs if f + NOTCH_BANDWIDTH_HZ < top]
            return noise.line_freq_hz, freqs
        freq = float(cfg.notch_hz)
        freqs = _notch_freqs(
            sfreq,
            freq,
            harmonics=cfg.notch_harmonics,
            max_hz=high,
            bandwidth_hz=NOTCH_BANDWIDTH_HZ,
        )
        if not freqs:
            logger.info("%g Hz notch does not fit below %g Hz; skipped.", freq, top)
        return freq, freqs

    def _zscore_in_place(
        self, signal: NDArray[np.float32], sfreq: float, stats: _RunningStats
    ) -> None:
        """Normalise each channel of ``signal`` by its ``stats``, chunk by chunk."""
        mean = stats.mean[:, None].astype(np.float32)
        scale = np.where(stats.std < _STD_FLOOR, 1.0, stats.std)[:, None]
        scale = scale.astype(np.float32)
        step = self._chunk_len(sfreq)
        for lo in range(0, signal.shape[-1], step):
            block = signal[:, lo : lo + step]
            block -= mean
            block /= scale

    def _filter_in_place(
        self, signal: NDArray[np.float32], sfreq: float, sos: NDArray[np.float64]
    ) -> _RunningStats:
        """Pass 2: zero-phase filter ``signal`` chunk by chunk, in place.

        Each chunk is filtered together with ``pad`` unfiltered samples on each
        side; the left ones are saved before the previous chunk overwrote them.
        Returns the channel statistics of the filtered signal.
        """
        n_chans, n_out = signal.shape
        stats = _RunningStats(n_chans)
        core = self._chunk_len(sfreq)
        if sos.shape[0] == 0:
            for lo in range(0, n_out, core):
                stats.update(signal[:, lo : lo + core])
            return stats
        pad = _decay_samples(sos, sfreq)
        left = signal[:, :0].copy()  # the last `pad` unfiltered samples before lo
        for lo in range(0, n_out, core):
            hi = min(lo + core, n_out)
            right = signal[:, hi : min(n_out, hi + pad)]
            piece = np.concatenate([left, signal[:, lo:hi], right], axis=-1)
            filtered = sosfiltfilt(sos, piece, axis=-1)
            n_left = left.shape[-1]
            left = piece[:, max(0, n_left + hi - lo - pad) : n_left + hi - lo].copy()
            kept = filtered[:, n_left : n_left + hi - lo]
            signal[:, lo:hi] = kept
            stats.update(kept)
        return stats
