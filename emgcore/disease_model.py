"""Train the default disease model and write its model card.

The default model is trained on every recording we have (PhysioNet emgdb and
EMGLAB N2001); its expected performance on a new person is the N2001
leave-one-subject-out estimate from the evaluation summary, which goes on its
card with the CIs. The card says plainly what the data cannot show.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emgcore.datasets.base import DISEASE_CLASSES, WindowSet
from emgcore.disease import (
    Budget,
    disease_preprocess,
    is_transfer,
    train_and_score,
)
from emgcore.retrain.card import per_class_table

INTENDED_USE = (
    "Decision support for clinical needle EMG, not a diagnosis: it shows a "
    "clinician how close a recording is to the healthy, myopathic and "
    "neuropathic recordings the model was trained on. A qualified clinician "
    "makes every diagnosis."
)

LIMITATIONS = [
    "Trained on 10 people in all: PhysioNet emgdb has one person per class "
    "(tibialis anterior, 4 kHz), EMGLAB N2001 has 2 ALS, 2 control and 3 myopathy "
    "subjects (biceps brachii and vastus medialis, ~23.4 kHz). Performance on a "
    "new person, muscle, needle or amplifier is uncertain; the leave-one-subject-out "
    "CIs are wide because there are only 7 subjects.",
    "Neuropathy examples are ALS (N2001) and one L5 radiculopathy (emgdb); "
    "myopathy examples are polymyositis and unspecified myopathies. Other "
    "conditions are out of scope and will be forced into one of three classes "
    "(or 'inconclusive').",
    "Signals are resampled to the model's input rate (see the card); at the "
    "paper's 1 kHz, needle-EMG content above 500 Hz is lost.",
    "Each recording is z-scored, so absolute amplitude (a clinical cue for MUAP size) "
    "is not used.",
    "Probabilities are temperature-scaled on validation recordings; calibration "
    "on other sites is unknown.",
]


def default_training_data(
    data_dir: Any, budget: Budget, seed: int, rate_hz: float = 1000.0
) -> tuple[WindowSet, np.ndarray, np.ndarray]:
    """emgdb + N2001 windows and a validation split of whole recordings/blocks.

    The default model's own split (its validation windows are the ones the
    auditor's report evaluates it on).
    """
    from emgcore.retrain import default_model_split

    return default_model_split(
        data_dir,
        disease_preprocess(rate_hz),
        max_windows_per_recording=budget.max_windows_per_recording,
        seed=seed,
    )


def model_card(
    metadata: dict[str, Any], summary: dict[str, Any] | None, command: str
) -> str:
    """Markdown model card from checkpoint metadata and the evaluation summary."""
    m = metadata["metrics"]
    lines = [
        f"# Model card: {metadata['model_name']} disease classifier",
        "",
        f"**Intended use.** {INTENDED_USE}",
        "",
        "## Model",
        f"- Architecture: {metadata['model_name']} (CNN-TCN of the paper, "
        f"{m.get('n_parameters', '?')} parameters), input {metadata['n_chans']} x "
        f"{metadata['n_times']} samples at {metadata['sfreq']:g} Hz.",
        f"- Classes (output order): {', '.join(metadata['class_names'])}.",
        f"- Training: {m.get('method')}; parent checkpoint: {metadata.get('parent') or 'none'}.",
        f"- Probabilities are temperature-scaled (T = {m.get('temperature', 1.0):.3f}); "
        f"below {metadata.get('min_confidence')} the result is 'inconclusive'.",
        f"- Seed {metadata['seed']}; emgcore {metadata['emgcore_version']}, torch "
        f"{metadata['torch_version']}, git {metadata.get('git_commit') or 'unknown'}; "
        f"created {metadata['created_at']}.",
        "",
        "## Data",
        f"- Training windows: {m.get('n_train')} (validation {m.get('n_val')}), from "
        "PhysioNet emgdb (3 recordings) and EMGLAB N2001 (67 recordings, 7 subjects).",
        f"- Data hash: `{metadata['dataset'].get('split_hash')}`.",
        "",
        "## Expected performance on a new person (N2001 leave-one-subject-out)",
    ]
    loso = m.get("n2001_loso")
    if loso:
        lines += [
            f"Recording level, {loso['n_seeds']} seeds: balanced accuracy "
            f"{loso['balanced_accuracy']['mean']:.3f} ± {loso['balanced_accuracy']['sd']:.3f}, "
            f"accuracy {loso['accuracy']['mean']:.3f} ± {loso['accuracy']['sd']:.3f}, "
            f"ECE {loso['ece']['mean']:.3f}.",
            "",
            f"Per class (seed {loso['report_seed']}, 95 % bootstrap CI over recordings):",
            "",
            *per_class_table(loso["per_class"], metadata["class_names"]),
        ]
    else:
        lines.append(
            "No leave-one-subject-out evaluation was available when this was trained."
        )
    lines += [
        "",
        "## Limitations",
        *[f"- {x}" for x in LIMITATIONS],
        "",
        "## Reproduce",
        "```",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class DefaultModelConfig:
    """How the default disease model is trained; all of it is on its card.

    ``pretrained`` is the encoder checkpoint a transfer method fine-tunes
    (ignored by the scratch methods); below ``min_confidence`` the app says
    "inconclusive"; ``rate_hz`` is the model's input rate.
    """

    budget: Budget
    pretrained: str | None = None
    method: str = "tl"
    seed: int = 0
    rate_hz: float = 1000.0
    min_confidence: float = 0.5


def train_default_model(
    out_path: str | os.PathLike[str],
    config: DefaultModelConfig,
    *,
    data_dir: Any = None,
    results_path: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train on all data, save checkpoint + sha256 + card (.md and .json).

    ``results_path`` is the evaluation summary whose N2001 leave-one-subject-out
    entry for the summary's ``default_method`` (else ``config.method``) goes on
    the card.
    """
    from emgcore.checkpoint import file_sha256, save_checkpoint
    from emgcore.models import count_parameters

    pretrained, method, budget = config.pretrained, config.method, config.budget
    seed, rate_hz = config.seed, config.rate_hz
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    ws, train, val = default_training_data(data_dir, budget, seed, rate_hz)
    record = train_and_score(
        ws,
        (train, val, val),
        method=method,
        seed=seed,
        budget=budget,
        pretrained=pretrained if is_transfer(method) else None,
        progress=progress,
        return_model=True,
    )
    model = record.pop("_model")
    summary = None
    loso = None
    if results_path and Path(results_path).is_file():
        summary = json.loads(Path(results_path).read_text())
        entry = (
            summary["protocols"]
            .get("n2001_loso", {})
            .get(summary.get("default_method", method))
        )
        if entry:
            rec = entry["recording"]
            loso = {
                "n_seeds": entry["n_seeds"],
                **{
                    k: rec["summary"][k]
                    for k in ("accuracy", "balanced_accuracy", "ece")
                },
                "report_seed": rec["report_seed"],
                "per_class": rec["report"]["per_class"],
            }
    metrics = {
        "temperature": record["temperature"],
        "method": method,
        "n_train": record["n_train"],
        "n_val": record["n_val"],
        "val_acc": record["best_val_acc"],
        "n_parameters": count_parameters(model),
        "n2001_loso": loso,
        "intended_use": INTENDED_USE,
    }
    parent_sha = file_sha256(pretrained) if pretrained and is_transfer(method) else None
    metadata = {
        "class_names": list(DISEASE_CLASSES),
        "preprocess": disease_preprocess(rate_hz).to_dict(),
        "train": {
            **record["train_config"],
            "budget": budget.to_dict(),
            "stage": "disease",
        },
        "dataset": {
            "name": "physionet_emgdb+emglab_n2001",
            "split_hash": ws.content_hash(),
        },
        "metrics": metrics,
        "seed": seed,
        "parent": parent_sha,
        "min_confidence": config.min_confidence,
    }
    sha = save_checkpoint(out_path, model, metadata)
    from emgcore.checkpoint import load_checkpoint

    _, saved_meta = load_checkpoint(out_path)
    command = (
        f"python -m emgcore train disease --method {method} --rate-hz {rate_hz:g} "
        + (f"--pretrained {pretrained} " if parent_sha else "")
        + f"--results {results_path} --out {out_path} "
        + f"--budget {budget.cli_name() or 'paper'} --seed {seed}"
        + ("" if budget.cli_name() else f"  # custom budget: {budget.to_dict()}")
    )
    card_md = model_card(dict(saved_meta), summary, command)
    out_path.with_suffix(".md").write_text(card_md)
    card_json = {
        "intended_use": INTENDED_USE,
        "model": {
            "name": saved_meta["model_name"],
            "sha256": sha,
            "file": out_path.name,
        },
        "class_names": saved_meta["class_names"],
        "data": metadata["dataset"],
        "metrics": metrics,
        "limitations": LIMITATIONS,
        "reproduce": command,
    }
    out_path.with_suffix(".json").write_text(json.dumps(card_json, indent=2))
    return {
        "checkpoint": str(out_path),
        "sha256": sha,
        "val_acc": record["best_val_acc"],
        "temperature": record["temperature"],
        "n_train": record["n_train"],
    }
