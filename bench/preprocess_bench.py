"""Preprocessing benchmark: whole-signal pipeline vs per-window loop, real-time factor.

Run with ``make bench`` (or ``.venv/bin/python bench/preprocess_bench.py``).
Prints plain-text tables; nothing is asserted. Wall-clock times are the best of
several repeats; CPU time (``time.process_time``) is printed beside them
because the development machine is shared and wall time there depends on load.

(a) The full EMGPreprocessor on one recording vs a naive loop that cuts raw
    windows first and resamples, filters and z-scores each window separately
    (the approach issue 2 rules out), plus how much the naive windows differ.
(b) Real-time factor (signal seconds / processing seconds) of EMGPreprocessor
    with the default config (resample to 1 kHz, band-pass 20-450 Hz, notch
    "auto", z-score per recording, 1 s windows, 50 % overlap) on 60 s of
    12-channel 2 kHz synthetic EMG, with and without 50 Hz interference, and
    a per-stage breakdown. Target: >= 1000x real time.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emgcore._spectral import line_noise  # noqa: E402
from emgcore.config import PreprocessConfig  # noqa: E402
from emgcore.preprocess import (  # noqa: E402
    EMGPreprocessor,
    bandpass_filter,
    make_windows,
    notch_filter,
    resample,
    zscore,
)
from emgcore.recording import Recording  # noqa: E402

SFREQ = 2000.0
N_CHANS = 12
DURATION_S = 60.0
TARGET_RTF = 1000.0


def synthetic_emg(
    seed: int, *, line_hz: float | None, line_amp: float = 0.3
) -> np.ndarray:
    """Band-limited noise with an on/off envelope, (N_CHANS, n_times) float32."""
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(seed)
    n = int(SFREQ * DURATION_S)
    sos = butter(4, [20.0, 450.0], btype="bandpass", fs=SFREQ, output="sos")
    emg = sosfiltfilt(sos, rng.standard_normal((N_CHANS, n)), axis=-1)
    t = np.arange(n) / SFREQ
    emg *= 0.5 + 0.5 * (np.sin(2 * np.pi * 0.5 * t) > 0)
    if line_hz is not None:
        emg += line_amp * np.sin(2 * np.pi * line_hz * t)
    return emg.astype(np.float32)


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Best wall and best CPU seconds over ``repeats`` calls, and the last result."""
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, result


def naive_per_window(recording: Recording, cfg: PreprocessConfig) -> np.ndarray:
    """Cut raw windows, then resample/filter/z-score each one in a Python loop."""
    raw, _ = make_windows(recording.data, recording.sfreq, cfg.window_s, cfg.step_s)
    line = line_noise(recording.data, recording.sfreq).line_freq_hz
    out = []
    for w in raw:
        x = resample(w, recording.sfreq, cfg.target_sfreq)
        x = bandpass_filter(x, cfg.target_sfreq, *cfg.bandpass_hz, cfg.filter_order)
        if line is not None:
            x = notch_filter(x, cfg.target_sfreq, line, max_hz=cfg.bandpass_hz[1])
        out.append(zscore(x))
    return np.stack(out)


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print("Myolens preprocessing benchmark")
    print(
        f"signal: {DURATION_S:g} s x {N_CHANS} channels at {SFREQ:g} Hz (synthetic "
        f"EMG); python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPU(s), load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    cfg = PreprocessConfig()
    pre = EMGPreprocessor(cfg)
    cases = {
        "clean EMG": synthetic_emg(1, line_hz=None),
        "EMG + 50 Hz": synthetic_emg(2, line_hz=50.0),
    }
    recs = {
        k: Recording(
            v, SFREQ, tuple(f"ch{i}" for i in range(N_CHANS)), ("mV",) * N_CHANS
        )
        for k, v in cases.items()
    }
    pre.transform(recs["clean EMG"])  # warm-up (imports, FFT plans)

    # (a) whole-signal pipeline vs per-window loop; both z-score per window so
    # the windows can be compared (the loop cannot see the whole recording).
    cfg_w = PreprocessConfig(zscore="window")
    pre_w = EMGPreprocessor(cfg_w)
    rows_a = []
    for name, rec in recs.items():
        w_pipe, c_pipe, out = timed(lambda rec=rec: pre_w.transform(rec), args.repeats)
        w_loop, c_loop, naive = timed(
            lambda rec=rec: naive_per_window(rec, cfg_w), max(1, args.repeats // 2)
        )
        n = min(len(naive), out.n_windows)
        diff = float(np.sqrt(np.mean((naive[:n] - out.windows[:n]) ** 2)))
        rows_a.append(
            [
                name,
                str(out.n_windows),
                f"{1e3 * w_pipe:.1f}",
                f"{1e3 * w_loop:.1f}",
                f"{w_loop / w_pipe:.1f}x",
                f"{c_loop / c_pipe:.1f}x",
                f"{diff:.3f}",
            ]
        )
    table(
        '(a) whole-signal pipeline vs per-window loop, zscore="window" (best of runs)',
        [
            "signal",
            "windows",
            "pipeline ms",
            "per-window ms",
            "speed-up (wall)",
            "speed-up (CPU)",
            "RMS diff of windows (z units, edge effects of the loop)",
        ],
        rows_a,
    )

    # (b) real-time factor and stage breakdown
    rows_b = []
    for name, rec in recs.items():
        wall, cpu, out = timed(lambda rec=rec: pre.transform(rec), args.repeats)
        rows_b.append(
            [
                name,
                str(out.line_freq_hz),
                f"{1e3 * wall:.1f}",
                f"{1e3 * cpu:.1f}",
                f"{DURATION_S / wall:.0f}x",
                f"{DURATION_S / cpu:.0f}x",
                "yes" if DURATION_S / wall >= TARGET_RTF else "no",
            ]
        )
    table(
        f"(b) real-time factor of EMGPreprocessor.transform (target >= "
        f"{TARGET_RTF:g}x)",
        ["signal", "notched", "wall ms", "CPU ms", "RTF wall", "RTF CPU", "target met"],
        rows_b,
    )

    data = cases["EMG + 50 Hz"]
    x1k = resample(data, SFREQ, 1000.0)
    stages = [
        ("resample 2000 -> 1000 Hz", lambda: resample(data, SFREQ, 1000.0)),
        ("mains detection (Welch)", lambda: line_noise(x1k, 1000.0)),
        (
            "band-pass 20-450 (sosfiltfilt)",
            lambda: bandpass_filter(x1k, 1000.0, 20, 450),
        ),
        ("notch 50 Hz only", lambda: notch_filter(x1k, 1000.0, 50.0, harmonics=False)),
        (
            "notch 50 Hz + 7 harmonics",
            lambda: notch_filter(x1k, 1000.0, 50.0, max_hz=450),
        ),
        ("z-score + windows", lambda: make_windows(zscore(x1k), 1000.0, 1.0, 0.5)),
    ]
    rows_c = []
    for label, fn in stages:
        wall, cpu, _ = timed(fn, args.repeats)
        rows_c.append([label, f"{1e3 * wall:.1f}", f"{1e3 * cpu:.1f}"])
    table(
        "(c) stages on their own, 60 s x 12 ch (EMG + 50 Hz)",
        ["stage", "wall ms", "CPU ms"],
        rows_c,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
