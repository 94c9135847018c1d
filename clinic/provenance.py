"""Evaluation provenance: how a model version's figures were measured, and on whom.

A checkpoint carries two provenance blocks in its metadata; ``manage.py
import_checkpoint`` (``model_version_register``) copies them onto
``ModelVersion.evaluation`` and ``ModelVersion.training_data``:

``meta["evaluation"]`` -- the evaluation whose figures the card reports::

    {
      "protocol": "subject_held_out",   # or "time_block_same_people",
                                         #    "window_random_split"
      "description": "N2001 leave-one-subject-out, 5 seeds",   # optional words
      "dataset": "emglab_n2001",         # "+"-joined when several
      "people_per_class": {"healthy": 2, "myopathy": 3, "neuropathy": 2},
      "subjects": ["A01", "C01", ...],   # the evaluated people
      "recordings": ["N2001A01BB01", ...],   # the evaluated recording ids
      "sha256s": ["fd5c8b...", ...],     # sha256 of each evaluated data file
      "subject_held_out": true,          # no evaluated person was in training
      "cross_validated": true,           # optional: one model per held-out
                                         # person (leave-one-subject-out); the
                                         # released weights then saw everyone
    }

``meta["training_data"]`` -- what the released weights were fitted on::

    {"datasets": [...], "subjects": [...], "recordings": [...], "sha256s": [...]}

Checkpoints without these blocks get them derived here from what their
metadata does say (the shipped default's N2001 leave-one-subject-out figures,
the built-in datasets it names); anything else is "not recorded", which the
promotion gate refuses. Nothing here writes to the database.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

from emgcore.digest import file_sha256

logger = logging.getLogger(__name__)

SUBJECT_HELD_OUT = "subject_held_out"
TIME_BLOCK = "time_block_same_people"
WINDOW_RANDOM = "window_random_split"
UNKNOWN = "unknown"

#: Each protocol in words, for pages and reports.
PROTOCOL_WORDS = {
    SUBJECT_HELD_OUT: "people held out of training (subject-held-out)",
    TIME_BLOCK: "a later time block of the same people's recordings",
    WINDOW_RANDOM: "random windows of the same recordings",
    UNKNOWN: "not recorded",
}

#: Folder of each built-in dataset under EMG_DATA_DIR and its data files.
BUILTIN = {
    "physionet_emgdb": ("physionet-emgdb", "*.dat"),
    "emglab_n2001": ("emglab-n2001", "*.bin"),
}
EMGDB_CLASSES = {
    "emg_healthy": "healthy",
    "emg_myopathy": "myopathy",
    "emg_neuropathy": "neuropathy",
}
N2001_CLASSES = {"ALS": "neuropathy", "control": "healthy", "myopathy": "myopathy"}


def protocol_words(protocol: str | None) -> str:
    return PROTOCOL_WORDS.get(protocol or UNKNOWN, str(protocol))


# --------------------------------------------------------------------------
# The built-in datasets' recordings (file hashes, people, classes)
# --------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    # size and mtime are only the cache key: a changed file is hashed again.
    return file_sha256(path)


def file_sha256_cached(path: Path) -> str:
    """sha256 of a data file, remembered while its size and mtime stay the same."""
    st = path.stat()
    return _file_sha256(str(path), st.st_size, st.st_mtime_ns)


def builtin_recordings(dataset: str, data_dir: Path | None = None) -> list[dict]:
    """Every recording of a built-in dataset: id, subject, class, sha256.

    [] when the dataset's folder is missing (the data are not installed).
    """
    from emgcore.io import parse_n2001_name

    if dataset not in BUILTIN:
        return []
    folder_name, pattern = BUILTIN[dataset]
    folder = Path(data_dir or settings.EMG_DATA_DIR) / folder_name
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob(pattern)):
        if dataset == "physionet_emgdb":
            cls = EMGDB_CLASSES.get(path.stem)
            subject = path.stem  # one person per record
        else:
            info = parse_n2001_name(path.name)
            if info is None:
                continue
            cls, subject = N2001_CLASSES[info["class"]], info["subject"]
        if cls is None:
            continue
        out.append(
            {
                "recording": path.stem,
                "subject": subject,
                "class": cls,
                "sha256": file_sha256_cached(path),
                "dataset": dataset,
            }
        )
    return out


def _datasets_named(name: str) -> list[str]:
    return [d for d in BUILTIN if d in (name or "")]


def people_per_class(rows: list[dict]) -> dict[str, int]:
    """Distinct people per class in recording rows (``subject``, ``class``)."""
    people: dict[str, set[str]] = {}
    for row in rows:
        people.setdefault(row["class"], set()).add(row["subject"])
    return {cls: len(p) for cls, p in sorted(people.items())}


# --------------------------------------------------------------------------
# Reading and deriving provenance
# --------------------------------------------------------------------------


def _clean_evaluation(raw: dict[str, Any]) -> dict[str, Any]:
    """The documented keys of ``meta["evaluation"]``, with their types checked."""
    protocol = str(raw.get("protocol") or UNKNOWN)
    people = raw.get("people_per_class") or {}
    out = {
        "protocol": protocol if protocol in PROTOCOL_WORDS else UNKNOWN,
        "description": str(raw.get("description") or ""),
        "dataset": str(raw.get("dataset") or ""),
        "people_per_class": {str(k): int(v) for k, v in dict(people).items()},
        "subjects": [str(s) for s in raw.get("subjects") or []],
        "recordings": [str(r) for r in raw.get("recordings") or []],
        "sha256s": [str(h).lower() for h in raw.get("sha256s") or []],
        "subject_held_out": bool(raw.get("subject_held_out")),
        "cross_validated": bool(raw.get("cross_validated")),
        "source": str(raw.get("source") or "checkpoint metadata"),
    }
    if "eval_people_in_training" in raw:
        out["eval_people_in_training"] = raw["eval_people_in_training"]
    return out


def derive_evaluation(
    metadata: dict[str, Any], data_dir: Path | None = None
) -> dict[str, Any]:
    """The evaluation provenance of a checkpoint's metadata ({} when unknown)."""
    meta = metadata or {}
    if isinstance(meta.get("evaluation"), dict):
        return _clean_evaluation(meta["evaluation"])
    metrics = meta.get("metrics") or {}
    loso = metrics.get("n2001_loso")
    if isinstance(loso, dict) and isinstance(loso.get("per_class"), dict):
        # The shipped default (emgcore.disease_model): leave-one-subject-out on
        # N2001, one model per held-out person.
        rows = builtin_recordings("emglab_n2001", data_dir)
        seeds = loso.get("n_seeds")
        return _clean_evaluation(
            {
                "protocol": SUBJECT_HELD_OUT,
                "description": "EMGLAB N2001 leave-one-subject-out cross-validation"
                + (f" ({seeds} seeds)" if seeds else "")
                + ": each person was classified by a model trained without them; "
                "the released weights were then trained on all of them",
                "dataset": "emglab_n2001",
                "people_per_class": people_per_class(rows),
                "subjects": sorted({r["subject"] for r in rows}),
                "recordings": [r["recording"] for r in rows],
                "sha256s": [r["sha256"] for r in rows],
                "subject_held_out": True,
                "cross_validated": True,
                "source": "derived from the checkpoint's n2001_loso metrics",
            }
        )
    return {}


