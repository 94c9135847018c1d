"""Markdown table of the 20-100 % protocol over the subjects run so far.

Reads ``<root>/<subject>/<dataset>/percent.json`` (one file per subject, each
made by ``gesture experiment --protocol percent`` with that subject's own
leave-one-out source model) and prints mean ± sd over subjects per share of
the training pool, and TL minus scratch with the number of subjects won.

    python scripts/gesture_percent_table.py runs/gesture/percent ninapro-db1-e1
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(root: str, dataset: str) -> int:
    rows: dict[str, dict] = {}
    for path in sorted(Path(root).glob(f"*/{dataset}/percent.json")):
        for target, res in json.loads(path.read_text())["per_target"].items():
            rows[target] = res["per_percent"]
    if not rows:
        print(f"No {dataset} percent.json under {root}.", file=sys.stderr)
        return 1
    shares = list(next(iter(rows.values())))
    print(f"{len(rows)} subjects: {', '.join(sorted(rows))}\n")
    first = next(iter(rows.values()))
    print(
        "| share of pool (repetitions) | "
        + " | ".join(f"{p} % ({first[p]['k']})" for p in shares)
        + " |"
    )
    print("|---|" + "---|" * len(shares))
    for method, name in (("tl_frozen", "TL (frozen)"), ("scratch", "scratch")):
        cells = []
        for p in shares:
            acc = 100 * np.array([rows[t][p][method] for t in rows])
            cells.append(f"{acc.mean():.1f} ± {acc.std(ddof=1):.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    cells = []
    for p in shares:
        diff = 100 * np.array(
            [rows[t][p]["tl_frozen"] - rows[t][p]["scratch"] for t in rows]
        )
        cells.append(f"{diff.mean():+.1f} ({int((diff > 0).sum())}/{len(diff)})")
    print("| TL minus scratch (wins) | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
