"""``python -m studies.confounds [--runs DIR]``: what besides disease the data carry.

Measured, each with what it could explain (written to
``docs/results/confounds.json`` and ``docs/results/confounds.md``):

- **Site**: person-grouped 5-fold CV of a classifier that tells N2001 from
  Mendeley from the classic features (and from the QEMG values). A high score
  means any pooled model can learn "which hospital", and pooled figures can
  lean on the class mix of each site; the headline is therefore also reported
  within each site (studies.report).
- **Age (N2001)**: the age range per class. Controls are young, ALS people old,
  so age alone separates them; the Spearman correlation of age with the
  model's neuropathy probability among the N2001 people says whether the model
  tracks age.
- **Muscle**: person-level accuracy of the headline units per muscle.
- **Mains**: share of the raw signal's power within 1 Hz of 50 Hz (and its
  harmonics up to 1 kHz) per site x class x muscle, and how well that one
  number predicts the class (person-grouped CV): every model here notches
  50 Hz first, and this says how much a model would gain by not doing so.
- **Record length**: seconds per record per site x class (the Mendeley files
  were cut to equal length; N2001 lengths vary by person).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from emgcore.datasets.clinical import clinical_records
from studies.feature_methods import CACHE, classic_table, qemg_table

ROOT = Path(__file__).resolve().parents[1]


def mains_share(x: np.ndarray, fs: float) -> float:
    """Share of the power within 1 Hz of 50 Hz and its harmonics (to 1 kHz)."""
    from scipy.signal import welch

    f, p = welch(x - x.mean(), fs=fs, nperseg=int(fs))  # 1 Hz bins
    band = np.zeros_like(f, dtype=bool)
    for h in range(50, 1001, 50):
        band |= np.abs(f - h) <= 1.0
    total = p[f >= 1.0].sum()
    return float(p[band].sum() / total) if total > 0 else float("nan")


def _grouped_cv_ba(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int = 0
) -> float:
    """Balanced accuracy of a scaled logistic regression in person-grouped 5-fold CV."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.where(np.isfinite(X), X, np.nan)
    model = make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000),
    )
    cv = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    pred = cross_val_predict(model, X, y, groups=groups, cv=cv)
    return float(balanced_accuracy_score(y, pred))


def _mains_table(records) -> dict[str, float]:
    path = CACHE / "mains.json"
    if path.is_file():
        return json.loads(path.read_text())
    out = {}
    for rec in records:
        x, fs = rec.load()
        out[rec.record] = mains_share(x, fs)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out))
    return out


def _median_by(records, value, key) -> dict[str, Any]:
    groups: dict[str, list[float]] = defaultdict(list)
    for r in records:
        groups[key(r)].append(value(r))
    return {
        k: {
            "n": len(v),
            "median": float(np.median(v)),
            "min": float(np.min(v)),
            "max": float(np.max(v)),
        }
        for k, v in sorted(groups.items())
    }


def _model_by(runs: Path, method: str, key) -> dict[str, Any]:
    """Person-level accuracy of a method's headline units, by ``key(row)``."""
    from studies.runner import load_units

    hits: dict[str, list[int]] = defaultdict(list)
    for u in load_units(runs, "headline", method):
        by: dict[str, list] = defaultdict(list)
        for r in u["test"]:
            by[(r["subject"], key(r))].append(r)
        for (_, k), rows in by.items():
            p = np.mean([r["proba"] for r in rows], axis=0)
            hits[k].append(int(np.argmax(p) == rows[0]["y"]))
    return {
        k: {"n": len(v), "accuracy": float(np.mean(v))} for k, v in sorted(hits.items())
    }