def derive_training_data(
    metadata: dict[str, Any], data_dir: Path | None = None
) -> dict[str, Any]:
    """What the weights were fitted on: ``meta["training_data"]``, else every
    recording of the built-in datasets the metadata names ({} when unknown)."""
    meta = metadata or {}
    raw = meta.get("training_data")
    if isinstance(raw, dict):
        return {
            "datasets": [str(d) for d in raw.get("datasets") or []],
            "subjects": [str(s) for s in raw.get("subjects") or []],
            "recordings": [str(r) for r in raw.get("recordings") or []],
            "sha256s": [str(h).lower() for h in raw.get("sha256s") or []],
            "source": "checkpoint metadata",
        }
    datasets = _datasets_named((meta.get("dataset") or {}).get("name") or "")
    if not datasets:
        return {}
    rows = [r for d in datasets for r in builtin_recordings(d, data_dir)]
    return {
        "datasets": datasets,
        "subjects": sorted({r["subject"] for r in rows}),
        "recordings": [r["recording"] for r in rows],
        "sha256s": [r["sha256"] for r in rows],
        "source": "every recording of the datasets its metadata names",
    }


def evaluation_of(mv) -> dict[str, Any]:
    """The version's evaluation provenance with the derived overlap flag."""
    evaluation = dict(mv.evaluation or {})
    if not evaluation:
        # Versions registered before provenance existed: what the metadata
        # says, without hashing files on a page view.
        evaluation = derive_evaluation(mv.metadata or {}, data_dir=Path("/nonexistent"))
    if not evaluation:
        return {
            "protocol": UNKNOWN,
            "subject_held_out": False,
            "people_per_class": {},
        }
    if "eval_people_in_training" not in evaluation:
        training = set((mv.training_data or {}).get("subjects") or [])
        subjects = set(evaluation.get("subjects") or [])
        if evaluation.get("cross_validated") or not (training and subjects):
            evaluation["eval_people_in_training"] = (
                None if not evaluation.get("subject_held_out") else False
            )
        else:
            evaluation["eval_people_in_training"] = bool(training & subjects)
    return evaluation


