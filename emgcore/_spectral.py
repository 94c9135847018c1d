"""Chunked Welch spectra and power-line detection shared by quality and preprocess.

Private module: the public entry points are
:func:`emgcore.quality.assess_quality` and
:func:`emgcore.preprocess.detect_line_frequency`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray
from scipy.fft import rfft, rfftfreq
from scipy.signal import get_window

logger = logging.getLogger(__name__)

#: Mains frequencies that are looked for, in Hz.
LINE_CANDIDATES_HZ: tuple[float, ...] = (50.0, 60.0)
#: Spectral resolution aimed at by the Welch estimate, in Hz.
WELCH_RESOLUTION_HZ = 0.5
#: Welch segments are transformed in pieces of about this many seconds, so the
#: memory it needs does not grow with the recording.
WELCH_CHUNK_S = 10.0
#: The band that counts as "EMG power" for the line-noise ratio, in Hz.
EMG_BAND_HZ = (20.0, 500.0)
#: A line is reported when its band holds this many times the local background
#: density (10 = 10 dB above the neighbouring spectrum).
LINE_PROMINENCE = 10.0
MAX_PROMINENCE = 1e12


@dataclass(frozen=True)
class LineNoise:
    """Result of :func:`line_noise`.

    Attributes
    ----------
    line_freq_hz : float or None
        Detected mains frequency (50 or 60 Hz), or None.
    ratio : float
        Power in narrow bands at ``line_freq_hz`` and its harmonics divided by
        the power in the EMG band, mean over channels. When no line is found,
        the larger of the two candidates' ratios (a small number).
    ratio_per_chan : list of float
        The same ratio per channel.
    prominence : dict
        Candidate frequency -> ratio of the fundamental's band density to the
        median density of its neighbourhood (channel-averaged spectrum).
    harmonics_hz : list of float
        The detected fundamental and those of its harmonics (below Nyquist)
        that are themselves more than ``LINE_PROMINENCE`` above their
        neighbourhood; empty when nothing is detected.
    """

    line_freq_hz: float | None
    ratio: float
    ratio_per_chan: list[float]
    prominence: dict[float, float]
    harmonics_hz: list[float] = field(default_factory=list)


def chunked_welch(
    data: NDArray[np.floating], sfreq: float, *, chunk_s: float = WELCH_CHUNK_S
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Welch power spectral density averaged over time chunks.

    The same estimator as :func:`scipy.signal.welch` with its defaults (periodic
    Hann window, 50 % overlap, constant detrend, one-sided density scaling; a
    test checks the two agree), computed with one strided :func:`scipy.fft.rfft`
    per chunk. scipy 1.17's ``welch`` loops over segments in Python and was
    about 10 times slower on 12-channel EMG, which mattered for the
    preprocessing benchmark.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        Signal in any unit.
    sfreq : float
        Sampling rate in Hz.
    chunk_s : float
        Longest piece transformed at once, in seconds (memory bound: the
        segments of one piece take about twice its size).

    Returns
    -------
    freqs : ndarray, shape (n_freqs,)
        Frequencies in Hz.
    psd : ndarray, shape (n_chans, n_freqs)
        Power spectral density in unit**2/Hz, averaged over all segments.
    """
    n_chans, n_times = data.shape
    nperseg_target = int(round(sfreq / WELCH_RESOLUTION_HZ))
    # At least ~3 half-overlapping segments when the recording is short.
    nperseg = max(1, min(nperseg_target, n_times // 2 if n_times >= 16 else n_times))
    step = max(1, nperseg - nperseg // 2)  # as scipy: noverlap = nperseg // 2
    window = get_window("hann", nperseg).astype(np.float32)
    # Chunks hold whole segments and overlap by one step, so every segment
    # scipy.signal.welch would use is used once.
    seg_per_chunk = max(1, int(chunk_s * sfreq) // step)
    n_seg_total = (n_times - nperseg) // step + 1
    psd_sum = np.zeros((n_chans, nperseg // 2 + 1))
    for first in range(0, n_seg_total, seg_per_chunk):
        n_seg = min(seg_per_chunk, n_seg_total - first)
        lo = first * step
        piece = np.asarray(data[:, lo : lo + (n_seg - 1) * step + nperseg], np.float32)
        segs = sliding_window_view(piece, nperseg, axis=-1)[:, ::step]
        segs = segs - segs.mean(axis=-1, keepdims=True, dtype=np.float64).astype(
            np.float32
        )
        segs *= window
        spec = rfft(segs, axis=-1)
        psd_sum += (spec.real**2 + spec.imag**2).sum(axis=1, dtype=np.float64)
    psd = psd_sum / (
        n_seg_total * sfreq * float((window.astype(np.float64) ** 2).sum())
    )
    if nperseg % 2:
        psd[:, 1:] *= 2
    else:
        psd[:, 1:-1] *= 2
    freqs = rfftfreq(nperseg, 1.0 / sfreq)
    return freqs, psd


def _band_mask(freqs: NDArray[np.float64], lo: float, hi: float) -> NDArray[np.bool_]:
    return (freqs >= lo) & (freqs <= hi)


def _prominence(
    norm: NDArray[np.float64], freqs: NDArray[np.float64], f0: float, half_bw: float
) -> float:
    """Mean density within +-half_bw of f0 over the median of its flanks."""
    peak = _band_mask(freqs, f0 - half_bw, f0 + half_bw)
    flank = _band_mask(freqs, f0 - 3 * half_bw - 9.0, f0 - 2 * half_bw) | (
        _band_mask(freqs, f0 + 2 * half_bw, f0 + 3 * half_bw + 9.0)
    )
    background = float(np.median(norm[flank])) if flank.any() else 0.0
    level = float(norm[peak].mean()) if peak.any() else 0.0
    # Capped so the value stays finite (JSON) on noise-free synthetic input.
    return min(level / max(background, 1e-300), MAX_PROMINENCE)


def line_noise(data: NDArray[np.floating], sfreq: float) -> LineNoise:
    """Detect 50/60 Hz mains interference and measure its share of EMG power.

    Parameters
    ----------
    data : ndarray, shape (n_chans, n_times)
        Signal in any unit.
    sfreq : float
        Sampling rate in Hz.

    Returns
    -------
    LineNoise
        Detected frequency (or None), power ratios and prominences.

    Notes
    -----
    Detection uses the spectrum averaged over channels after normalising each
    channel to unit EMG-band power, so a loud channel does not hide the others.
    A candidate is detected when the mean density within +-max(1 Hz, 1.5 bins)
    of it is more than ``LINE_PROMINENCE`` times the median density 3-12 Hz
    away on both sides. Candidates at or above Nyquist cannot be detected.
    """
    freqs, psd = chunked_welch(data, sfreq)
    return line_noise_from_psd(freqs, psd, sfreq)


def line_noise_from_psd(
    freqs: NDArray[np.float64], psd: NDArray[np.float64], sfreq: float
) -> LineNoise:
    """:func:`line_noise` on a spectrum from :func:`chunked_welch`.

    Each channel's spectrum is independent of the others, so callers may
    compute ``psd`` for groups of channels (e.g. in parallel) and stack the
    rows; the result is the same as ``line_noise`` on the whole signal.

    Parameters
    ----------
    freqs : ndarray, shape (n_freqs,)
        Frequencies in Hz.
    psd : ndarray, shape (n_chans, n_freqs)
        Power spectral density in unit**2/Hz.
    sfreq : float
        Sampling rate of the signal in Hz.

    Returns
    -------
    LineNoise
        As :func:`line_noise`.
    """
    nyq = sfreq / 2.0
    df = float(freqs[1] - freqs[0]) if freqs.size > 1 else nyq
    half_bw = max(1.0, 1.5 * df)
    band_lo, band_hi = EMG_BAND_HZ[0], min(EMG_BAND_HZ[1], nyq)
    in_band = _band_mask(freqs, band_lo, band_hi)
    total = psd[:, in_band].sum(axis=-1) * df  # (n_chans,)
    safe_total = np.where(total > 0, total, 1.0)
    norm = (psd / safe_total[:, None]).mean(axis=0)  # (n_freqs,)

    prominence: dict[float, float] = {}
    ratios: dict[float, NDArray[np.float64]] = {}
    for f0 in LINE_CANDIDATES_HZ:
        if f0 + half_bw >= nyq or int(in_band.sum()) == 0:
            continue
        prominence[f0] = _prominence(norm, freqs, f0, half_bw)
        harm = np.zeros_like(freqs, dtype=bool)
        k = 1
        while k * f0 + half_bw < band_hi:
            harm |= _band_mask(freqs, k * f0 - half_bw, k * f0 + half_bw)
            k += 1
        harm &= in_band
        line_power = psd[:, harm].sum(axis=-1) * df
        ratios[f0] = np.where(total > 0, line_power / safe_total, 0.0)

    detected = [f for f, p in prominence.items() if p > LINE_PROMINENCE]
    line_freq = max(detected, key=lambda f: prominence[f]) if detected else None
    harmonics: list[float] = []
    if line_freq is not None:
        per_chan = ratios[line_freq]
        k = 1
        while k * line_freq + 3 * half_bw + 9.0 < nyq:
            f_k = k * line_freq
            if k == 1 or _prominence(norm, freqs, f_k, half_bw) > LINE_PROMINENCE:
                harmonics.append(float(f_k))
            k += 1
    elif ratios:
        per_chan = np.maximum.reduce(list(ratios.values()))
    else:
        per_chan = np.zeros(psd.shape[0])
    logger.debug("line noise: prominence=%s detected=%s", prominence, line_freq)
    return LineNoise(
        line_freq_hz=line_freq,
        ratio=float(np.mean(per_chan)),
        ratio_per_chan=[float(r) for r in per_chan],
        prominence={float(f): float(p) for f, p in prominence.items()},
        harmonics_hz=harmonics,
    )
