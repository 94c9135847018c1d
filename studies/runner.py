"""Run one method on one split and save the result as a resumable JSON unit.

The boundary that keeps the test fold out of model selection is here:
:func:`run_unit` hands a method's :meth:`Method.select_and_fit` the TRAIN and
VALIDATION parts only (records, their feature rows and labels). The test part
is built afterwards and goes to :meth:`Fitted.predict_proba` of the returned,
already fitted model, and nowhere else. A test passes sentinel test rows and
checks that no selection code ever saw them.

A unit is ``<run_dir>/<protocol>/<method>/<seed>_<split>.json`` holding the
split's people, what the method chose (``info``) and one row per test record
(record, subject, site, label, class probabilities); validation-person
predictions of the model used for selection are kept too, so calibration can be
re-fitted or checked without rerunning. An existing unit is never recomputed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from emgcore.datasets.base import DISEASE_CLASSES
from studies.protocols import Split

logger = logging.getLogger(__name__)

#: Bumped when the unit format changes.
UNIT_VERSION = 1


@dataclass(frozen=True, eq=False)
class Part:
    """Records of one side of a split, with their feature rows.

    Parameters
    ----------
    records : list of ClinicalRecord
    X : ndarray, shape (n_records, n_features), or None
        Feature rows in record order (None for methods that read signals).
    feature_names : tuple of str
    """

    records: list[Any]
    X: NDArray[np.float64] | None
    feature_names: tuple[str, ...] = ()

    @property
    def y(self) -> NDArray[np.int64]:
        return np.array([r.y for r in self.records], dtype=np.int64)

    @property
    def subjects(self) -> NDArray[np.str_]:
        return np.array([r.subject for r in self.records])

    @property
    def sites(self) -> NDArray[np.str_]:
        return np.array([r.site for r in self.records])


class Fitted(Protocol):
    """A model after selection: probabilities for unseen records."""

    info: dict[str, Any]

    def predict_proba(self, part: Part) -> NDArray[np.float64]: ...


class Method(Protocol):
    """A method chooses everything on ``val`` and returns a fitted model."""

    name: str

    def select_and_fit(self, train: Part, val: Part) -> Fitted: ...


class FeatureSource(Protocol):
    """Feature rows per record (e.g. a cached per-record feature table)."""

    def rows(self, records: Sequence[Any]) -> tuple[NDArray[np.float64], tuple]: ...


def _part(records: Sequence[Any], split: Split, which: str, source: Any) -> Part:
    recs = split.part(records, which)
    if source is None:
        return Part(recs, None)
    X, names = source.rows(recs)
    return Part(recs, X, tuple(names))


def unit_path(run_dir: Path, method: str, split: Split) -> Path:
    return Path(run_dir) / split.protocol / method / f"{split.unit}.json"


def write_derived_unit(runs: str | os.PathLike[str], protocol: str, unit: dict) -> Path:
    """Save a unit made from other units (a fusion) beside the fitted ones."""
    split = unit["split"]
    path = (
        Path(runs)
        / protocol
        / unit["method"]
        / f"seed{split['seed']}_{split['name']}.json"
    )
    _write_json(path, unit)
    return path


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh, indent=1)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _rows(part: Part, proba: NDArray[np.float64]) -> list[dict[str, Any]]:
    return [
        {
            "record": r.record,
            "subject": r.subject,
            "site": r.site,
            "muscle": r.muscle,
            "label": r.label,
            "y": int(r.y),
            "proba": [float(v) for v in p],
        }
        for r, p in zip(part.records, proba, strict=True)
    ]


def run_unit(
    method: Method,
    split: Split,
    records: Sequence[Any],
    run_dir: str | os.PathLike[str],
    *,
    source: Any = None,
) -> dict[str, Any]:
    """Fit ``method`` on ``split`` (selection on val only), predict the test people.

    Returns the unit (from disk if it is already there).
    """
    path = unit_path(Path(run_dir), method.name, split)
    if path.is_file():
        with path.open() as fh:
            unit = json.load(fh)
        if unit.get("version") == UNIT_VERSION and unit["split"] == split.to_dict():
            return unit
        logger.warning("recomputing %s: its split or version differs", path)
    train = _part(records, split, "train", source)
    val = _part(records, split, "val", source)
    fitted = method.select_and_fit(train, val)
    # Only now is the test part built: selection above never had it.
    test = _part(records, split, "test", source)
    proba = np.asarray(fitted.predict_proba(test), dtype=np.float64)
    if proba.shape != (len(test.records), len(DISEASE_CLASSES)):
        raise ValueError(f"{method.name}: predict_proba returned {proba.shape}.")
    val_proba = fitted.info.pop("val_proba", None)
    unit = {
        "version": UNIT_VERSION,
        "method": method.name,
        "class_names": list(DISEASE_CLASSES),
        "split": split.to_dict(),
        "info": fitted.info,
        "test": _rows(test, proba),
        "val": _rows(val, np.asarray(val_proba)) if val_proba is not None else [],
    }
    _write_json(path, unit)
    return unit


def load_units(run_dir: str | os.PathLike[str], protocol: str, method: str) -> list:
    """Every saved unit of a method and protocol, sorted by file name."""
    folder = Path(run_dir) / protocol / method
    out = []
    for p in sorted(folder.glob("*.json")):
        with p.open() as fh:
            out.append(json.load(fh))
    return out
