"""Person-level metrics, people-bootstrap intervals and the paired test."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score, roc_auc_score

from emgcore.metrics import expected_calibration_error
from studies.metrics import metric_set, paired_test, summarise


def _unit(seed, name, rows, val=()):
    return {
        "split": {
            "seed": seed,
            "name": name,
            "test": sorted({r["subject"] for r in rows}),
        },
        "test": list(rows),
        "val": list(val),
    }


def _row(subject, y, proba):
    return {"subject": subject, "y": y, "proba": list(proba), "record": subject}


def test_metric_set_matches_scikit_learn(rng) -> None:
    y = rng.integers(0, 3, 200)
    p = rng.dirichlet([1, 1, 1], 200)
    p[np.arange(200), y] += 0.3
    p /= p.sum(1, keepdims=True)
    m = metric_set(y, p)
    assert m["balanced_accuracy"] == pytest.approx(
        balanced_accuracy_score(y, p.argmax(1))
    )
    assert m["macro_f1"] == pytest.approx(f1_score(y, p.argmax(1), average="macro"))
    for k in range(3):
        assert m["auc"][k] == pytest.approx(roc_auc_score(y == k, p[:, k]))
        spec = np.mean(p.argmax(1)[y != k] != k)
        assert m["specificity"][k] == pytest.approx(spec)


def test_person_level_counts_each_person_once() -> None:
    # Person h has four records, three right; patients m, n one record each.
    rows = [_row("h", 0, [0.9, 0.05, 0.05])] * 3 + [_row("h", 0, [0.1, 0.8, 0.1])]
    rows += [_row("m", 1, [0.2, 0.7, 0.1]), _row("n", 2, [0.6, 0.1, 0.3])]
    s_rec = summarise([_unit(0, "f0", rows)], level="record", n_boot=20)
    s_per = summarise([_unit(0, "f0", rows)], level="person", n_boot=20)
    assert s_per["n_people"] == 3 and s_rec["n_rows"] == 6
    assert s_per["point"]["balanced_accuracy"] == pytest.approx(2 / 3)
    assert s_rec["point"]["sens_healthy"] == pytest.approx(0.75)


def test_bootstrap_resamples_people_and_the_interval_holds_the_point(rng) -> None:
    rows = []
    for i in range(60):
        y = i % 3
        p = np.full(3, 0.1)
        p[y if i % 4 else (y + 1) % 3] = 0.8
        rows += [_row(f"s{i}", y, p)] * (4 if y == 0 else 1)
    units = [_unit(s, "f0", rows) for s in (0, 1)]
    out = summarise(units, n_boot=200)
    lo, hi = out["ci"]["balanced_accuracy"]
    assert lo <= out["point"]["balanced_accuracy"] <= hi
    assert out["n_people"] == 60 and out["seeds"] == [0, 1]
    assert hi - lo > 0.05  # 60 people, ~75 % right: a real interval


def test_calibration_uses_validation_people_only() -> None:
    # Over-confident model: 60 % right at 0.99 confidence on val and test.
    def rows(prefix, n):
        out = []
        for i in range(n):
            y = i % 3
            pred = y if i % 5 < 3 else (y + 1) % 3
            p = np.full(3, 0.005)
            p[pred] = 0.99
            out.append(_row(f"{prefix}{i}", y, p))
        return out

    unit = _unit(0, "f0", rows("t", 60), val=rows("v", 60))
    out = summarise([unit], n_boot=20)
    assert out["point"]["ece_raw"] > 0.3
    assert out["point"]["ece_calibrated"] < out["point"]["ece_raw"] / 2
    assert out["temperatures"][0] > 1.0
    # Without validation rows there is nothing to fit: T stays 1.
    bare = summarise([_unit(0, "f0", rows("t", 60))], n_boot=20)
    assert bare["point"]["ece_calibrated"] == pytest.approx(bare["point"]["ece_raw"])


def test_paired_test_pairs_folds_and_detects_a_better_method() -> None:
    good, bad = [], []
    for seed in range(3):
        for f in range(5):
            rows_g, rows_b = [], []
            for i in range(30):
                y = i % 3
                rows_g.append(_row(f"p{i}", y, np.eye(3)[y] * 0.8 + 0.2 / 3))
                wrong = (y + 1) % 3 if (i + f + seed) % 3 else y
                rows_b.append(_row(f"p{i}", y, np.eye(3)[wrong] * 0.8 + 0.2 / 3))
            good.append(_unit(seed, f"fold{f}", rows_g))
            bad.append(_unit(seed, f"fold{f}", rows_b))
    out = paired_test(good, bad)
    assert out["n_pairs"] == 15 and out["wins_a"] == 15
    assert out["mean_difference"] > 0.5 and out["p_value"] < 0.001
    with pytest.raises(ValueError, match="different test people"):
        bad[0]["split"]["test"] = ["someone"]
        paired_test(good, bad)


def test_ece_floor_is_the_binning_noise_of_a_calibrated_model() -> None:
    from studies.metrics import ece_floor

    rng = np.random.default_rng(3)
    p = rng.dirichlet([2.0, 1.0, 1.0], size=200)
    floor = ece_floor(p, n_sims=100)
    # A calibrated model on 200 rows still shows a few points of ECE ...
    assert 0.02 < floor < 0.10
    # ... which shrinks roughly as 1/sqrt(n) with more rows.
    assert ece_floor(np.repeat(p, 16, axis=0), n_sims=20) < floor / 2.5
    # Labels that always contradict p give an ECE far above it.
    assert expected_calibration_error(p.argmin(axis=1), p) > 3 * floor
