"""Tests for emgcore.metrics on small hand-checkable examples."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emgcore import metrics as M

NAMES = ["healthy", "myopathy", "neuropathy"]


def _one_hot_proba(pred, n_classes=3, p_top=0.8):
    pred = np.asarray(pred)
    p = np.full((pred.size, n_classes), (1 - p_top) / (n_classes - 1))
    p[np.arange(pred.size), pred] = p_top
    return p


def test_perfect_predictions_score_one_everywhere_and_zero_ece():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    proba = np.eye(3)[y]
    rep = M.classification_report(y, proba, NAMES)
    assert rep["accuracy"] == 1.0 and rep["balanced_accuracy"] == 1.0
    for name in NAMES:
        for m in ("precision", "sensitivity", "specificity", "f1", "auc"):
            assert rep["per_class"][name][m] == 1.0
    assert rep["macro_avg"]["f1"] == 1.0 and rep["weighted_avg"]["sensitivity"] == 1.0
    assert rep["confusion_matrix"] == [[2, 0, 0], [0, 2, 0], [0, 0, 3]]
    assert M.expected_calibration_error(y, proba) == 0.0


def test_known_confusion_matrix_gives_known_sensitivity_and_specificity():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    pred = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 0])
    rep = M.classification_report(y, _one_hot_proba(pred), NAMES)
    assert rep["confusion_matrix"] == [[3, 1, 0], [0, 2, 1], [1, 0, 2]]
    h, my = rep["per_class"]["healthy"], rep["per_class"]["myopathy"]
    assert h["sensitivity"] == pytest.approx(3 / 4)
    assert h["specificity"] == pytest.approx(5 / 6)  # TN 5, FP 1
    assert h["precision"] == pytest.approx(3 / 4)
    assert h["support"] == 4
    assert my["sensitivity"] == pytest.approx(2 / 3)
    assert my["specificity"] == pytest.approx(6 / 7)
    assert my["f1"] == pytest.approx(2 / 3)
    assert rep["accuracy"] == pytest.approx(0.7)
    assert rep["balanced_accuracy"] == pytest.approx((3 / 4 + 2 / 3 + 2 / 3) / 3)
    assert rep["weighted_avg"]["sensitivity"] == pytest.approx(0.7)


def test_report_agrees_with_scikit_learn(rng):
    from sklearn import metrics as skm

    y = rng.integers(0, 3, 300)
    logits = rng.standard_normal((300, 3)) + 1.5 * np.eye(3)[y]
    proba = M.apply_temperature(logits, 1.0)
    rep = M.classification_report(y, proba, NAMES)
    pred = proba.argmax(1)
    prec, rec, f1, sup = skm.precision_recall_fscore_support(y, pred)
    for k, name in enumerate(NAMES):
        pc = rep["per_class"][name]
        assert pc["precision"] == pytest.approx(prec[k])
        assert pc["sensitivity"] == pytest.approx(rec[k])
        assert pc["f1"] == pytest.approx(f1[k])
        assert pc["auc"] == pytest.approx(skm.roc_auc_score(y == k, proba[:, k]))
    assert rep["balanced_accuracy"] == pytest.approx(
        skm.balanced_accuracy_score(y, pred)
    )
    assert rep["weighted_avg"]["f1"] == pytest.approx(
        skm.f1_score(y, pred, average="weighted")
    )
    assert rep["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()


def test_absent_class_has_no_auc_or_sensitivity_and_report_is_json():
    y = np.array([0, 0, 1, 1])
    proba = _one_hot_proba([0, 1, 1, 2])
    rep = M.classification_report(y, proba, NAMES)
    neuro = rep["per_class"]["neuropathy"]
    assert neuro["auc"] is None and neuro["sensitivity"] is None
    assert neuro["support"] == 0 and neuro["precision"] == 0.0
    assert rep["balanced_accuracy"] == pytest.approx(0.5)  # (1/2 + 1/2) / 2
    json.dumps(rep, allow_nan=False)


def test_it_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="one label per row"):
        M.classification_report([0, 1], np.eye(3), NAMES)
    with pytest.raises(ValueError, match="0..2"):
        M.classification_report([0, 1, 5], np.eye(3), NAMES)
    with pytest.raises(ValueError, match="class names"):
        M.classification_report([0, 1, 1], np.eye(3), NAMES[:2])


def test_reliability_curve_bins_and_ece_of_a_known_case():
    # 10 predictions at 0.9 confidence of which 6 correct: ECE = |0.6 - 0.9| = 0.3
    y = np.array([0] * 6 + [1] * 4)
    proba = np.tile([0.9, 0.1], (10, 1))
    curve = M.reliability_curve(y, proba, n_bins=10)
    assert curve["counts"][8] == 10 and sum(curve["counts"]) == 10
    assert curve["confidence"][8] == pytest.approx(0.9)
    assert curve["accuracy"][8] == pytest.approx(0.6)
    assert curve["accuracy"][0] is None
    assert M.expected_calibration_error(y, proba) == pytest.approx(0.3)
    json.dumps(curve)


def test_temperature_recovers_a_known_scale(rng):
    n = 20000
    z = 1.5 * rng.standard_normal((n, 3))
    p_true = M.apply_temperature(z, 1.0)
    u = rng.random(n)[:, None]
    y = np.minimum((u > np.cumsum(p_true, axis=1)).sum(axis=1), 2)  # y ~ p_true
    t = M.fit_temperature(3.0 * z, y)  # over-confident logits, 3x too large
    assert t == pytest.approx(3.0, rel=0.07)
    calibrated = M.apply_temperature(3.0 * z, t)
    before = M.expected_calibration_error(y, M.apply_temperature(3.0 * z, 1.0))
    assert M.expected_calibration_error(y, calibrated) < before / 3
    np.testing.assert_array_equal(calibrated.argmax(1), z.argmax(1))


def test_apply_temperature_rejects_non_positive_temperature():
    with pytest.raises(ValueError, match="temperature"):
        M.apply_temperature(np.zeros((2, 3)), 0.0)


def _noisy_classifier(rng, n, acc=0.8):
    y = rng.integers(0, 2, n)
    correct = rng.random(n) < acc
    pred = np.where(correct, y, 1 - y)
    return y, _one_hot_proba(pred, n_classes=2, p_top=0.7)


def _accuracy(y, p):
    return float(np.mean(p.argmax(1) == y))


def test_bootstrap_ci_contains_the_estimate_and_narrows_with_more_data(rng):
    y, p = _noisy_classifier(rng, 100)
    small = M.bootstrap_ci(y, p, _accuracy, n_boot=500, seed=1)
    y2, p2 = _noisy_classifier(rng, 2500)
    large = M.bootstrap_ci(y2, p2, _accuracy, n_boot=500, seed=1)
    assert small[0] <= _accuracy(y, p) <= small[1]
    assert large[0] <= _accuracy(y2, p2) <= large[1]
    assert (large[1] - large[0]) < (small[1] - small[0]) / 3
    assert M.bootstrap_ci(y, p, _accuracy, n_boot=500, seed=1) == small  # seeded


def test_group_bootstrap_resamples_whole_groups():
    sizes = [3, 5, 7, 11]
    groups = np.repeat(np.arange(4), sizes)
    n = groups.size
    ids = np.arange(n)
    # Encode each sample's index in its probabilities to recover it later.
    p = np.column_stack([ids / 100.0, 1 - ids / 100.0])
    y = np.zeros(n, dtype=int)
    seen = []

    def check(y_b, p_b):
        idx = np.rint(p_b[:, 0] * 100).astype(int)
        counts = np.bincount(groups[idx], minlength=4)
        members = np.bincount(idx, minlength=n)
        for g, size in enumerate(sizes):
            assert counts[g] % size == 0
            # every window of a picked group comes along, equally often
            assert np.unique(members[groups == g]).size == 1
        seen.append(len(idx))
        return 0.0

    M.bootstrap_ci(y, p, check, n_boot=50, seed=3, groups=groups)
    assert len(set(seen)) > 1  # the resample size varies with the groups drawn


def test_group_bootstrap_is_wider_when_windows_of_a_recording_agree(rng):
    # 20 recordings x 50 windows; whole recordings are right or wrong.
    groups = np.repeat(np.arange(20), 50)
    right = np.repeat(rng.random(20) < 0.7, 50)
    y = np.zeros(groups.size, dtype=int)
    p = _one_hot_proba(np.where(right, 0, 1), n_classes=2)
    by_window = M.bootstrap_ci(y, p, _accuracy, n_boot=300, seed=0)
    by_group = M.bootstrap_ci(y, p, _accuracy, n_boot=300, seed=0, groups=groups)
    assert (by_group[1] - by_group[0]) > 3 * (by_window[1] - by_window[0])


def test_report_with_ci_adds_intervals_around_every_metric(rng):
    y = rng.integers(0, 3, 200)
    logits = rng.standard_normal((200, 3)) + 2.0 * np.eye(3)[y]
    proba = M.apply_temperature(logits, 1.0)
    groups = np.repeat(np.arange(40), 5)
    rep = M.report_with_ci(y, proba, NAMES, n_boot=200, seed=0, groups=groups)
    for name in NAMES:
        pc = rep["per_class"][name]
        for m in ("precision", "sensitivity", "specificity", "f1", "auc"):
            lo, hi = pc[f"{m}_ci"]
            assert lo <= pc[m] <= hi
    lo, hi = rep["accuracy_ci"]
    assert lo <= rep["accuracy"] <= hi and hi - lo < 0.3
    assert rep["balanced_accuracy_ci"][0] <= rep["balanced_accuracy"]
    assert rep["ci"]["resampled_unit"] == "group" and rep["ci"]["n_units"] == 40
    json.dumps(rep, allow_nan=False)


def test_aggregate_by_group_averages_window_probabilities():
    proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.4, 0.6]])
    groups = np.array(["b", "b", "a", "a"])
    ids, agg = M.aggregate_by_group(proba, groups)
    assert ids.tolist() == ["a", "b"]
    np.testing.assert_allclose(agg, [[0.3, 0.7], [0.7, 0.3]])
    _, geo = M.aggregate_by_group(proba, groups, method="log_mean")
    g = np.sqrt(np.array([0.9 * 0.5, 0.1 * 0.5]))
    np.testing.assert_allclose(geo[1], g / g.sum())
    with pytest.raises(ValueError, match="Allowed values"):
        M.aggregate_by_group(proba, groups, method="max")


def test_labels_by_group_checks_each_group_has_one_label():
    ids, labels = M.labels_by_group([1, 1, 0], ["r2", "r2", "r1"])
    assert ids.tolist() == ["r1", "r2"] and labels.tolist() == [0, 1]
    with pytest.raises(ValueError, match="different labels"):
        M.labels_by_group([1, 0], ["r1", "r1"])
