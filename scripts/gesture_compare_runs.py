"""One method at one k in two inter-subject runs, paired by target.

Prints, for the targets both runs finished, the mean accuracy of each run,
the mean difference (second minus first, percentage points) and on how many
targets the second run was better. Used for "Gain augmentation during
adaptation" in the gesture section of
docs/experiments/2026-12-01-results-notebook.md:

    python scripts/gesture_compare_runs.py runs/gesture/per_subject \
        runs/gesture/augmented myo-readings tl_frozen 1
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _accuracies(run: str, dataset: str, method: str, k: int) -> dict[str, float]:
    out = {}
    for path in Path(run, dataset).glob(f"units/fold*/*/{method}_k{k}.json"):
        unit = json.loads(path.read_text(encoding="utf-8"))
        out[unit["target"]] = unit["accuracy"]
    return out


def main(first: str, second: str, dataset: str, method: str, k: str) -> int:
    a = _accuracies(first, dataset, method, int(k))
    b = _accuracies(second, dataset, method, int(k))
    both = sorted(set(a) & set(b))
    if not both:
        print(f"no {method} k={k} target in both runs for {dataset}")
        return 1
    mean_a = 100 * sum(a[t] for t in both) / len(both)
    mean_b = 100 * sum(b[t] for t in both) / len(both)
    better = sum(b[t] > a[t] for t in both)
    print(
        f"{dataset} {method} k={k}, {len(both)} targets: {mean_a:.1f} -> "
        f"{mean_b:.1f} % ({mean_b - mean_a:+.1f} points, better on "
        f"{better}/{len(both)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:6]))
