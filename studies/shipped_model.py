"""``python -m studies.shipped_model --runs DIR --method NAME --out models/disease/default.pt``.

Builds the disease model the app ships from the method the headline protocol
evaluated (:class:`studies.window_linear.WindowLinear`), and writes its card.

1. The window configuration, C and weighting are chosen the way each fold
   chose them: one stratified validation draw of people (site x class), the
   rest fitted, the best person-level balanced accuracy on validation wins.
2. The temperature is fitted on those validation people's records (the mean
   of the window probabilities, as the app computes it).
3. The chosen model is refitted on every person and copied into an
   :class:`emgcore.models.feature_linear.FeatureLinear` checkpoint.
4. Its metrics are NOT those of the released weights on data they saw: they
   are the headline protocol's figures for ``--method`` (people never seen in
   training, 3 seeds x 5 folds) at the RECORDING level, since the app
   classifies one recording at a time, with the person level (a person's
   recordings pooled), within-site, cross-site and N2001 leave-one-out
   figures beside them. The evaluation provenance
   (``subject_held_out``, cross-validated, every person and file hash) goes in
   the metadata so the registry's promotion gate can check it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from emgcore.datasets.base import DISEASE_CLASSES as CLASSES
from studies.runner import Part, load_units

DATASET = "emglab_n2001_wfdb+needle_emg_mendeley"
MIN_CONFIDENCE = 0.5
TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(4.0), 41))


def _temperature(model, table, part: Part) -> float:
    """T minimising the record-level NLL of mean window probabilities."""
    from scipy.special import softmax

    from studies.window_linear import _clean

    logits = [model.decision_function(_clean(table.rows_for(r))) for r in part.records]
    best = (np.inf, 1.0)
    for t in TEMPERATURES:
        nll = 0.0
        for z, r in zip(logits, part.records, strict=True):
            p = softmax(z / t, axis=1).mean(axis=0)
            nll -= np.log(max(p[int(r.y)], 1e-12))
        best = min(best, (nll / len(logits), float(t)))
    return best[1]


def _per_class(summary: dict[str, Any]) -> dict[str, Any]:
    p, ci = summary["point"], summary["ci"]
    out = {}
    for c in CLASSES:
        out[c] = {
            "sensitivity": round(p[f"sens_{c}"], 4),
            "sensitivity_ci": [round(v, 4) for v in ci[f"sens_{c}"]],
            "specificity": round(p[f"spec_{c}"], 4),
            "specificity_ci": [round(v, 4) for v in ci[f"spec_{c}"]],
            "auc": round(p[f"auc_{c}"], 4),
        }
    return out


def _figures(summary: dict[str, Any]) -> dict[str, Any]:
    p, ci = summary["point"], summary["ci"]
    return {
        "level": summary["level"],
        "n_people": summary["n_people"],
        "seeds": summary["seeds"],
        "balanced_accuracy": round(p["balanced_accuracy"], 4),
        "balanced_accuracy_ci": [round(v, 4) for v in ci["balanced_accuracy"]],
        "macro_f1": round(p["macro_f1"], 4),
        "ece_calibrated": round(p["ece_calibrated"], 4),
        "per_class": _per_class(summary),
    }


def evaluation_metrics(runs: Path, method: str) -> dict[str, Any]:
    """The headline, within-site, cross-site and N2001 figures of ``method``."""
    from studies.metrics import summarise
    from studies.report import _site_units

    head = load_units(runs, "headline", method)
    if not head:
        raise SystemExit(f"No headline units of {method!r} under {runs}.")
    # The app classifies one recording per upload, so the figures it quotes
    # beside a result (per_class, read by the promotion gate) are the
    # recording-level ones; pooling a person's recordings is given beside them.
    out: dict[str, Any] = {
        "protocol": "headline: person-grouped 5-fold CV on both sites pooled, "
        "stratified by site x class, 3 seeds; selection on validation people",
        **_figures(summarise(head, level="record")),
        "person_level": _figures(summarise(head)),
        "within_site": {
            s: _figures(summarise(_site_units(head, s), level="record"))
            for s in ("n2001", "mendeley")
        },
    }
    # The recorded evaluation set for the auditor's curves: seed 0's test
    # predictions (each record by the fold model that never saw its person),
    # calibrated with that fold's validation temperature as the figures are.
    from studies.metrics import seed_table

    tab = seed_table([u for u in head if int(u["split"]["seed"]) == 0], "record")
    out["predictions"] = {
        "level": "recording",
        "description": "headline protocol, seed 0: each recording predicted by "
        "the fold model trained without its person",
        "y": [int(v) for v in tab["y"]],
        "proba": [[round(float(x), 5) for x in row] for row in tab["cal"]],
    }
    cross = load_units(runs, "cross_site", method)
    out["cross_site"] = {
        u["split"]["name"]: round(
            summarise([u], n_boot=200)["point"]["balanced_accuracy"], 4
        )
        for u in cross
    }
    loso = load_units(runs, "n2001_loso", method)
    if loso:
        out["n2001_loso"] = _figures(summarise(loso, level="record"))
    return out


def provenance(records) -> tuple[dict[str, Any], dict[str, Any]]:
    """``evaluation`` and ``training_data`` metadata blocks (clinic/provenance.py)."""
    people: dict[str, set] = {}
    for r in records:
        people.setdefault(r.label, set()).add(r.subject)
    common = {
        "subjects": sorted({r.subject for r in records}),
        "recordings": [r.record for r in records],
        "sha256s": [r.sha256 for r in records],
    }
    evaluation = {
        "protocol": "subject_held_out",
        "description": "Person-grouped 5-fold cross-validation on EMGLAB N2001 and "
        "the Mendeley needle-EMG set pooled, 3 seeds: each person was classified "
        "by a model trained without them (people level); the released weights "
        "were then fitted on all of them",
        "dataset": DATASET,
        "people_per_class": {c: len(people.get(c, ())) for c in CLASSES},
        "subject_held_out": True,
        "cross_validated": True,
        **common,
    }
    return evaluation, {"datasets": DATASET.split("+"), **common}


def _check_copy(model, pipeline, ws, table, site_of: dict[str, str] | None) -> None:
    """The torch copy must give the pipeline's probabilities on real windows.

    A site-standardised model is checked with one site's statistics set
    (Mendeley's, on its windows) and shipped without any: each laboratory sets
    its own (``python -m emgcore site-calibrate``).
    """
    import torch

    from studies.window_linear import _clean

    idx = np.arange(0, len(ws.X), max(1, len(ws.X) // 64))
    rows = _clean(table.X[idx])
    site_norm = site_of is not None
    if site_norm:
        ids = np.asarray(ws.recording_ids).astype(str)
        sites = np.array([site_of[r] for r in ids])
        idx = np.flatnonzero(sites == "mendeley")[::8][:64]
        mean, spread = table.stats["mendeley"]
        rows = (_clean(table.base.X[idx]) - mean) / spread
        model.set_site_statistics(mean, spread)
    with torch.no_grad():
        p_torch = torch.softmax(model(torch.from_numpy(ws.X[idx])), dim=1).numpy()
    gap = float(np.abs(p_torch - pipeline.predict_proba(_clean(rows))).max())
    if site_norm:
        n = len(model.site_center)
        model.set_site_statistics(np.zeros(n), np.ones(n))
    if gap > 1e-4:
        raise SystemExit(f"FeatureLinear differs from the pipeline by {gap:.2g}.")


def build(
    runs: Path, method: str, out: Path, seed: int = 0, site_norm: bool = False
) -> dict[str, Any]:
    from emgcore.checkpoint import save_checkpoint
    from emgcore.config import PreprocessConfig
    from emgcore.datasets.clinical import clinical_records
    from emgcore.models.feature_linear import FeatureLinear
    from studies.cnn_method import clinical_windows_4k
    from studies.protocols import _val_split, people
    from studies.window_linear import WindowLinear, _clean, _pipeline, _stack

    records = [r for r in clinical_records() if r.exclusion is None]
    persons = people(records)
    train_ids, val_ids = _val_split(persons, persons, np.random.default_rng([seed, 18]))
    part = lambda ids: Part([r for r in records if r.subject in set(ids)], None)  # noqa: E731
    train, val = part(train_ids), part(val_ids)
    method_obj = WindowLinear(
        seed=seed, weightings=("person", "record"), site_norm=site_norm
    )
    fitted = method_obj.select_and_fit(train, val)
    info = fitted.info
    temperature = _temperature(fitted.model, fitted.table, val)
    config = (info["window_s"], info["sub_window_s"])
    table = fitted.table
    if site_norm:
        from studies.site_norm import SiteNormTable, site_stats

        # The final fit standardises each site by ALL its people (the
        # selection above used its training people only).
        base = method_obj.base_table(config)
        table = SiteNormTable(base, site_stats(base, records))
    X, y, w, _ = _stack(table, Part(records, None), info["weighting"])
    final = _pipeline(info["C"])
    final.fit(_clean(X), y, logisticregression__sample_weight=w)

    ws = clinical_windows_4k(info["window_s"])
    model = FeatureLinear(
        n_times=ws.n_times,
        sfreq=ws.sfreq,
        sub_window_s=info["sub_window_s"],
        site_standardised=site_norm,
    )
    model.set_from_sklearn(final)
    site_of = {r.record: r.site for r in records} if site_norm else None
    _check_copy(model, final, ws, table, site_of)

    evaluation, training_data = provenance(records)
    # The preprocessing of studies.cnn_method.clinical_windows_4k, which the
    # evaluation used: 4 kHz, uV, 20-1800 Hz, 50 Hz notch + harmonics.
    pre = PreprocessConfig(
        target_sfreq=4000.0,
        bandpass_hz=(20.0, 1800.0),
        notch_hz=50.0,
        notch_harmonics=True,
        zscore=None,
        window_s=info["window_s"],
        step_s=info["window_s"] / 2,
    )
    metrics = {
        "temperature": temperature,
        "method": method,
        "n_train_windows": int(len(X)),
        "n_people": len(persons),
        "n_recordings": len(records),
        "selection": {k: info[k] for k in ("chosen", "val_person_ba")},
        "evaluation": evaluation_metrics(runs, method),
    }
    command = (
        f"python -m studies.shipped_model --runs {runs} --method {method} --out {out}"
        + (" --site-norm" if site_norm else "")
    )
    sha = save_checkpoint(
        out,
        model,
        {
            "class_names": list(CLASSES),
            "preprocess": pre.to_dict(),
            "train": {
                "stage": "logistic regression on window features"
                + (", standardised within each site" if site_norm else ""),
                **info,
            },
            "dataset": {"name": DATASET, "split_hash": None},
            "metrics": metrics,
            "seed": seed,
            "min_confidence": MIN_CONFIDENCE,
            "evaluation": evaluation,
            "training_data": training_data,
        },
    )
    from studies.shipped_card import write_card

    write_card(out, sha, command)
    return {"sha256": sha, "chosen": info["chosen"], "temperature": temperature}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True, type=Path)
    ap.add_argument("--method", default="window-linear")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument(
        "--site-norm",
        action="store_true",
        help="a site-standardised model, shipped uncalibrated (studies.site_norm)",
    )
    args = ap.parse_args(argv)
    result = build(args.runs, args.method, args.out, site_norm=args.site_norm)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
