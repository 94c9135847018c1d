"""CNN-TCN speed: inference windows/s beside the machine's FLOP/s bound, and
the time of one training step.

Run with ``.venv/bin/python bench/model_bench.py`` (``--device cuda`` on a GPU,
``--json`` for a machine-readable line). Nothing is asserted.

Measured in the same run, on the same device and thread count:

(a) the bound: achieved float32 FLOP/s of a dense square matmul (``--matmul-n``),
    the best a well-tuned kernel reaches on this machine;
(b) the model's FLOPs per window, counted with
    :class:`torch.utils.flop_counter.FlopCounterMode` (2 FLOPs per multiply-add
    of convolutions and linear layers; batch norm, ReLU and pooling not counted);
(c) forward-only (eval, ``torch.inference_mode``) windows/s at batch 1 and 64,
    and the achieved FLOP/s at batch 64 as a fraction of (a) (target >= 50 %);
(d) one training step (forward, backward, Adam) on a batch of 32 windows.

Times are the median of ``--repeats`` timed runs after warm-up; the
development machine is shared (2 cores), so the load average is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emgcore.models import CnnTcn, count_parameters  # noqa: E402
from emgcore.train import set_seeds  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_time(
    fn: Callable[[], Any], device: torch.device, *, repeats: int, min_time_s: float
) -> float:
    """Median seconds per call; each repeat loops until ``min_time_s`` has passed."""
    fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            _sync(device)
            elapsed = time.perf_counter() - t0
            if elapsed >= min_time_s:
                break
        times.append(elapsed / n)
    return statistics.median(times)


def matmul_flops(n: int, device: torch.device, **kw: Any) -> float:
    """Achieved float32 FLOP/s of an (n, n) @ (n, n) matmul."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    t = _median_time(lambda: a @ b, device, **kw)
    return 2.0 * n**3 / t


def model_flops(model: torch.nn.Module, x: torch.Tensor, *, backward: bool) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        out = model(x)
        if backward:
            out.sum().backward()
    return int(counter.get_total_flops())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-chans", type=int, default=12)
    parser.add_argument("--n-times", type=int, default=1000)
    parser.add_argument("--matmul-n", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.5, help="s per repeat")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: as is)"
    )
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args(argv)

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    kw = {"repeats": args.repeats, "min_time_s": args.min_time}
    set_seeds(0)
    model = CnnTcn(
        n_chans=args.n_chans, n_times=args.n_times, n_outputs=3, sfreq=1000.0
    ).to(device)
    shape = (args.n_chans, args.n_times)

    bound = matmul_flops(args.matmul_n, device, **kw)

    model.eval()
    x1 = torch.randn(1, *shape, device=device)
    flops_per_window = model_flops(model, x1, backward=False)
    results: dict[str, Any] = {
        "device": str(device),
        "device_name": (
            torch.cuda.get_device_name(device)
            if device.type == "cuda"
            else platform.processor() or platform.machine()
        ),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "loadavg_1min": os.getloadavg()[0],
        "n_parameters": count_parameters(model),
        "input_shape": list(shape),
        "matmul_n": args.matmul_n,
        "bound_gflops": bound / 1e9,
        "model_gflop_per_window": flops_per_window / 1e9,
    }
    with torch.inference_mode():
        for batch in (1, 64):
            xb = torch.randn(batch, *shape, device=device)
            t = _median_time(lambda xb=xb: model(xb), device, **kw)
            wps = batch / t
            results[f"infer_b{batch}_ms"] = t * 1e3
            results[f"infer_b{batch}_windows_per_s"] = wps
            results[f"infer_b{batch}_gflops"] = wps * flops_per_window / 1e9
            results[f"infer_b{batch}_fraction_of_bound"] = (
                wps * flops_per_window / bound
            )

    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    x32 = torch.randn(32, *shape, device=device)
    y32 = torch.randint(0, 3, (32,), device=device)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x32), y32).backward()
        opt.step()

    train_flops = model_flops(model, x32, backward=True)
    model.zero_grad(set_to_none=True)
    t_step = _median_time(step, device, **kw)
    results.update(
        train_step_b32_ms=t_step * 1e3,
        train_b32_gflop_per_step=train_flops / 1e9,
        train_step_fraction_of_bound=train_flops / t_step / bound,
    )
    results["loadavg_1min_end"] = os.getloadavg()[0]
    # CPU seconds per wall second this process got; the ideal is "threads".
    results["cpu_per_wall"] = (time.process_time() - cpu0) / (
        time.perf_counter() - wall0
    )

    r = results
    print(
        f"device {r['device']} ({r['device_name']}), torch {r['torch']}, "
        f"{r['threads']} threads, load avg {r['loadavg_1min']:.2f} -> "
        f"{r['loadavg_1min_end']:.2f}; this process got {r['cpu_per_wall']:.2f} "
        "CPU s per wall s"
    )
    print(
        f"CnnTcn {r['n_parameters']:,} parameters, input {tuple(shape)}, "
        f"{r['model_gflop_per_window']:.4f} GFLOP per window (forward)"
    )
    print(f"bound: float32 matmul {args.matmul_n}^2: {r['bound_gflops']:.1f} GFLOP/s")
    for batch in (1, 64):
        print(
            f"inference batch {batch:>2}: {r[f'infer_b{batch}_ms']:8.2f} ms/batch "
            f"{r[f'infer_b{batch}_windows_per_s']:9.1f} windows/s "
            f"{r[f'infer_b{batch}_gflops']:7.1f} GFLOP/s "
            f"= {100 * r[f'infer_b{batch}_fraction_of_bound']:5.1f} % of bound"
        )
    print(
        f"training step batch 32: {r['train_step_b32_ms']:.1f} ms "
        f"({r['train_b32_gflop_per_step']:.2f} GFLOP fwd+bwd, "
        f"{100 * r['train_step_fraction_of_bound']:.1f} % of bound)"
    )
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
