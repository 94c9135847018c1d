"""The study's splits: people never cross folds, validation never meets test."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from emgcore.datasets.clinical import clinical_records
from studies.protocols import (
    PROTOCOL_SEEDS,
    Split,
    cross_site_splits,
    headline_folds,
    n2001_loso,
    people,
)
from studies.runner import Part, run_unit

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def records(data_dir: Path):
    return clinical_records(data_dir)


def test_every_person_is_tested_exactly_once_per_seed(records) -> None:
    everyone = set(people(records))
    assert len(everyone) == 208
    for seed in PROTOCOL_SEEDS["headline"]:
        folds = headline_folds(records, seed)
        assert len(folds) == 5
        tested = Counter(p for f in folds for p in f.test)
        assert set(tested) == everyone
        assert set(tested.values()) == {1}
        for f in folds:
            # train + val + test is everyone; the parts are disjoint.
            assert set(f.train) | set(f.val) | set(f.test) == everyone
            assert not set(f.val) & set(f.test)
            assert not set(f.train) & set(f.test)
            assert not set(f.train) & set(f.val)


def test_folds_are_stratified_by_site_and_class(records) -> None:
    persons = people(records)
    for f in headline_folds(records, 1):
        strata = Counter(persons[p] for p in f.test)
        # Every fold holds all six site x class strata (N2001 has >= 5 a class).
        assert len(strata) == 6
        val = Counter(persons[p] for p in f.val)
        assert len(val) == 6
        assert 38 <= len(f.test) <= 46


def test_seeds_give_different_folds_and_are_reproducible(records) -> None:
    a = headline_folds(records, 0)
    assert [s.test for s in a] == [s.test for s in headline_folds(records, 0)]
    assert [s.test for s in a] != [s.test for s in headline_folds(records, 1)]


def test_cross_site_tests_every_person_of_the_other_site(records) -> None:
    persons = people(records)
    splits = {s.name: s for s in cross_site_splits(records)}
    assert set(splits) == {"n2001_to_mendeley", "mendeley_to_n2001"}
    for name, s in splits.items():
        src, dst = name.split("_to_")
        assert {persons[p][0] for p in s.train + s.val} == {src}
        assert set(s.test) == {p for p, (site, _) in persons.items() if site == dst}


def test_n2001_loso_has_18_folds_one_person_each(records) -> None:
    splits = n2001_loso(records)
    assert len(splits) == 18
    assert sorted(p for s in splits for p in s.test) == sorted(
        p for p in people(records) if p.startswith("n2001:")
    )
    for s in splits:
        assert len(s.test) == 1
        assert all(p.startswith("n2001:") for p in s.train + s.val)
        assert s.test[0] not in s.train + s.val


def test_a_split_refuses_overlapping_people() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Split("headline", "fold0", 0, ("a", "b"), ("c",), ("b",))


class _Source:
    """Feature rows: the record's class for train/val people, a sentinel for test."""

    def __init__(self, test_people: set[str]) -> None:
        self.test_people = test_people

    def rows(self, recs):
        X = np.array(
            [[-1e9] if r.subject in self.test_people else [float(r.y)] for r in recs]
        )
        return X, ("f",)


class _SpyMethod:
    name = "spy"

    def __init__(self) -> None:
        self.seen: list[Part] = []

    def select_and_fit(self, train: Part, val: Part):
        self.seen += [train, val]
        spy = self

        class _Fitted:
            info = {"val_proba": np.full((len(val.records), 3), 1 / 3)}

            def predict_proba(self, part: Part):
                spy.predicted = part
                return np.eye(3)[part.y]

        return _Fitted()


def test_model_selection_never_receives_test_fold_data(records, tmp_path) -> None:
    split = headline_folds(records, 0)[2]
    method = _SpyMethod()
    unit = run_unit(method, split, records, tmp_path, source=_Source(set(split.test)))
    test_people = set(split.test)
    for part in method.seen:
        assert not {r.subject for r in part.records} & test_people
        assert part.X is not None and not (part.X == -1e9).any()
    # The test rows (with the sentinel) went to the fitted model only.
    assert (method.predicted.X == -1e9).all()
    assert {r["subject"] for r in unit["test"]} == test_people
    assert len(unit["val"]) == len(split.part(records, "val"))
    # Resumable: a second run reads the unit instead of fitting again.
    again = _SpyMethod()
    assert run_unit(again, split, records, tmp_path) == unit
    assert again.seen == []


def test_emgcore_never_imports_studies() -> None:
    hits = [
        str(p)
        for p in (REPO / "emgcore").rglob("*.py")
        if "import studies" in p.read_text() or "from studies" in p.read_text()
    ]
    assert hits == []
    code = (
        "import sys, emgcore, emgcore.datasets.clinical, emgcore.datasets.clinical_windows;"
        "sys.exit(1 if 'studies' in sys.modules else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO)
    assert proc.returncode == 0