def build(runs: Path, method: str) -> dict[str, Any]:
    records = clinical_records()
    subjects = np.array([r.subject for r in records])
    site = np.array([r.site for r in records])
    y = np.array([r.y for r in records])
    out: dict[str, Any] = {"n_records": len(records), "n_people": len(set(subjects))}
    classic, _ = classic_table()
    qemg, _ = qemg_table(records)
    for name, table in (("classic", classic), ("qemg", qemg)):
        X = np.stack([table[r.record] for r in records])
        out[f"site_from_{name}_ba"] = _grouped_cv_ba(X, site, subjects)
    mains = _mains_table(records)
    m = np.array([[mains[r.record]] for r in records])
    out["class_from_mains_ba"] = _grouped_cv_ba(m, y, subjects)
    out["mains_share"] = _median_by(
        records, lambda r: mains[r.record], lambda r: f"{r.site} {r.label} {r.muscle}"
    )
    out["record_seconds"] = _median_by(
        records,
        lambda r: r.n_samples / r.fs - r.trim_end_s,
        lambda r: f"{r.site} {r.label}",
    )
    n2001 = [r for r in records if r.site == "n2001" and r.age is not None]
    out["n2001_age"] = _median_by(n2001, lambda r: float(r.age), lambda r: r.label)
    out["class_mix"] = _median_by(
        records, lambda r: 1.0, lambda r: f"{r.site} {r.label}"
    )
    if (runs / "headline" / method).is_dir():
        from scipy.stats import spearmanr

        from studies.runner import load_units

        age = {r.subject: r.age for r in n2001}
        pn = defaultdict(list)
        for u in load_units(runs, "headline", method):
            for row in u["test"]:
                if row["subject"] in age:
                    pn[row["subject"]].append(row["proba"][2])
        ids = sorted(pn)
        rho = spearmanr([age[s] for s in ids], [np.mean(pn[s]) for s in ids])
        out["n2001_age_vs_p_neuropathy"] = {
            "method": method,
            "people": len(ids),
            "spearman_rho": float(rho.statistic),
            "p_value": float(rho.pvalue),
        }
        out["accuracy_by_muscle"] = {
            "method": method,
            **_model_by(runs, method, lambda r: f"{r['site']} {r['muscle']}"),
        }
    return out


def markdown(c: dict[str, Any]) -> str:
    lines = [
        "# Confounds of the clinical data",
        "",
        "Made by `python -m studies.confounds`; person-grouped 5-fold CV, "
        "logistic regression, balanced accuracy (chance 0.50 for site, 0.33 for class).",
        "",
        f"- Site told apart from the classic features: **{c['site_from_classic_ba']:.2f}**; "
        f"from the QEMG values: **{c['site_from_qemg_ba']:.2f}**.",
        f"- Class from the mains share alone (before any notch): "
        f"**{c['class_from_mains_ba']:.2f}**.",
        "",
    ]
    if "n2001_age_vs_p_neuropathy" in c:
        a = c["n2001_age_vs_p_neuropathy"]
        lines += [
            f"- N2001, age vs the `{a['method']}` neuropathy probability over "
            f"{a['people']} people: Spearman ρ = {a['spearman_rho']:.2f} "
            f"(p = {a['p_value']:.2g}).",
            "",
        ]
    for key, title, field in (
        ("n2001_age", "N2001 age (years) by class", "median"),
        ("mains_share", "Mains share of power by site, class, muscle", "median"),
        ("record_seconds", "Record length (s) by site and class", "median"),
    ):
        lines += [
            f"## {title}",
            "",
            "| group | records | median | min | max |",
            "|---|---|---|---|---|",
        ]
        for k, v in c[key].items():
            lines.append(
                f"| {k} | {v['n']} | {v[field]:.3g} | {v['min']:.3g} | {v['max']:.3g} |"
            )
        lines.append("")
    if "accuracy_by_muscle" in c:
        acc = dict(c["accuracy_by_muscle"])
        method = acc.pop("method")
        lines += [
            f"## Person-level accuracy of `{method}` by site and muscle (headline)",
            "",
            "| site, muscle | people x seeds | accuracy |",
            "|---|---|---|",
        ]
        lines += [f"| {k} | {v['n']} | {v['accuracy']:.2f} |" for k, v in acc.items()]
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="runs/clinical")
    ap.add_argument("--method", default="cnn-amp-4k-w12")
    args = ap.parse_args(argv)
    c = build(Path(args.runs), args.method)
    (ROOT / "docs/results/confounds.json").write_text(json.dumps(c, indent=1) + "\n")
    md = markdown(c)
    (ROOT / "docs/results/confounds.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
