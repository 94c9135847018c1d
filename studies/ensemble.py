"""``python -m studies.ensemble --runs DIR --members A B [C ...] [--combos A,B A,C ...]``.

Late fusion of methods already run on the same splits, every choice nested.
Per split, the test probabilities are a weighted mean of the members'
probabilities, the weights (a grid of step 0.1 on the simplex) chosen by
person-level balanced accuracy of that split's VALIDATION people (each unit
stores its validation predictions; ties go to the most even mix). With
``--combos`` the ensemble also chooses, per split and again on validation
people only, WHICH of the listed member sets to use, so trying several sets
costs nothing in honesty: the test people never take part in either choice.
Writes units named ``--name`` (default ``ensemble-<combos>``) beside the
others, so studies.report tabulates them. :mod:`studies.hybrid` is the
two-member case kept for the CNN-TCN + features rows.
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

import numpy as np

from studies.hybrid import _person_ba
from studies.runner import UNIT_VERSION, load_units, write_derived_unit

STEP = 0.1


def _grid(n: int) -> list[tuple[float, ...]]:
    ticks = np.round(np.arange(0.0, 1.0 + STEP / 2, STEP), 1)
    return [w for w in itertools.product(ticks, repeat=n) if abs(sum(w) - 1) < 1e-9]


def _mix(parts: list[list[dict[str, Any]]], weights) -> list[dict[str, Any]]:
    maps = [{r["record"]: r for r in rows} for rows in parts]
    out = []
    for r in parts[0]:
        p = sum(
            w * np.asarray(m[r["record"]]["proba"])
            for w, m in zip(weights, maps, strict=True)
        )
        out.append({**r, "proba": [float(v) for v in p]})
    return out


def fuse(units: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """One fused unit from the members' units of one split."""
    if len({str(u["split"]) for u in units}) != 1:
        raise ValueError("ensemble: the members' units are of different splits.")
    if not all(u["val"] for u in units):
        raise ValueError("ensemble: every member needs its validation predictions.")
    val = [u["val"] for u in units]
    even = 1.0 / len(units)
    scores = {w: _person_ba(_mix(val, w)) for w in _grid(len(units))}
    best = max(scores.values())
    w = min(
        (w for w, s in scores.items() if s == best),
        key=lambda w: sum((x - even) ** 2 for x in w),
    )
    return {
        "version": UNIT_VERSION,
        "method": name,
        "class_names": units[0]["class_names"],
        "split": units[0]["split"],
        "info": {
            "members": [u["method"] for u in units],
            "weights": [float(x) for x in w],
            "val_person_ba": best,
        },
        "test": _mix([u["test"] for u in units], w),
        "val": _mix(val, w),
    }


def choose(candidates: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The candidate fused unit with the best validation score (first on ties)."""
    best = max(candidates, key=lambda u: u["info"]["val_person_ba"])
    return {
        **best,
        "method": name,
        "info": {
            **best["info"],
            "candidates": {
                ",".join(u["info"]["members"]): u["info"]["val_person_ba"]
                for u in candidates
            },
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--members", nargs="+", required=True)
    ap.add_argument(
        "--combos",
        nargs="+",
        default=None,
        help="member sets joined by ',' (method names may hold '+'), chosen "
        "among per split on validation",
    )
    ap.add_argument("--name", default=None)
    ap.add_argument("--protocols", nargs="+", default=["headline"])
    args = ap.parse_args(argv)
    combos = [c.split(",") for c in (args.combos or [",".join(args.members)])]
    for combo in combos:
        unknown = set(combo) - set(args.members)
        if unknown:
            raise SystemExit(f"ensemble: {sorted(unknown)} not among --members")
    name = args.name or "ensemble-" + "_".join("+".join(c) for c in combos)
    for protocol in args.protocols:
        by_method = {
            m: {
                u["split"]["name"] + str(u["split"]["seed"]): u
                for u in load_units(args.runs, protocol, m)
            }
            for m in args.members
        }
        keys = sorted(set.intersection(*(set(v) for v in by_method.values())))
        for key in keys:
            fused = [fuse([by_method[m][key] for m in c], name) for c in combos]
            unit = choose(fused, name)
            split = unit["split"]
            write_derived_unit(args.runs, protocol, unit)
            members = " + ".join(unit["info"]["members"])
            print(
                f"{protocol} seed{split['seed']}_{split['name']}: {members} "
                f"{unit['info']['weights']}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
