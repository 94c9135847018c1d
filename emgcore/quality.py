"""Signal-quality report for one recording: clipping, flat lines, mains noise, length.

The report is a plain JSON-serialisable dict so it can go straight into the
``inspect`` command's output and a database JSON field.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore._spectral import LineNoise, line_noise
from emgcore.recording import Recording

logger = logging.getLogger(__name__)

#: Samples are processed in pieces of this many samples per channel, so the
#: temporary arrays stay small however long the recording is.
CHUNK_SAMPLES = 1_000_000
#: Two neighbouring samples count as "the same" when they differ by at most this
#: fraction of the channel's peak-to-peak range (exact repeats for integer data).
FLAT_REL_TOL = 1e-5
#: Shortest run of (near-)constant signal reported as a flat segment, seconds.
MIN_FLAT_S = 0.1
#: A run of samples at the channel's max or min must be at least this long to
#: count as clipping (a single peak sample at the maximum is not clipping).
MIN_CLIP_RUN = 3
#: A channel's max (min) is a clipping rail only if it lies at least this
#: fraction of the larger median-to-extreme distance away from the median.
RAIL_MIN_REACH = 0.5
#: Shorter recordings get no mains-noise estimate (too few spectral bins).
MIN_SPECTRUM_S = 1.0
#: Most flat segments listed in the report (the fractions count all of them).
MAX_FLAT_SEGMENTS = 100

# Limits above which a warning is added to the report.
CLIPPING_WARN_FRACTION = 0.01
FLAT_WARN_FRACTION = 0.01
LINE_NOISE_WARN_RATIO = 0.1


def _chunk_bounds(n: int, chunk: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, chunk):
        yield start, min(start + chunk, n)


def _runs(mask: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Start indices and lengths of the runs of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return starts, stops - starts


def _long_runs(
    make_mask: Any, n: int, min_len: int, chunk: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Runs of True of at least ``min_len`` in a mask built chunk by chunk.

    ``make_mask(start, stop)`` returns the mask for indices ``start:stop``.
    Runs that touch a chunk edge are kept whatever their length and merged with
    their neighbour, so the answer equals the one-shot answer.
    """
    all_starts: list[NDArray[np.intp]] = []
    all_lens: list[NDArray[np.intp]] = []
    for start, stop in _chunk_bounds(n, chunk):
        s, ln = _runs(make_mask(start, stop))
        keep = (ln >= min_len) | (s == 0) | (s + ln == stop - start)
        all_starts.append(s[keep] + start)
        all_lens.append(ln[keep])
    starts = np.concatenate(all_starts) if all_starts else np.zeros(0, np.intp)
    lens = np.concatenate(all_lens) if all_lens else np.zeros(0, np.intp)
    if starts.size > 1:
        # Merge runs that continue across a chunk edge.
        joins = starts[1:] == starts[:-1] + lens[:-1]
        group = np.concatenate(([0], np.cumsum(~joins)))
        merged_starts = starts[np.concatenate(([True], ~joins))]
        merged_lens = np.bincount(group, weights=lens).astype(np.intp)
        starts, lens = merged_starts, merged_lens
    keep = lens >= min_len
    return starts[keep], lens[keep]


