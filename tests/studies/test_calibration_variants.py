"""Calibration variants: fitted on validation people, never on the test fold."""

from __future__ import annotations

import numpy as np
import pytest

from studies.calibration_variants import MODES, POOLS, calibrated, person_logits


def _rows(rng, n_people, prefix):
    rows = []
    for i in range(n_people):
        y = i % 3
        for k in range(2):
            p = rng.dirichlet([1.0, 1.0, 1.0]) * 0.4
            p[y] += 0.6
            rows.append(
                {
                    "subject": f"{prefix}{i}",
                    "record": f"{prefix}{i}_{k}",
                    "y": y,
                    "proba": list(p),
                }
            )
    return rows


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pool", POOLS)
def test_test_labels_never_change_the_calibration(rng, pool, mode) -> None:
    unit = {"val": _rows(rng, 30, "v"), "test": _rows(rng, 12, "t")}
    p, y = calibrated(unit, pool, mode)
    flipped = [{**r, "y": (r["y"] + 1) % 3} for r in unit["test"]]
    p2, y2 = calibrated({**unit, "test": flipped}, pool, mode)
    assert np.allclose(p, p2)
    assert not np.array_equal(y, y2)
    assert np.allclose(p.sum(axis=1), 1.0)


def test_pooling_takes_one_row_per_person(rng) -> None:
    rows = _rows(rng, 5, "p")
    for pool in POOLS:
        z, y = person_logits(rows, pool)
        assert z.shape == (5, 3) and y.tolist() == [0, 1, 2, 0, 1]
