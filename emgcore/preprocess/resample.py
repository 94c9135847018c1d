"""Polyphase resampling to the model's sampling rate.

:func:`resample` equals :func:`scipy.signal.resample_poly` up to float
rounding and, for the usual rate pairs, computes it as blocked BLAS matrix
products with a cached plan (:func:`_polyphase_plan`; about 7 ms instead of
40 ms for 60 s x 12 channels at 2 -> 1 kHz). Separate because it is the one
stage with its own performance machinery.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray
from scipy.signal import (
    firwin,
    resample_poly,
)

from emgcore.errors import InvalidRecordingError
from emgcore.preprocess._common import _as_float, _single_threaded_blas

#: Output samples per block of the matrix-product resampler (see
#: _polyphase_resample); 32 was the fastest of 8-128 for 2 -> 1 kHz.
_RESAMPLE_BLOCK_OUT = 32
#: The block product does more multiply-adds than the filter has taps; beyond
#: this factor (both ``up`` and ``down`` large, e.g. 997/1000) resample_poly's
#: direct loop is used instead.
_RESAMPLE_MAX_EXTRA_WORK = 4.0


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
