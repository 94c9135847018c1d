"""The model card (``.md`` and ``.json`` beside the checkpoint) of the shipped model.

Every figure is read from the checkpoint's own metadata, which
:mod:`studies.shipped_model` filled from the saved study units, so the card
cannot drift from what the registry and the result page show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emgcore.datasets.base import DISEASE_CLASSES as CLASSES

INTENDED_USE = (
    "Decision support for clinical needle EMG, not a diagnosis: it says how "
    "close a recording's amplitude and frequency content is to the healthy, "
    "myopathic and neuropathic recordings it was fitted on. A qualified "
    "clinician makes every diagnosis."
)

LIMITATIONS = [
    "Two sites only: EMGLAB N2001 (18 people, biceps and vastus medialis, "
    "23.4 kHz) and one hospital's Mendeley set (190 people, deltoid and biceps, "
    "32.8 kHz). Trained on one site and tested on the other, every method of "
    "the study is near chance (below, and docs/RESULTS.md), and the "
    "features tell the two sites apart with balanced accuracy 0.96: what it "
    "learnt is tied to the sites' equipment and populations. A new laboratory "
    "must validate it on its own patients before relying on it.",
    "Neuropathy examples are ALS (N2001) and the Mendeley set's neuropathies; "
    "myopathy examples are the two sets' myopathies. Other conditions, mixed "
    "pictures, children and other muscles are outside what it has seen; it "
    "will still answer one of three classes or 'inconclusive'.",
    "Myopathy is the weakest class (lowest sensitivity).",
    "N2001's ALS people are 52-67 years old and its controls 21-37: at that "
    "site part of what separates the classes may be age.",
    "Amplitude is evidence: recordings must be in physical units (V, mV or "
    "uV); one without a calibration is refused. Mains (50 Hz and harmonics) "
    "is notched out because it marked one class of one site.",
    "Probabilities are temperature-scaled on validation people of these two "
    "sites; on another site they may be over- or under-confident.",
    "The goals of issue 15 (balanced accuracy 0.85, every sensitivity 0.75, "
    "ECE 0.05, cross-site 0.65) are not reached.",
]


def _ci(pc: dict[str, Any], key: str) -> str:
    lo, hi = pc[f"{key}_ci"]
    return f"{pc[key]:.2f} [{lo:.2f}, {hi:.2f}]"


def _class_table(figures: dict[str, Any]) -> list[str]:
    lines = ["| class | sensitivity | specificity | AUC |", "|---|---|---|---|"]
    for c in CLASSES:
        pc = figures["per_class"][c]
        lines.append(
            f"| {c} | {_ci(pc, 'sensitivity')} | {_ci(pc, 'specificity')} | "
            f"{pc['auc']:.2f} |"
        )
    return lines


def _ba(figures: dict[str, Any]) -> str:
    lo, hi = figures["balanced_accuracy_ci"]
    return f"{figures['balanced_accuracy']:.2f} [{lo:.2f}, {hi:.2f}]"


SITE_LIMITATIONS = [
    "Two sites only: EMGLAB N2001 (18 people, biceps and vastus medialis, "
    "23.4 kHz) and one hospital's Mendeley set (190 people, deltoid and biceps, "
    "32.8 kHz). Each feature is standardised within its site; a new laboratory "
    "sets its own statistics from at least 20 of its recordings "
    "(`python -m emgcore site-calibrate`) and results are refused until then. "
    "Trained on one site and calibrated like this on the other, it reached "
    "0.93 and 0.70 per person (the cross-site line above): expect figures "
    "between those and the headline ones at a new laboratory, which must "
    "validate it on its own patients before relying on it.",
    "The statistics depend on the laboratory's mix of patients: a batch of "
    "mostly one diagnosis shifts them. Calibrate on a mix like the one the "
    "model will see.",
    *LIMITATIONS[1:-2],
    "Probabilities are temperature-scaled on validation people of these two "
    "sites; calibrated to another site they were poorly calibrated (ECE "
    "0.21-0.37 in the cross-site test).",
    "The goals of issue 15 (balanced accuracy 0.85, every sensitivity 0.75, "
    "ECE 0.05) are not reached; cross-site 0.65 is reached in both directions "
    "only through this calibration on the new site's (unlabelled) recordings.",
]


def card_markdown(meta: dict[str, Any], command: str) -> str:
    m = meta["metrics"]
    ev = m["evaluation"]
    train = meta["train"]
    people = meta["evaluation"]["people_per_class"]
    site = bool((meta.get("model_kwargs") or {}).get("site_standardised"))
    lines = [
        "# Model card: window-feature linear disease classifier",
        "",
        f"**Intended use.** {INTENDED_USE}",
        "",
        "## Model",
        f"- `feature_linear`: each {train['window_s']:g} s window (4 kHz, µV, "
        "20-1800 Hz band-pass, 50 Hz notch with harmonics, no z-score) is cut "
        f"into {train['sub_window_s']:g} s pieces; per piece MAV, RMS, waveform "
        "length, zero crossings and slope sign changes (10 µV), mean and median "
        "frequency, turns (100 µV) and the 50th/95th/99th percentile of |x|; per "
        "window the 10th/50th/90th percentile of each over its pieces (33 values), "
        f"standardised, into a logistic regression (C = {train['C']:g}, "
        f"{train['weighting']} weights). A recording's probabilities are the mean "
        "over its usable windows.",
        *(
            [
                "- **Site-standardised**: before that standardisation each feature "
                "is standardised within the recording's laboratory (its mean and "
                "spread over the windows of that laboratory's recordings). Shipped "
                "without any laboratory's statistics: run `python -m emgcore "
                "site-calibrate --model THIS --site NAME --out OUT FILES` on at "
                "least 20 of your own recordings first; until then every result "
                "is refused."
            ]
            if site
            else []
        ),
        f"- Chosen on validation people: {train['chosen']}.",
        f"- Probabilities are temperature-scaled (T = {m['temperature']:.3f}); "
        f"below {meta['min_confidence']} the result is 'inconclusive'.",
        "- Accepts one channel at 4 kHz or more (resampled to 4 kHz), in V, mV or µV.",
        f"- Seed {meta['seed']}; emgcore {meta['emgcore_version']}, torch "
        f"{meta['torch_version']}, git {meta.get('git_commit') or 'unknown'}; "
        f"created {meta['created_at']}.",
        "",
        "## Data",
        f"- {m['n_people']} people, {m['n_recordings']} recordings "
        f"({', '.join(f'{n} {c}' for c, n in people.items())} people): EMGLAB "
        "N2001 (WFDB headers) and the Mendeley needle-EMG set; "
        f"{m['n_train_windows']} windows.",
        "",
        "## Expected performance on a new person",
        f"Measured by {ev['protocol']}. Every figure is on people the evaluated "
        "models never saw; mean over seeds, 95 % interval resampling people.",
        "",
        "**One recording** (what each result is): balanced accuracy "
        f"**{_ba(ev)}**, macro-F1 {ev['macro_f1']:.2f}, ECE after calibration "
        f"{ev['ece_calibrated']:.2f} ({ev['n_people']} people).",
        "",
        *_class_table(ev),
        "",
        "**A person's recordings pooled** (mean probability over their muscles): "
        f"balanced accuracy {_ba(ev['person_level'])}.",
        "",
        *_class_table(ev["person_level"]),
        "",
        "- Within each site (same folds, one recording): "
        + "; ".join(
            f"{s} {_ba(f)} ({f['n_people']} people)"
            for s, f in ev["within_site"].items()
        )
        + ".",
    ]
    if ev.get("cross_site"):
        lines.append(
            "- Cross-site (train on one site, test on every person of the other, "
            "a person's recordings pooled"
            + (
                ", the other site's statistics from its unlabelled recordings"
                if site
                else ""
            )
            + "): "
            + ", ".join(f"{k} {v:.2f}" for k, v in ev["cross_site"].items())
            + "."
        )
    if ev.get("n2001_loso"):
        lines.append(
            "- N2001 leave-one-person-out (trained on N2001 only, one recording): "
            f"{_ba(ev['n2001_loso'])}."
        )
    limits = SITE_LIMITATIONS if site else LIMITATIONS
    lines += ["", "## Limitations", *[f"- {t}" for t in limits], ""]
    lines += ["## Reproduce", "```", command, "```", ""]
    return "\n".join(lines)


def write_card(out: Path, sha: str, command: str) -> None:
    from emgcore.checkpoint import load_checkpoint

    _, meta = load_checkpoint(out)
    out.with_suffix(".md").write_text(card_markdown(dict(meta), command))
    card = {
        "intended_use": INTENDED_USE,
        "model": {"name": meta["model_name"], "sha256": sha, "file": out.name},
        "class_names": meta["class_names"],
        "data": meta["dataset"],
        "metrics": meta["metrics"],
        "limitations": SITE_LIMITATIONS
        if (meta.get("model_kwargs") or {}).get("site_standardised")
        else LIMITATIONS,
        "reproduce": command,
    }
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
