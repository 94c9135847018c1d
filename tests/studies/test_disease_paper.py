"""The disease-model protocols end to end on real data, with tiny budgets."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emgcore.datasets import load_dataset
from emgcore.disease import Budget, disease_preprocess
from studies.disease_paper import ProtocolRun, protocol_splits, run_protocol
from studies.disease_report import render_markdown, summarise


@pytest.fixture(scope="module")
def n2001_small(data_dir):
    # Three subjects, one per class: enough for leave-one-subject-out plumbing.
    return load_dataset(
        "emglab_n2001",
        data_dir,
        preprocess=disease_preprocess(),
        subjects=["A03", "C03", "M07"],
    )


@pytest.fixture(scope="module")
def emgdb(data_dir):
    return load_dataset("physionet_emgdb", data_dir, preprocess=disease_preprocess())


def test_loso_folds_hold_out_whole_subjects_and_validate_on_other_recordings(
    n2001_small,
):
    folds = protocol_splits("n2001_loso", n2001_small, seed=0, budget=Budget.tiny())
    assert sorted(f[0] for f in folds) == ["A03", "C03", "M07"]
    for subject, train, val, test in folds:
        assert set(n2001_small.subjects[test]) == {subject}
        assert subject not in set(n2001_small.subjects[np.concatenate([train, val])])
        # early stopping never sees a window of a training recording
        assert not set(n2001_small.recording_ids[train]) & set(
            n2001_small.recording_ids[val]
        )
        # the per-recording cap of the budget applies to training windows
        _, counts = np.unique(n2001_small.recording_ids[train], return_counts=True)
        assert counts.max() <= Budget.tiny().max_windows_per_recording


def test_blocked_protocol_shares_no_raw_sample_between_sets(emgdb):
    from emgcore.datasets.splits import overlapping_windows

    [(_, train, val, test)] = protocol_splits(
        "blocked", emgdb, seed=1, budget=Budget.tiny()
    )
    for a, b in ((train, test), (train, val), (val, test)):
        assert len(overlapping_windows(emgdb, a, b)) == 0


def test_paper_protocol_reports_on_its_early_stopping_set(emgdb):
    [(_, train, val, test)] = protocol_splits(
        "paper", emgdb, seed=0, budget=Budget.tiny()
    )
    assert np.array_equal(val, test)  # the leak the paper has, reproduced on purpose
    assert len(test) == pytest.approx(0.2 * len(emgdb), abs=2)


def test_runs_resume_and_summarise_into_tables(n2001_small, tmp_path):
    budget = Budget.tiny()
    run = ProtocolRun(seeds=[0], methods=["scratch", "lda"], budget=budget)
    paths = run_protocol("n2001_loso", tmp_path, run, ws=n2001_small)
    assert len(paths) == 6 and all(p.exists() for p in paths)
    record = json.loads(paths[0].read_text())
    assert record["protocol"] == "n2001_loso" and record["budget"] == budget.to_dict()
    probs = np.asarray(record["test_proba"])
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    mtimes = [p.stat().st_mtime_ns for p in paths]
    run_protocol("n2001_loso", tmp_path, run, ws=n2001_small)  # resume: nothing redone
    assert [p.stat().st_mtime_ns for p in paths] == mtimes

    summary = summarise(tmp_path, data_by_protocol={"n2001_loso": n2001_small})
    loso = summary["protocols"]["n2001_loso"]
    rec = loso["scratch"]["recording"]
    # every held-out recording is reported, right or wrong
    assert len(rec["items"]["0"]) == len(np.unique(n2001_small.recording_ids))
    assert 0.0 <= rec["summary"]["balanced_accuracy"]["mean"] <= 1.0
    assert "sensitivity_ci" in rec["report"]["per_class"]["healthy"]
    text = render_markdown(summary)
    assert "Protocol 3" in text and "classic features + LDA" in text
