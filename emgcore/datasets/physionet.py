"""PhysioNet "Examples of Electromyograms" (emgdb 1.0.0): three needle-EMG records.

One record per class and one person per record (PROVENANCE.md): healthy (44 y),
myopathy (57 y) and neuropathy (62 y), tibialis anterior, 4 kHz. The recording id
and the subject are the record name, so a subject-held-out split is impossible
here; use :func:`~emgcore.datasets.splits.blocked_split` for honest numbers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from functools import partial
from typing import Any

from emgcore.datasets._common import DiseaseSource, load_disease_sources
from emgcore.datasets.base import DISEASE_CLASSES, WindowSet

logger = logging.getLogger(__name__)

DATASET = "physionet_emgdb"
#: Record name -> class name.
EMGDB_RECORDS: dict[str, str] = {
    "emg_healthy": "healthy",
    "emg_myopathy": "myopathy",
    "emg_neuropathy": "neuropathy",
}


def default_disease_preprocess() -> Any:
    """The CNN-TCN paper's settings for PhysioNet needle EMG.

    1 kHz, 4th-order Butterworth 20-500 Hz (at 1 kHz, 500 Hz is Nyquist, so this
    is a 20 Hz high-pass after the resampler's anti-aliasing filter; see
    :class:`~emgcore.config.PreprocessConfig`), automatic mains notch,
    recording z-score, 1 s windows with 50 % overlap.
    """
    from emgcore.config import PreprocessConfig

    return PreprocessConfig(bandpass_hz=(20.0, 500.0))


def load_physionet_emgdb(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    preprocess: Any = None,
    subjects: Iterable[str] | None = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
) -> WindowSet:
    """Load the three emgdb records as labelled windows.

    Parameters
    ----------
    data_dir : path-like, optional
        Data directory (see :func:`emgcore.datasets.data_dir`); the records are in
        its ``physionet-emgdb/`` folder.
    preprocess : PreprocessConfig, optional
        Default :func:`default_disease_preprocess` (paper settings).
    subjects : iterable of str, optional
        Record names to load (``"emg_healthy"``, ...); default all three.
    cache_dir : path-like, bool or None
        On-disk cache (see :func:`emgcore.datasets._common.resolve_cache_dir`).

    Returns
    -------
    WindowSet
        ``class_names == ("healthy", "myopathy", "neuropathy")``; one recording
        per class; ``orig_sfreq`` 4000 Hz; ``extra["muscle"]`` names the muscle.
        With 1 s / 0.5 s windows at 1 kHz: 24, 54 and 72 windows.
    """
    from emgcore.datasets import dataset_dir
    from emgcore.io import read_recording

    config = preprocess if preprocess is not None else default_disease_preprocess()
    folder = dataset_dir(DATASET, data_dir)
    sources = [
        DiseaseSource(
            path=folder / f"{record}.dat",
            read=partial(read_recording, folder / record, format="wfdb"),
            label=DISEASE_CLASSES.index(EMGDB_RECORDS[record]),
            recording_id=record,
            subject=record,
            extra={"muscle": "tibialis anterior"},
        )
        for record in EMGDB_RECORDS
    ]
    ws = load_disease_sources(
        DATASET, sources, config, subjects=subjects, cache_dir=cache_dir
    )
    logger.info("loaded %r", ws)
    return ws
