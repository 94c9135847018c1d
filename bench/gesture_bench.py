"""Gesture adaptation benchmark: wall time of one k=1 adaptation, and windows/s.

Run with ``.venv/bin/python bench/gesture_bench.py`` (``--json`` for one
machine-readable line). Nothing is asserted. Needs the real data
(``$EMG_DATA_DIR``) and a pretrained checkpoint (default: the shipped
``models/gesture/allconvnet-myo-readings.pt``).

Measured in one run, on this CPU, with ``--threads`` torch threads:

(a) adaptation wall time for one held-out subject of the checkpoint with k = 1
    trial per gesture (TL, conv 1-3 frozen, as ``gesture adapt`` does it, with
    its default gain augmentation and refit on the whole trials), including
    windowing and the before/after evaluation, and the training part alone;
    then the same adaptation without the refit, and without refit or
    augmentation (the earlier recipe), each with its time ratio;
(b) forward-only windows/s of the adapted model at batch 1 (one window at a
    time, as a live decoder would run it), median of ``--repeats`` runs of
    ``--n-windows`` windows, beside the real-time requirement: a new window
    every ``step_s`` (50 ms) needs 1 / step_s = 20 windows/s, whatever the
    sampling rate; the ratio is the head-room.

CPU time (``time.process_time``) is printed beside wall time because the
development machine is shared (2 cores) and wall time depends on load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emgcore.gesture.api import adapt_to_subject, load_gesture_checkpoint  # noqa: E402
from emgcore.gesture.core import AdaptOptions  # noqa: E402
from emgcore.gesture.data import subject_files  # noqa: E402
from emgcore.models import count_parameters  # noqa: E402

DEFAULT_CKPT = Path(__file__).resolve().parent.parent / (
    "models/gesture/allconvnet-myo-readings.pt"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(DEFAULT_CKPT))
    ap.add_argument("--subject", default=None, help="default: first held-out subject")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--step-s", type=float, default=0.05, help="live decoder step")
    ap.add_argument("--n-windows", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    source, meta, scaler, spec = load_gesture_checkpoint(args.model)
    subject = args.subject or meta["train"]["heldout_subjects"][0]
    files = subject_files(spec, subject, args.data_dir)

    t0, c0 = time.perf_counter(), time.process_time()
    model, _, report = adapt_to_subject(args.model, files, k=1, seed=0)
    adapt_wall, adapt_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    _, _, no_refit = adapt_to_subject(
        args.model, files, AdaptOptions(refit=False), k=1, seed=0
    )
    no_refit_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, _, plain = adapt_to_subject(
        args.model, files, AdaptOptions(augment=None, refit=False), k=1, seed=0
    )
    plain_wall = time.perf_counter() - t0

    model.eval()
    x = torch.randn(1, 1, model.n_chans, spec.window)
    with torch.inference_mode():
        for _ in range(20):
            model(x)
        rates = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            for _ in range(args.n_windows):
                model(x)
            rates.append(args.n_windows / (time.perf_counter() - t))
    wps = statistics.median(rates)
    needed = 1.0 / args.step_s
    res = {
        "checkpoint": Path(args.model).name,
        "dataset": spec.name,
        "subject": subject,
        "k": 1,
        "method": report["method"],
        "n_parameters": count_parameters(model),
        "image": [1, model.n_chans, spec.window],
        "sfreq_hz": spec.sfreq,
        "adapt_wall_s": round(adapt_wall, 2),
        "adapt_cpu_s": round(adapt_cpu, 2),
        "adapt_train_s": report["train"]["train_s"],
        "adapt_epochs": report["train"]["epochs_run"],
        "adapt_windows": report["train"]["n_train_windows"],
        "refit_train_s": report["train"]["refit"]["train_s"],
        "refit_epochs": report["train"]["refit"]["epochs"],
        "refit_windows": report["train"]["refit"]["n_train_windows"],
        "accuracy_before": round(report["accuracy_before"], 4),
        "accuracy_after": round(report["accuracy_after"], 4),
        "augment": report["train"]["augment"],
        "no_refit_adapt_wall_s": round(no_refit_wall, 2),
        "no_refit_accuracy_after": round(no_refit["accuracy_after"], 4),
        "full_vs_no_refit_time": round(adapt_wall / no_refit_wall, 2),
        "plain_adapt_wall_s": round(plain_wall, 2),
        "plain_adapt_windows": plain["train"]["n_train_windows"],
        "plain_accuracy_after": round(plain["accuracy_after"], 4),
        "full_vs_plain_time": round(adapt_wall / plain_wall, 2),
        "windows_per_s_batch1": round(wps, 1),
        "realtime_windows_per_s": needed,
        "realtime_ratio": round(wps / needed, 1),
        "threads": args.threads,
        "cpu": platform.processor() or platform.machine(),
        "loadavg": [round(v, 2) for v in os.getloadavg()],
        "torch": torch.__version__,
    }
    if args.json:
        print(json.dumps(res))
        return 0
    print(
        f"gesture adaptation benchmark ({res['checkpoint']}, {spec.name}, "
        f"subject {subject}, {args.threads} thread(s), load {res['loadavg']})"
    )
    print(
        f"  model: All-ConvNet {res['n_parameters']:,} parameters, image "
        f"{model.n_chans}x{spec.window} ({spec.window_s * 1000:.0f} ms at "
        f"{spec.sfreq:g} Hz)"
    )
    print(
        f"  (a) adapt k=1 (TL, conv 1-3 frozen): {res['adapt_wall_s']} s wall, "
        f"{res['adapt_cpu_s']} s CPU; training {res['adapt_train_s']} s for "
        f"{res['adapt_epochs']} epochs on {res['adapt_windows']} windows, then the "
        f"refit {res['refit_train_s']} s for {res['refit_epochs']} epochs on "
        f"{res['refit_windows']} windows; accuracy "
        f"{res['accuracy_before']:.3f} -> {res['accuracy_after']:.3f}"
    )
    print(
        f"      without the refit: {res['no_refit_adapt_wall_s']} s wall, accuracy "
        f"-> {res['no_refit_accuracy_after']:.3f}; full / no refit time "
        f"{res['full_vs_no_refit_time']}x"
    )
    print(
        f"      without refit or gain augmentation: {res['plain_adapt_wall_s']} s "
        f"wall on {res['plain_adapt_windows']} windows, accuracy -> "
        f"{res['plain_accuracy_after']:.3f}; full / plain time "
        f"{res['full_vs_plain_time']}x"
    )
    print(
        f"  (b) inference batch 1: {res['windows_per_s_batch1']} windows/s; real "
        f"time needs {needed:g} windows/s (a {spec.window_s * 1000:.0f} ms window "
        f"every {args.step_s * 1000:.0f} ms) -> {res['realtime_ratio']}x real time"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