def channel_runs(
    x: NDArray[np.floating], sfreq: float, chunk: int = CHUNK_SAMPLES
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Clipped runs and flat runs of one channel, each as ``(start, n_samples)``.

    A clipped run is at least ``MIN_CLIP_RUN`` samples at the channel's max or
    min (when that extreme is a rail, see ``RAIL_MIN_REACH``); a flat run is at
    least ``MIN_FLAT_S`` of (near-)constant signal. The signal-quality gate
    (:mod:`emgcore.gate`) places its bad segments with them.
    """
    x = np.asarray(x)
    n = x.shape[0]
    hi = float(x.max())
    lo = float(x.min())
    ptp = hi - lo
    if ptp == 0.0:  # a constant channel is one flat segment, not clipping
        return [], [(0, n)]
    tol = FLAT_REL_TOL * ptp
    # A rail counts only when it is an extreme of the signal, not where most of
    # it sits: rectified or envelope signals (NinaPro DB1) rest on their
    # minimum, which is their floor, not a clipped amplifier. The median comes
    # from at most ~1e6 evenly spaced samples to keep the cost bounded.
    centre = float(np.median(x[:: max(1, n // 1_000_000)]))
    reach = max(hi - centre, centre - lo)
    use_hi = hi - centre >= RAIL_MIN_REACH * reach
    use_lo = centre - lo >= RAIL_MIN_REACH * reach

    def rail_mask(start: int, stop: int) -> NDArray[np.bool_]:
        piece = x[start:stop]
        mask = np.zeros(piece.shape, dtype=bool)
        if use_hi:
            mask |= piece >= hi - tol
        if use_lo:
            mask |= piece <= lo + tol
        return mask

    clip_starts, clip_lens = _long_runs(rail_mask, n, MIN_CLIP_RUN, chunk)
    clipped = [(int(s), int(ln)) for s, ln in zip(clip_starts, clip_lens, strict=True)]

    # same[i] is True when sample i+1 repeats sample i; a run of k such
    # differences is a flat stretch of k + 1 samples.
    def same_mask(start: int, stop: int) -> NDArray[np.bool_]:
        piece = x[start : min(stop + 1, n)]
        return np.abs(np.diff(piece)) <= tol

    min_flat = max(2, int(np.ceil(MIN_FLAT_S * sfreq)))
    starts, lens = _long_runs(same_mask, n - 1, min_flat - 1, chunk)
    flat = [(int(s), int(ln) + 1) for s, ln in zip(starts, lens, strict=True)]
    return clipped, flat


def _channel_quality(
    x: NDArray[np.float32], sfreq: float, chunk: int
) -> tuple[int, list[tuple[int, int]], int]:
    """Clipped sample count, flat runs (start, n_samples) and flat sample count."""
    clipped, flat = channel_runs(x, sfreq, chunk)
    return sum(ln for _, ln in clipped), flat, sum(ln for _, ln in flat)


def assess_quality(
    recording: Recording, *, window_s: float = 1.0, chunk_samples: int = CHUNK_SAMPLES
) -> dict[str, Any]:
    """Measure the signal quality of a recording.

    Parameters
    ----------
    recording : Recording
        The signal, shape (n_chans, n_times), at ``recording.sfreq`` Hz.
    window_s : float
        Analysis window length in seconds; ``long_enough_for_window`` says
        whether the recording holds at least one.
    chunk_samples : int
        Samples per channel handled at once (memory bound; results do not
        depend on it).

    Returns
    -------
    dict
        JSON-serialisable report with keys:

        - ``duration_s`` (float), ``n_chans``, ``n_times`` (int), ``sfreq`` (Hz)
        - ``long_enough_for_window`` (bool), ``window_s`` (float)
        - ``clipping_fraction`` (float, 0-1): share of all samples lying in runs
          of at least ``MIN_CLIP_RUN`` samples at their channel's max or min
          value (a min or max lying near the channel's median, such as the
          floor of a rectified signal, is not a rail);
          ``clipping_fraction_per_chan`` (list of float)
        - ``flat_segments``: list of ``{"channel", "start_s", "duration_s"}``
          for runs of (near-)constant signal of at least ``MIN_FLAT_S`` s
          (at most ``MAX_FLAT_SEGMENTS`` listed, longest first;
          ``flat_segments_truncated`` says if some were left out)
        - ``flat_fraction`` (float, 0-1) and ``flat_fraction_per_chan``
        - ``line_freq_hz`` (50.0, 60.0 or None) and ``line_noise_ratio``
          (power within +-1 Hz of the mains frequency and its harmonics divided
          by the 20-500 Hz power, mean over channels; when no mains line is
          detected, the larger ratio of the two candidates);
          ``line_noise_ratio_per_chan`` (list of float). Recordings shorter
          than ``MIN_SPECTRUM_S`` get None and 0.0 with
          ``line_noise_assessed`` False.
        - ``warnings``: list of short human-readable strings

    Notes
    -----
    Clipping and flat-line detection run per channel over chunks of
    ``chunk_samples``; the spectrum is a Welch average computed over 10 s pieces, so the
    extra memory is a small multiple of one chunk.
    """
    data = recording.data
    sfreq = float(recording.sfreq)
    n_chans, n_times = data.shape
    duration_s = n_times / sfreq
    chunk = max(int(chunk_samples), 2)

    clipped_per_chan: list[float] = []
    flat_per_chan: list[float] = []
    segments: list[dict[str, Any]] = []
    n_clipped_total = 0
    n_flat_total = 0
    for ch in range(n_chans):
        n_clipped, flat, n_flat = _channel_quality(data[ch], sfreq, chunk)
        n_clipped_total += n_clipped
        n_flat_total += n_flat
        clipped_per_chan.append(n_clipped / n_times)
        flat_per_chan.append(n_flat / n_times)
        segments.extend(
            {"channel": ch, "start_s": s / sfreq, "duration_s": ln / sfreq}
            for s, ln in flat
        )
    segments.sort(key=lambda seg: -seg["duration_s"])
    truncated = len(segments) > MAX_FLAT_SEGMENTS
    segments = segments[:MAX_FLAT_SEGMENTS]

    line_assessed = duration_s >= MIN_SPECTRUM_S
    if line_assessed:
        noise = line_noise(data, sfreq)
    else:
        noise = LineNoise(None, 0.0, [0.0] * n_chans, {})
    clipping_fraction = n_clipped_total / data.size
    flat_fraction = n_flat_total / data.size
    long_enough = duration_s >= window_s

    warnings: list[str] = []
    if not long_enough:
        warnings.append(
            f"The recording lasts {duration_s:.3f} s, shorter than one "
            f"{window_s:g} s analysis window."
        )
    if clipping_fraction > CLIPPING_WARN_FRACTION:
        warnings.append(
            f"{100 * clipping_fraction:.1f}% of samples are clipped at the "
            f"amplifier's limits (limit {100 * CLIPPING_WARN_FRACTION:g}%)."
        )
    if flat_fraction > FLAT_WARN_FRACTION:
        warnings.append(
            f"{100 * flat_fraction:.1f}% of samples are in flat-line segments "
            f"(limit {100 * FLAT_WARN_FRACTION:g}%): lost electrode contact, or a "
            "signal below the recorder's resolution."
        )
    if noise.ratio > LINE_NOISE_WARN_RATIO:
        where = f"{noise.line_freq_hz:g} Hz " if noise.line_freq_hz else ""
        warnings.append(
            f"Power-line noise {where}holds {100 * noise.ratio:.0f}% of the EMG-band "
            f"power (limit {100 * LINE_NOISE_WARN_RATIO:g}%)."
        )
    report: dict[str, Any] = {
        "duration_s": float(duration_s),
        "sfreq": sfreq,
        "n_chans": int(n_chans),
        "n_times": int(n_times),
        "window_s": float(window_s),
        "long_enough_for_window": bool(long_enough),
        "clipping_fraction": float(clipping_fraction),
        "clipping_fraction_per_chan": clipped_per_chan,
        "flat_segments": segments,
        "flat_segments_truncated": bool(truncated),
        "flat_fraction": float(flat_fraction),
        "flat_fraction_per_chan": flat_per_chan,
        "line_freq_hz": noise.line_freq_hz,
        "line_noise_ratio": noise.ratio,
        "line_noise_ratio_per_chan": noise.ratio_per_chan,
        "line_noise_assessed": bool(line_assessed),
        "warnings": warnings,
    }
    logger.debug("quality of %s: %s", recording.source.get("path", "recording"), report)
    return report
