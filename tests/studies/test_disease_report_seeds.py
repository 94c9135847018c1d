"""A seed whose folds are not all run yet stays out of the summary."""

from __future__ import annotations

from studies.disease_report import _complete_seeds


def _run(method: str, seed: int, fold: str) -> dict:
    return {"protocol": "n2001_loso", "method": method, "seed": seed, "fold": fold}


def test_a_seed_missing_a_fold_is_left_out_and_complete_seeds_stay():
    runs = {
        ("n2001_loso", "scratch"): [_run("scratch", 0, f) for f in ("A01", "C01")]
        + [_run("scratch", 1, "A01")],
        ("n2001_loso", "scratch-bal"): [_run("scratch-bal", 0, "A01")],
    }
    kept = _complete_seeds(runs)
    assert {int(r["seed"]) for r in kept[("n2001_loso", "scratch")]} == {0}
    assert ("n2001_loso", "scratch-bal") not in kept  # no complete seed at all
