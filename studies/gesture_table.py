"""``python -m studies.gesture_table``: the gesture table of docs/RESULTS.md.

Reads the per-person unit files of one inter-subject gesture run (default
``runs/gesture/refit``, the current defaults) and writes
``docs/results/gesture_table.md``: per dataset, the mean window accuracy over
the held-out people of no adaptation, transfer learning (conv 1-3 frozen) and
LDA on the same calibration trials, and TL minus LDA paired by person, each
with a 95 % interval from a person-resampling bootstrap. Nothing is trained.

People, not windows, are resampled: a person's windows share their
physiology and electrode placement, so only the number of people says how
sure a mean over people is.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

#: Dataset folder -> (label, what to say after the number of people), in
#: the order of the table.
DATASETS = {
    "myo-readings": ("myo-readings", ""),
    "ninapro-db1-e1": ("NinaPro DB1 E1", ", 12 finger movements"),
    "uci-emg-gestures": ("UCI EMG gestures", ""),
    "uci-semg": ("UCI sEMG", ", 2 channels"),
}


@dataclass(frozen=True)
class TableOptions:
    """What the table reads and how its intervals are drawn."""

    run: Path = ROOT / "runs/gesture/refit"
    k: int = 1
    n_boot: int = 1000
    seed: int = 0


def person_accuracies(folder: Path, method: str, k: int) -> dict[str, float]:
    """Window accuracy per held-out person of one method at ``k`` trials."""
    out = {}
    for path in sorted(folder.glob(f"units/fold*/*/{method}_k{k}.json")):
        unit = json.loads(path.read_text(encoding="utf-8"))
        out[str(unit["target"])] = float(unit["accuracy"])
    return out


def bootstrap_mean(
    values: np.ndarray, *, n_boot: int, seed: int
) -> tuple[float, float, float]:
    """Mean of per-person values and its 95 % percentile bootstrap interval.

    Every draw resamples the people with replacement. The generator is
    seeded per call, so two columns over the same people draw the same
    people in every resample.
    """
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        raise ValueError(f"need at least 2 people to resample, got {v.size}")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(v.mean()), float(lo), float(hi)


def _cell(values: np.ndarray, opts: TableOptions, signed: bool = False) -> str:
    mean, lo, hi = bootstrap_mean(100 * values, n_boot=opts.n_boot, seed=opts.seed)
    fmt = "{:+.1f}" if signed else "{:.1f}"
    return f"{fmt.format(mean)} [{fmt.format(lo)}, {fmt.format(hi)}]"


def build(opts: TableOptions) -> str:
    """The Markdown table (with how it was made) for the run in ``opts``."""
    k = opts.k
    rows = []
    pooled_diff: list[np.ndarray] = []
    for name, (label, note) in DATASETS.items():
        folder = opts.run / name
        tl = person_accuracies(folder, "tl_frozen", k)
        lda = person_accuracies(folder, "lda_target", k)
        none = person_accuracies(folder, "no_adapt", 0)
        people = sorted(set(tl) & set(lda) & set(none))
        if len(people) < 2:
            continue
        col = {
            m: np.array([d[p] for p in people])
            for m, d in (("none", none), ("tl", tl), ("lda", lda))
        }
        diff = col["tl"] - col["lda"]
        pooled_diff.append(diff)
        rows.append(
            f"| {label} ({len(people)}{note}) | {_cell(col['none'], opts)} | "
            f"{_cell(col['tl'], opts)} | {_cell(col['lda'], opts)} | "
            f"{_cell(diff, opts, signed=True)} |"
        )
    if not rows:
        raise SystemExit(f"no dataset with finished units under {opts.run}")
    every = np.concatenate(pooled_diff)
    try:
        run = opts.run.resolve().relative_to(ROOT)
    except ValueError:
        run = opts.run
    head = [
        f"Made by `python -m studies.gesture_table --run {run} --k {k}` from the "
        f"unit files. Window accuracy (%) on the held-back trials, mean over the "
        f"held-out people, with {k} calibration trial(s) per gesture; 95 % "
        f"intervals resample people ({opts.n_boot} draws, seed {opts.seed}).",
        "",
        "| dataset (people, each held out in turn) | no adaptation | "
        "transfer learning | LDA on the same trials | TL minus LDA, paired |",
        "|---|---|---|---|---|",
    ]
    foot = [
        "",
        f"Pooled over the {every.size} people of all datasets, TL minus LDA: "
        f"{_cell(every, opts, signed=True)} points.",
    ]
    return "\n".join(head + rows + foot) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = TableOptions()
    ap.add_argument("--run", type=Path, default=defaults.run)
    ap.add_argument("--k", type=int, default=defaults.k)
    ap.add_argument("--n-boot", type=int, default=defaults.n_boot)
    ap.add_argument("--seed", type=int, default=defaults.seed)
    ap.add_argument("--out", type=Path, default=ROOT / "docs/results/gesture_table.md")
    args = ap.parse_args(argv)
    opts = TableOptions(run=args.run, k=args.k, n_boot=args.n_boot, seed=args.seed)
    md = build(opts)
    args.out.write_text(md, encoding="utf-8")
    print(md, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
