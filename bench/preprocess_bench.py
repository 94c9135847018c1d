"""Preprocessing benchmark: whole-signal pipeline vs per-window loop, real-time factor.

Run with ``make bench`` (or ``.venv/bin/python bench/preprocess_bench.py``).
Prints plain-text tables; nothing is asserted. Times are the best (and the
median) of several repeats; CPU time (``time.process_time``, all threads) is
printed beside wall time because the development machine is shared: the load
average is printed with every table so readers can judge the noise. A CPU
time above the wall time means threads ran in parallel.

Signal: 60 s of 12-channel 2 kHz synthetic EMG, clean and with 50 Hz mains.
Default config: resample to 1 kHz, band-pass 20-450 Hz, notch "auto", z-score
per recording, 1 s windows with 50 % overlap. Target: >= 1000x real time.

(a) Side by side, per signal: the naive per-window loop (cut raw windows
    first, then resample, filter and z-score each window in Python; the
    approach issue 2 rules out), the whole-signal EMGPreprocessor serial
    (``n_jobs=1``) and threaded (``n_jobs=2``), each with its real-time factor
    (signal seconds / processing seconds) by wall and by CPU time. The loop
    z-scores per window, so the pipeline rows do too (same output); the RMS
    difference of the windows shows the loop's edge effects.
(b) The same for the default config (z-score per recording), the one the
    target is about.
(c) The stages on their own (serial).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emgcore.config import PreprocessConfig  # noqa: E402
from emgcore.preprocess import (  # noqa: E402
    EMGPreprocessor,
    bandpass_filter,
    line_noise,
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


def timed(fn: Callable[[], Any], repeats: int) -> dict[str, Any]:
    """Best and median wall seconds, best CPU seconds, and the last result."""
    walls, cpus = [], []
    result = None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return {
        "wall": min(walls),
        "wall_median": statistics.median(walls),
        "cpu": min(cpus),
        "result": result,
    }


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


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
        # Text columns (signal, method, notes) left, numbers right.
        cells = [
            c.rjust(w) if c[:1].isdigit() else c.ljust(w)
            for c, w in zip(r, widths, strict=True)
        ]
        print("  ".join(cells).rstrip())


def side_by_side(
    title: str,
    recs: dict[str, Recording],
    cfg: PreprocessConfig,
    repeats: int,
    *,
    with_loop: bool,
) -> None:
    """One table: per-window loop (optional), serial and threaded pipeline."""
    serial = EMGPreprocessor(cfg, n_jobs=1)
    threaded = EMGPreprocessor(cfg, n_jobs=2)
    rows = []
    for name, rec in recs.items():
        runs = {}
        if with_loop:
            runs["per-window loop"] = timed(
                lambda rec=rec: naive_per_window(rec, cfg), max(1, repeats // 3)
            )
        runs["pipeline n_jobs=1"] = timed(
            lambda rec=rec: serial.transform(rec), repeats
        )
        runs["pipeline n_jobs=2"] = timed(
            lambda rec=rec: threaded.transform(rec), repeats
        )
        ref = runs["pipeline n_jobs=1"]
        # Threads resample channel groups of another shape; BLAS may round the
        # last float32 bit differently, so "same" means equal to 1e-5.
        max_diff = float(
            np.max(
                np.abs(
                    runs["pipeline n_jobs=2"]["result"].windows - ref["result"].windows
                )
            )
        )
        for method, r in runs.items():
            if method == "per-window loop":
                n = min(len(r["result"]), ref["result"].n_windows)
                diff = r["result"][:n] - ref["result"].windows[:n]
                note = f"RMS diff vs pipeline {np.sqrt(np.mean(diff**2)):.3f} z"
            elif method == "pipeline n_jobs=2":
                note = (
                    f"windows equal to n_jobs=1 (max diff {max_diff:.1e})"
                    if max_diff <= 1e-5
                    else f"DIFFERENT (max diff {max_diff:.1e})"
                )
            else:
                line = r["result"].line_freq_hz
                note = f"notched {line:g} Hz" if line else "no notch"
            rows.append(
                [
                    name,
                    method,
                    f"{1e3 * r['wall']:.1f}",
                    f"{1e3 * r['wall_median']:.1f}",
                    f"{1e3 * r['cpu']:.1f}",
                    f"{DURATION_S / r['wall']:.0f}x",
                    f"{DURATION_S / r['cpu']:.0f}x",
                    f"{ref['wall'] / r['wall']:.2f}",
                    "yes" if DURATION_S / r["wall"] >= TARGET_RTF else "no",
                    note,
                ]
            )
    table(
        f"{title} (load average {load_average()} after)",
        [
            "signal",
            "method",
            "wall ms",
            "median",
            "CPU ms",
            "RTF wall",
            "RTF CPU",
            "speed vs n_jobs=1",
            f">= {TARGET_RTF:g}x",
            "",
        ],
        rows,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()

    print("Myolens preprocessing benchmark")
    print(
        f"signal: {DURATION_S:g} s x {N_CHANS} channels at {SFREQ:g} Hz (synthetic "
        f"EMG); python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, {os.cpu_count()} CPU(s); load average (1/5/15 min) "
        f"{load_average()} at start"
    )
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
    for n_jobs in (1, 2):  # warm-up (imports, FFT plans, filter designs, threads)
        EMGPreprocessor(n_jobs=n_jobs).transform(recs["clean EMG"])

    side_by_side(
        '(a) per-window loop vs whole-signal pipeline, zscore="window"',
        recs,
        PreprocessConfig(zscore="window"),
        args.repeats,
        with_loop=True,
    )
    side_by_side(
        "(b) real-time factor, default config (zscore per recording)",
        recs,
        PreprocessConfig(),
        args.repeats,
        with_loop=False,
    )

    data = cases["EMG + 50 Hz"]
    x1k = resample(data, SFREQ, 1000.0)
    stages = [
        (
            "resample 2000 -> 1000 Hz (scipy resample_poly, before)",
            lambda: resample_poly(data, 1, 2, axis=-1),
        ),
        (
            "resample 2000 -> 1000 Hz (emgcore, matrix products)",
            lambda: resample(data, SFREQ, 1000.0),
        ),
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
        r = timed(fn, args.repeats)
        rows_c.append([label, f"{1e3 * r['wall']:.1f}", f"{1e3 * r['cpu']:.1f}"])
    table(
        f"(c) stages on their own, serial, 60 s x 12 ch (EMG + 50 Hz) (load average "
        f"{load_average()} after)",
        ["stage", "wall ms", "CPU ms"],
        rows_c,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
