"""Per-site standardisation: statistics from training people, or declared adaptation."""

from __future__ import annotations

import numpy as np

from studies.protocols import Split
from studies.runner import Part, run_unit
from studies.site_norm import SiteNormTable, site_stats
from studies.window_linear import WindowLinear
from tests.studies.test_window_linear import _Rec, _SpyTable


def _two_sites(n_people: int = 24) -> list[_Rec]:
    return [
        _Rec(f"r{p}_{k}", f"p{p}", p % 3, site="n2001" if p % 2 else "mendeley")
        for p in range(n_people)
        for k in range(2)
    ]


def test_site_statistics_come_from_training_people_only(tmp_path, rng) -> None:
    records = _two_sites()
    people = sorted({r.subject for r in records})
    split = Split(
        "headline",
        "fold0",
        0,
        tuple(people[:14]),
        tuple(people[14:18]),
        tuple(people[18:]),
    )
    spy = _SpyTable(records, set(split.test), rng)
    method = WindowLinear(
        configs=((1.0, 0.5),),
        c_values=(1.0,),
        tables={(1.0, 0.5): spy},
        site_norm=True,
    )
    train = Part(split.part(records, "train"), None)
    fitted = method.select_and_fit(train, Part(split.part(records, "val"), None))
    assert not set(spy.touched) & set(split.test)
    # Both sites have training people: their statistics are the training ones.
    expected = site_stats(spy, train.records)
    for site, (mean, spread) in fitted.table.stats.items():
        assert np.allclose(mean, expected[site][0])
        assert np.allclose(spread, expected[site][1])
    unit = run_unit(method, split, records, tmp_path)
    assert "sites_adapted_unlabelled" not in unit["info"]


def test_a_site_without_training_people_is_adapted_and_said(tmp_path, rng) -> None:
    records = _two_sites()
    train_people = sorted({r.subject for r in records if r.site == "mendeley"})
    test_people = sorted({r.subject for r in records if r.site == "n2001"})
    split = Split(
        "cross_site",
        "mendeley_to_n2001",
        0,
        tuple(train_people[:9]),
        tuple(train_people[9:]),
        tuple(test_people),
    )
    spy = _SpyTable(records, set(split.test), rng)
    method = WindowLinear(
        configs=((1.0, 0.5),),
        c_values=(1.0,),
        tables={(1.0, 0.5): spy},
        site_norm=True,
    )
    unit = run_unit(method, split, records, tmp_path)
    assert unit["info"]["sites_adapted_unlabelled"] == ["n2001"]


def test_rows_are_standardised_within_their_site(rng) -> None:
    records = _two_sites(6)
    spy = _SpyTable(records, set(), rng)
    table = SiteNormTable(spy, site_stats(spy, records))
    rows = np.concatenate([table.rows_for(r) for r in records if r.site == "n2001"])
    assert np.allclose(rows.mean(axis=0), 0.0, atol=1e-9)
    assert np.allclose(rows.std(axis=0), 1.0, atol=1e-6)
