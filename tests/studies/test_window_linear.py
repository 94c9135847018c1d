"""The shipped method: selection on validation people only, weights, the torch copy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from studies.protocols import Split
from studies.runner import Part, run_unit
from studies.window_linear import WindowLinear, WindowTable, _stack


@dataclass(frozen=True)
class _Rec:
    record: str
    subject: str
    y: int
    site: str = "mendeley"
    muscle: str = "biceps brachii"

    @property
    def label(self) -> str:
        return ("healthy", "myopathy", "neuropathy")[self.y]


def _records(n_people: int = 30, recs_each: int = 2) -> list[_Rec]:
    return [
        _Rec(f"r{p}_{k}", f"p{p}", p % 3)
        for p in range(n_people)
        for k in range(recs_each)
    ]


class _SpyTable(WindowTable):
    """Window rows that carry the class (train/val) or a sentinel (test)."""

    def __init__(self, records, test_people, rng, informative: bool = True):
        rows, ids = [], []
        for r in records:
            for _ in range(5):
                if r.subject in test_people:
                    rows.append(np.full(4, -1e6))
                else:
                    centre = r.y if informative else 0
                    rows.append(rng.normal(centre, 0.3, 4))
                ids.append(r.record)
        super().__init__(1.0, 0.5, np.array(rows), np.array(ids))
        self.test_people = test_people
        self.touched: list[str] = []
        self.subject_of = {r.record: r.subject for r in records}

    def rows_of(self, record: str):
        self.touched.append(self.subject_of[record])
        return super().rows_of(record)


def spy_split(records, n_train: int, n_val: int, rng):
    """A split of ``records``' people and two spy tables (informative, noise)."""
    people = sorted({r.subject for r in records})
    split = Split(
        "headline",
        "fold0",
        0,
        tuple(people[:n_train]),
        tuple(people[n_train : n_train + n_val]),
        tuple(people[n_train + n_val :]),
    )
    good = _SpyTable(records, set(split.test), rng)
    noise = _SpyTable(records, set(split.test), rng, informative=False)
    return split, good, noise


def test_selection_reads_no_window_of_a_test_person(tmp_path, rng) -> None:
    records = _records()
    split, good, noise = spy_split(records, 18, 6, rng)
    method = WindowLinear(
        configs=((1.0, 0.5), (2.0, 0.5)),
        c_values=(1.0,),
        tables={(1.0, 0.5): noise, (2.0, 0.5): good},
    )
    fitted = method.select_and_fit(
        Part(split.part(records, "train"), None), Part(split.part(records, "val"), None)
    )
    for table in (good, noise):
        assert not set(table.touched) & set(split.test)
    # Validation people chose the informative configuration.
    assert fitted.info["window_s"] == 2.0
    # Through the runner, only the fitted model meets the test people.
    unit = run_unit(method, split, records, tmp_path)
    assert {r["subject"] for r in unit["test"]} == set(split.test)
    assert set(good.touched) & set(split.test)


def test_every_person_and_every_class_weighs_the_same(rng) -> None:
    # p0 has 3 records, the others 1; class 0 has 2 people, classes 1-2 one.
    records = [
        _Rec("a", "p0", 0),
        _Rec("b", "p0", 0),
        _Rec("c", "p0", 0),
        _Rec("d", "p1", 0),
        _Rec("e", "p2", 1),
        _Rec("f", "p3", 2),
    ]
    table = _SpyTable(records, set(), rng)
    _, y, w, slices = _stack(table, Part(records, None), "person")
    per_person = {r.subject: 0.0 for r in records}
    for r, s in zip(records, slices, strict=True):
        per_person[r.subject] += w[s].sum()
    per_class = [w[y == c].sum() for c in range(3)]
    assert per_class == pytest.approx([per_class[0]] * 3)
    assert per_person["p0"] == pytest.approx(per_person["p1"])
    _, y, w, _ = _stack(table, Part(records, None), "record")
    assert [w[y == c].sum() for c in range(3)] == pytest.approx([w[y == 0].sum()] * 3)
