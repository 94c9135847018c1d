"""Late fusion and the tree method: every choice is made on validation people."""

from __future__ import annotations

import numpy as np

from studies.ensemble import choose, fuse
from studies.runner import Part
from studies.window_trees import WindowTrees
from tests.studies.test_window_linear import _records, spy_split


def _rows(people, labels, proba_of):
    return [
        {"record": f"{p}_r", "subject": p, "y": y, "proba": list(proba_of(y))}
        for p, y in zip(people, labels, strict=True)
    ]


def _unit(method, right: bool, test_right: bool):
    """Validation rows right or wrong as asked; test rows likewise."""
    people = [f"p{i}" for i in range(12)]
    labels = [i % 3 for i in range(12)]

    def sure(ok):
        return lambda y: np.eye(3)[y if ok else (y + 1) % 3] * 0.8 + 0.2 / 3

    split = {"seed": 0, "name": "fold0", "test": people}
    return {
        "method": method,
        "class_names": ["healthy", "myopathy", "neuropathy"],
        "split": split,
        "val": _rows(people, labels, sure(right)),
        "test": _rows(people, labels, sure(test_right)),
    }


def test_weights_follow_validation_people_not_test_people() -> None:
    # a is right on validation and wrong on test; b the other way round.
    a = _unit("a", right=True, test_right=False)
    b = _unit("b", right=False, test_right=True)
    fused = fuse([a, b], "ens")
    assert fused["info"]["weights"][0] > fused["info"]["weights"][1]
    # Swapping the test rows' quality leaves the choice unchanged.
    a2 = _unit("a", right=True, test_right=True)
    b2 = _unit("b", right=False, test_right=False)
    assert fuse([a2, b2], "ens")["info"]["weights"] == fused["info"]["weights"]


def test_the_member_set_is_chosen_on_validation_scores() -> None:
    good = fuse([_unit("a", True, False)], "x")
    bad = fuse([_unit("b", False, True)], "x")
    chosen = choose([bad, good], "ens")
    assert chosen["info"]["members"] == ["a"]
    assert chosen["method"] == "ens"
    assert set(chosen["info"]["candidates"]) == {"a", "b"}


def test_trees_read_no_window_of_a_test_person(rng) -> None:
    records = _records(n_people=60, recs_each=2)
    split, good, noise = spy_split(records, 36, 12, rng)
    method = WindowTrees(
        configs=((1.0, 0.5), (2.0, 0.5)),
        tables={(1.0, 0.5): noise, (2.0, 0.5): good},
    )
    fitted = method.select_and_fit(
        Part(split.part(records, "train"), None), Part(split.part(records, "val"), None)
    )
    for table in (good, noise):
        assert not set(table.touched) & set(split.test)
    assert fitted.info["window_s"] == 2.0
