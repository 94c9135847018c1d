"""The chained preprocessor: :class:`EMGPreprocessor` and its output.

Applies resample -> band-pass + notch -> z-score -> windows to a whole
:class:`~emgcore.recording.Recording`, filtering the continuous signal once
in overlapping chunks (padded until the filters' impulse response has
decayed) so memory stays bounded, with running per-channel statistics merged
over chunks. Separate from the pure stage functions it calls.
"""

from __future__ import annotations

import functools
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import (
    sosfilt,
    sosfiltfilt,
)

from emgcore._spectral import LineNoise, chunked_welch, line_noise_from_psd
from emgcore.config import PreprocessConfig
from emgcore.errors import InvalidRecordingError
from emgcore.preprocess._common import (
    _channel_groups,
    _default_n_jobs,
    _map,
    _single_threaded_blas,
)
from emgcore.preprocess.filters import (
    NOTCH_BANDWIDTH_HZ,
    _bandpass_sos,
    _notch_freqs,
    _notch_sos,
)
from emgcore.preprocess.resample import _polyphase_resample, _resample_factors
from emgcore.preprocess.windows import (
    _STD_FLOOR,
    _window_lengths,
    _zscore_into,
    make_windows,
)
from emgcore.recording import Recording

logger = logging.getLogger(__name__)


#: Longest input piece filtered at once by EMGPreprocessor, in seconds.
DEFAULT_CHUNK_S = 60.0
#: Chunk padding is where the filter's impulse response has decayed below this
#: fraction of its peak, so edge effects stay below it in the kept part.
_EDGE_TOL = 1e-7
_NO_PSD = (np.zeros(0), np.zeros((0, 0)))


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
