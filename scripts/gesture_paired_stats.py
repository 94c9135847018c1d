"""TL (frozen) against each other method of one inter-subject run, with a test.

For every dataset folder of a run, pairs the targets that finished both
methods at one k and prints the mean difference (percentage points), on how
many targets TL was better, and the two-sided Wilcoxon signed-rank p-value
(scipy). A last line pools the targets of every dataset. Used for
"Where TL stands against LDA" in the gesture section of
docs/experiments/2026-12-01-results-notebook.md:

    python scripts/gesture_paired_stats.py runs/gesture/refit 1
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from gesture_compare_runs import _accuracies  # the sibling script (scripts/)
from scipy.stats import wilcoxon

OTHERS = ("lda_target", "scratch", "no_adapt")


def _line(name: str, diff: np.ndarray) -> str:
    # Wilcoxon needs a few non-zero pairs; below that it says nothing useful.
    p = wilcoxon(diff).pvalue if np.count_nonzero(diff) >= 6 else float("nan")
    return (
        f"{name}: {len(diff)} targets, {diff.mean():+.1f} ± {diff.std(ddof=1):.1f} "
        f"points, TL better on {int((diff > 0).sum())}/{len(diff)}, "
        f"Wilcoxon p = {p:.3f}"
    )


def main(run: str, k: str = "1") -> int:
    k_tl = int(k)
    pooled: dict[str, list[float]] = {m: [] for m in OTHERS}
    if not Path(run).is_dir():
        print(f"{run} is not a folder: give a run folder such as runs/gesture/refit")
        return 2
    folders = sorted(p for p in Path(run).iterdir() if (p / "units").is_dir())
    if not folders:
        print(f"no dataset folder with units/ under {run}")
        return 1
    for folder in folders:
        tl = _accuracies(run, folder.name, "tl_frozen", k_tl)
        for other in OTHERS:
            acc = _accuracies(
                run, folder.name, other, 0 if other == "no_adapt" else k_tl
            )
            both = sorted(set(tl) & set(acc))
            if len(both) < 2:
                continue
            diff = 100 * np.array([tl[t] - acc[t] for t in both])
            pooled[other] += diff.tolist()
            print(_line(f"{folder.name} k={k_tl}, TL minus {other}", diff))
    for other, diffs in pooled.items():
        if len(diffs) >= 2:
            print(_line(f"all datasets k={k_tl}, TL minus {other}", np.array(diffs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
