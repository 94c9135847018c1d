"""``python -m studies.hybrid --runs DIR --a cnn-amp-4k-w12 --b classic+qemg``.

A late-fusion hybrid of two methods already run on the same splits: per split,
the test probabilities are ``w * p_a + (1 - w) * p_b``, with ``w`` in
0, 0.1, ..., 1 chosen by person-level balanced accuracy on that split's
VALIDATION people (both units store their validation predictions), ties going
to the even mix. The test people never take part in the choice. Writes units
named ``hybrid-<a>+<b>`` beside the others, so studies.report tabulates them.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from studies.metrics import metric_set
from studies.runner import UNIT_VERSION, load_units, write_derived_unit

WEIGHTS = tuple(round(w, 1) for w in np.linspace(0.0, 1.0, 11))


def _by_record(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["record"]: r for r in rows}


def _mix(rows_a, rows_b, w: float) -> list[dict[str, Any]]:
    b = _by_record(rows_b)
    out = []
    for r in rows_a:
        p = w * np.asarray(r["proba"]) + (1 - w) * np.asarray(b[r["record"]]["proba"])
        out.append({**r, "proba": [float(v) for v in p]})
    return out


def _person_ba(rows: list[dict[str, Any]]) -> float:
    by: dict[str, list] = {}
    label: dict[str, int] = {}
    for r in rows:
        by.setdefault(r["subject"], []).append(r["proba"])
        label[r["subject"]] = r["y"]
    ids = sorted(by)
    p = np.array([np.mean(by[s], axis=0) for s in ids])
    return float(metric_set(np.array([label[s] for s in ids]), p)["balanced_accuracy"])


def fuse(unit_a: dict[str, Any], unit_b: dict[str, Any], name: str) -> dict[str, Any]:
    """One hybrid unit from two units of the same split."""
    if unit_a["split"] != unit_b["split"]:
        raise ValueError("hybrid: the two units are of different splits.")
    if not unit_a["val"] or not unit_b["val"]:
        raise ValueError("hybrid: both units need their validation predictions.")
    scores = {w: _person_ba(_mix(unit_a["val"], unit_b["val"], w)) for w in WEIGHTS}
    best = max(scores.values())
    w = min((w for w, s in scores.items() if s == best), key=lambda w: abs(w - 0.5))
    return {
        "version": UNIT_VERSION,
        "method": name,
        "class_names": unit_a["class_names"],
        "split": unit_a["split"],
        "info": {
            "weight_a": w,
            "val_person_ba": {str(k): v for k, v in scores.items()},
        },
        "test": _mix(unit_a["test"], unit_b["test"], w),
        "val": _mix(unit_a["val"], unit_b["val"], w),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument(
        "--protocols", nargs="+", default=["headline", "cross_site", "n2001_loso"]
    )
    args = ap.parse_args(argv)
    name = f"hybrid-{args.a}+{args.b}"
    for protocol in args.protocols:
        a = {
            u["split"]["name"] + str(u["split"]["seed"]): u
            for u in load_units(args.runs, protocol, args.a)
        }
        b = {
            u["split"]["name"] + str(u["split"]["seed"]): u
            for u in load_units(args.runs, protocol, args.b)
        }
        for key in sorted(set(a) & set(b)):
            unit = fuse(a[key], b[key], name)
            write_derived_unit(args.runs, protocol, unit)
            print(f"{protocol} {key}: w_a = {unit['info']['weight_a']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
