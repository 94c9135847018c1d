"""The gesture table of docs/RESULTS.md: per-person means with bootstrap CIs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studies.gesture_table import (
    TableOptions,
    bootstrap_mean,
    build,
    person_accuracies,
)


def _unit(run, dataset, fold, target, method, k, accuracy):
    path = run / dataset / "units" / f"fold{fold}" / target / f"{method}_k{k}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    unit = {"target": target, "method": method, "k": k, "accuracy": accuracy}
    path.write_text(json.dumps(unit), encoding="utf-8")


def test_the_bootstrap_interval_holds_the_mean_and_is_reproducible():
    values = np.array([0.4, 0.5, 0.6, 0.7, 0.9])
    mean, lo, hi = bootstrap_mean(values, n_boot=1000, seed=0)
    assert mean == pytest.approx(0.62)
    assert lo < mean < hi
    assert (mean, lo, hi) == bootstrap_mean(values, n_boot=1000, seed=0)


def test_one_person_cannot_be_resampled():
    with pytest.raises(ValueError, match="at least 2 people"):
        bootstrap_mean(np.array([0.5]), n_boot=10, seed=0)


def test_the_table_pairs_people_and_skips_those_missing_a_method(tmp_path):
    run = tmp_path / "refit"
    for fold, target, tl, lda, none in [
        (0, "a", 0.60, 0.50, 0.20),
        (0, "b", 0.70, 0.70, 0.30),
        (1, "c", 0.80, 0.60, 0.40),
    ]:
        _unit(run, "myo-readings", fold, target, "tl_frozen", 1, tl)
        _unit(run, "myo-readings", fold, target, "lda_target", 1, lda)
        _unit(run, "myo-readings", fold, target, "no_adapt", 0, none)
    # A person without an LDA unit is left out of every column.
    _unit(run, "myo-readings", 1, "d", "tl_frozen", 1, 0.10)
    _unit(run, "myo-readings", 1, "d", "no_adapt", 0, 0.10)

    assert person_accuracies(run / "myo-readings", "tl_frozen", 1)["d"] == 0.10
    md = build(TableOptions(run=run, n_boot=200))
    row = next(line for line in md.splitlines() if line.startswith("| myo-readings"))
    assert row.startswith("| myo-readings (3) | 30.0 [")
    assert "| 70.0 [" in row and "| 60.0 [" in row and "| +10.0 [" in row
    assert "Pooled over the 3 people" in md
    assert "200 draws, seed 0" in md


def test_a_run_without_units_is_an_error(tmp_path):
    with pytest.raises(SystemExit, match="no dataset with finished units"):
        build(TableOptions(run=tmp_path))
