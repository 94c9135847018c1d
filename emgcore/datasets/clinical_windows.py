"""Windows of the clinical needle-EMG records (N2001 WFDB, Mendeley) as a WindowSet.

The records come from :func:`~emgcore.datasets.clinical.clinical_records`, so the
trims, exclusions and invalid-sample cuts described there apply. Each valid
stretch of a record is preprocessed on its own (no filter runs across a cut) and
windowed; start/stop samples index the original record.

The default preprocessing keeps physical units and the needle-EMG band: 8 kHz
(Nyquist 4 kHz, which both sites' 23.4 / 32.8 kHz rates allow), a 20 Hz
high-pass, a 50 Hz notch with harmonics (both sites are on 50 Hz mains; the
Mendeley healthy biceps records are dominated by it, PROVENANCE.md), **no
z-scoring**, 1 s windows with 50 % overlap. Pass another
:class:`~emgcore.config.PreprocessConfig` for other rates.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from emgcore.datasets._common import base_meta, cached, resolve_cache_dir
from emgcore.datasets.base import DISEASE_CLASSES, DatasetError, WindowSet
from emgcore.datasets.clinical import ClinicalRecord, clinical_records

logger = logging.getLogger(__name__)

#: Per-window ``extra`` keys, all strings ("" where the source gives nothing).
EXTRA_KEYS: tuple[str, ...] = (
    "site",
    "muscle",
    "side",
    "age",
    "sex",
    "level",
    "source_class",
    "record_name",
    "sha256",
)


def default_clinical_preprocess() -> Any:
    """8 kHz, 20 Hz high-pass, 50 Hz notch + harmonics, no z-score, 1 s / 0.5 s."""
    from emgcore.config import PreprocessConfig

    return PreprocessConfig(
        target_sfreq=8000.0,
        bandpass_hz=(20.0, 4000.0),
        notch_hz=50.0,
        notch_harmonics=True,
        zscore=None,
    )


def _record_windows(rec: ClinicalRecord, config: Any) -> WindowSet:
    from emgcore.datasets._common import segment_windows
    from emgcore.recording import Recording

    counts = rec.counts()
    segments = rec.valid_segments(counts)
    if not segments:
        raise DatasetError(f"{rec.record}: no valid stretch of >= 1 s.")
    # Invalid samples lie outside every segment; they are zeroed only so that the
    # Recording (which refuses non-finite values) can be built, and never read.
    data = (counts.astype(np.float32) / np.float32(rec.gain))[None, :]
    recording = Recording(
        data=data,
        sfreq=rec.fs,
        ch_names=("EMG",),
        units=("uV",),
        source={"format": "wfdb", "path": rec.path},
    )
    wins, starts, stops, sfreq = segment_windows(
        recording, config, segments, continuous=False
    )
    X = np.concatenate(wins)
    n = len(X)
    meta = {
        "site": rec.site,
        "muscle": rec.muscle,
        "side": rec.side,
        "age": "" if rec.age is None else str(rec.age),
        "sex": rec.sex or "",
        "level": rec.level or "",
        "source_class": rec.source_class,
        "record_name": rec.name,
        "sha256": rec.sha256,
    }
    return WindowSet(
        X=X,
        y=np.full(n, rec.y),
        class_names=DISEASE_CLASSES,
        recording_ids=np.full(n, rec.record),
        subjects=np.full(n, rec.subject),
        start_samples=np.concatenate(starts),
        stop_samples=np.concatenate(stops),
        sfreq=sfreq,
        orig_sfreq=np.full(n, rec.fs),
        extra={k: np.full(n, meta[k]) for k in EXTRA_KEYS},
    )


def load_clinical(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    sites: Iterable[str] = ("n2001", "mendeley"),
    preprocess: Any = None,
    subjects: Iterable[str] | None = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
) -> WindowSet:
    """Windows of the clinical records of ``sites`` (both by default).

    Parameters
    ----------
    data_dir : path-like, optional
    sites : iterable of {"n2001", "mendeley"}
    preprocess : PreprocessConfig, optional
        Default :func:`default_clinical_preprocess` (physical units kept).
    subjects : iterable of str, optional
        Site-prefixed subject ids (``"n2001:A01"``); default all.
    cache_dir : path-like, bool or None

    Returns
    -------
    WindowSet
        ``class_names == DISEASE_CLASSES``; ``extra`` holds :data:`EXTRA_KEYS`.
    """
    config = preprocess if preprocess is not None else default_clinical_preprocess()
    records = clinical_records(data_dir, sites=sites)
    if subjects is not None:
        wanted = {str(s) for s in subjects}
        unknown = wanted - {r.subject for r in records}
        if unknown:
            raise DatasetError(
                f"clinical: unknown subject(s) {', '.join(sorted(unknown))} "
                "(ids are site-prefixed, e.g. 'n2001:A01', 'mendeley:Hea_01')."
            )
        records = [r for r in records if r.subject in wanted]
    cache = resolve_cache_dir(cache_dir)
    settings = {"preprocess": config.to_dict(), "adapter": "clinical-1"}
    parts = []
    for rec in records:
        parts.append(
            cached(
                f"clinical_{rec.site}",
                Path(rec.path),
                settings,
                lambda rec=rec: _record_windows(rec, config),
                cache,
            )
        )
    ws = WindowSet.concat(parts)
    ws.meta = base_meta("clinical", config, sites=list(sites), n_recordings=len(parts))
    logger.info("loaded %r", ws)
    return ws


def load_emglab_n2001_wfdb(
    data_dir: str | os.PathLike[str] | None = None, **kwargs: Any
) -> WindowSet:
    """N2001 from its WFDB folder (18 people); arguments as :func:`load_clinical`."""
    ws = load_clinical(data_dir, sites=("n2001",), **kwargs)
    ws.meta["dataset"] = "emglab_n2001_wfdb"
    return ws


def load_needle_emg_mendeley(
    data_dir: str | os.PathLike[str] | None = None, **kwargs: Any
) -> WindowSet:
    """The Mendeley needle-EMG set (190 people); arguments as :func:`load_clinical`."""
    ws = load_clinical(data_dir, sites=("mendeley",), **kwargs)
    ws.meta["dataset"] = "needle_emg_mendeley"
    return ws
