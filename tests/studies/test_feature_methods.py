"""Feature tables, the sklearn methods, the late-fusion hybrid and the report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from studies import hybrid, report
from studies.feature_methods import (
    SklearnMethod,
    TableSource,
    classic_names,
    classic_rows,
)
from studies.runner import Part


def test_classic_rows_give_one_row_of_every_named_feature_per_record() -> None:
    rng = np.random.default_rng(0)
    big = rng.normal(0, 300, (4, 1, 2000))  # uV: large units
    small = rng.normal(0, 30, (3, 1, 2000))
    ws = SimpleNamespace(
        X=np.concatenate([big, small]),
        recording_ids=np.array(["r1"] * 4 + ["r2"] * 3),
        sfreq=4000.0,
    )
    rows = classic_rows(ws)
    names = classic_names()
    assert set(rows) == {"r1", "r2"} and all(
        len(v) == len(names) for v in rows.values()
    )
    mav = names.index("MAV_p50")
    # log10 of the amplitude: ten times the amplitude is one unit more.
    assert rows["r1"][mav] - rows["r2"][mav] == pytest.approx(1.0, abs=0.05)
    assert rows["r1"][names.index("TURNS_p50")] > rows["r2"][names.index("TURNS_p50")]


@dataclass
class _Rec:
    record: str
    subject: str
    y: int
    site: str = "s"
    muscle: str = "biceps brachii"
    label: str = ""


def _parts(seed: int = 0):
    """Table 'good' carries the class, table 'noise' does not."""
    rng = np.random.default_rng(seed)

    def part(n, tag):
        recs = [_Rec(f"{tag}{i}", f"{tag}p{i}", i % 3) for i in range(n)]
        good = {r.record: np.array([r.y + rng.normal(0, 0.1)]) for r in recs}
        noise = {r.record: rng.normal(0, 1, 3) for r in recs}
        src = TableSource([(good, ("g",)), (noise, ("a", "b", "c"))], ("good", "noise"))
        X, names = src.rows(recs)
        return Part(recs, X, names)

    return part(60, "t"), part(30, "v")


def test_the_method_chooses_the_informative_feature_set_on_validation_people() -> None:
    train, val = _parts()
    method = SklearnMethod(
        "auto", only=("lda",), feature_sets={"noise": ("noise",), "good": ("good",)}
    )
    fitted = method.select_and_fit(train, val)
    assert fitted.info["chosen"] == "good / lda"
    assert fitted.info["val_person_ba"]["good / lda"] > 0.9
    assert fitted.info["val_person_ba"]["noise / lda"] < 0.7
    assert fitted.info["n_features"] == 1
    assert len(fitted.info["val_proba"]) == len(val.records)
    _, test = _parts(seed=1)
    proba = fitted.predict_proba(test)
    assert proba.shape == (30, 3) and (proba.argmax(1) == test.y).mean() > 0.9


def _unit(name: str, split: dict, val_good: bool, test_good: bool) -> dict:
    def rows(prefix, good):
        out = []
        for i in range(9):
            y = i % 3
            p = np.full(3, 0.1)
            p[y if good else (y + 1) % 3] = 0.8
            out.append(
                {
                    "record": f"{prefix}{i}",
                    "subject": f"{prefix}{i}",
                    "site": "n2001" if i < 3 else "mendeley",
                    "muscle": "deltoid",
                    "label": "",
                    "y": y,
                    "proba": p.tolist(),
                }
            )
        return out

    return {
        "version": 1,
        "method": name,
        "class_names": ["h", "m", "n"],
        "split": split,
        "info": {},
        "test": rows("t", test_good),
        "val": rows("v", val_good),
    }


def test_the_hybrid_weight_is_chosen_on_validation_people_only() -> None:
    split = {"protocol": "headline", "name": "fold0", "seed": 0}
    # A is right on validation and wrong on test; the weight must still favour A.
    a = _unit("a", split, val_good=True, test_good=False)
    b = _unit("b", split, val_good=False, test_good=True)
    fused = hybrid.fuse(a, b, "hybrid-a+b")
    assert fused["info"]["weight_a"] > 0.5
    first = fused["test"][0]
    w = fused["info"]["weight_a"]
    assert first["proba"] == pytest.approx(
        w * np.array(a["test"][0]["proba"]) + (1 - w) * np.array(b["test"][0]["proba"])
    )
    with pytest.raises(ValueError, match="different splits"):
        hybrid.fuse(a, _unit("b", {**split, "name": "fold1"}, True, True), "x")


def test_the_report_tabulates_every_method_with_intervals(tmp_path) -> None:
    for method, good in (("classic", True), ("qemg", False)):
        for k in range(2):
            split = {
                "protocol": "headline",
                "name": f"fold{k}",
                "seed": 0,
                "train": [],
                "val": [],
                "test": [f"t{k}"],
            }
            unit = _unit(method, split, True, good)
            path = tmp_path / "headline" / method / f"seed0_fold{k}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(unit))
    data, md = report.build(tmp_path, n_boot=20)
    assert "## headline, person level" in md and "quantitative EMG" in md
    assert "mendeley people only" in md
    point = data["protocols"]["headline"]["classic"]["person"]["point"]
    assert point["balanced_accuracy"] == pytest.approx(1.0)
    assert data["protocols"]["headline"]["qemg"]["person"]["point"][
        "balanced_accuracy"
    ] == pytest.approx(0.0)
    assert data["protocols"]["headline"]["paired_vs_peer"]["qemg"]["n_pairs"] == 2