def evaluated_on_new_people(evaluation: dict[str, Any]) -> bool:
    """True when no evaluated person was in the data that trained the evaluated
    model(s)."""
    return (
        evaluation.get("protocol") == SUBJECT_HELD_OUT
        and bool(evaluation.get("subject_held_out"))
        and evaluation.get("eval_people_in_training") is not True
    )


def people_text(people: dict[str, int]) -> str:
    """{'healthy': 1, 'myopathy': 3} -> '1 healthy, 3 myopathy'."""
    return ", ".join(f"{n} {cls}" for cls, n in people.items()) or "not recorded"


def evaluation_summary(mv) -> dict[str, Any]:
    """What pages show: the protocol in words, people per class, new people."""
    evaluation = evaluation_of(mv)
    new_people = evaluated_on_new_people(evaluation)
    return {
        **evaluation,
        "protocol_words": protocol_words(evaluation.get("protocol")),
        "people_text": people_text(evaluation.get("people_per_class") or {}),
        "on_new_people": new_people,
        "on_new_people_words": "yes" if new_people else "no",
    }


def training_recording_matches(mv, sha256s: list[str]) -> list[str]:
    """The given file hashes that are among the model's training recordings."""
    # Lower-cased on both sides: hashes typed into a checkpoint by hand may
    # be upper case.
    training = {str(h).lower() for h in (mv.training_data or {}).get("sha256s") or []}
    return [h for h in sha256s if h.lower() in training]


def _in_ten(value: float) -> int:
    return int(round(float(value) * 10))


def performance_sentence(mv, label: str, class_metrics: dict[str, Any]) -> str:
    """One plain sentence on how well the version finds ``label`` in new people.

    From the card's sensitivity and specificity, and only when they come from
    a subject-held-out evaluation; otherwise it says that this is unknown.
    """
    evaluation = evaluation_of(mv)
    if not evaluated_on_new_people(evaluation):
        return (
            "This model has not been evaluated on people it has not seen, so how "
            "often it is right for a new patient is unknown."
        )
    metrics = class_metrics.get(label) or {}
    sens = (metrics.get("sensitivity") or {}).get("value")
    spec = (metrics.get("specificity") or {}).get("value")
    if sens is None or spec is None:
        return f"This model's evaluation on new people has no figures for {label}."
    fp = 10 - _in_ten(spec)
    if label == "healthy":
        others = " or ".join(c for c in class_metrics if c != "healthy") or "disease"
        return (
            f"On people it has not seen, this model calls {_in_ten(sens)} of 10 "
            f"healthy people healthy and wrongly calls {fp} of 10 people with "
            f"{others} healthy."
        )
    return (
        f"On people it has not seen, this model identifies {label} in "
        f"{_in_ten(sens)} of 10 cases and wrongly suggests it in {fp} of 10 "
        "people who do not have it."
    )
