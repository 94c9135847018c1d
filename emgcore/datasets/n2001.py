"""EMGLAB N2001 clinical needle EMG: 7 subjects, 67 recordings (PROVENANCE.md).

Subject, class and muscle come from the file name
(``N2001<A|C|M><nn><BB|VM><nn>.bin``): ALS -> ``"neuropathy"``, control ->
``"healthy"``, myopathy -> ``"myopathy"``, in the fixed class order
:data:`~emgcore.datasets.base.DISEASE_CLASSES`. The recording id is the file
stem. Evaluate grouped by subject (A01 alone has 20 recordings).

Sampling rate: 23437.5 Hz (literature value; the headers are missing). The
default preprocessing resamples to 1 kHz as the paper does, which keeps only
the band below 500 Hz of this wide-band needle EMG; pass another
:class:`~emgcore.config.PreprocessConfig` (e.g. ``target_sfreq=4000``) to keep more.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from functools import partial
from typing import Any

from emgcore.datasets._common import DiseaseSource, load_disease_sources
from emgcore.datasets.base import DISEASE_CLASSES, DatasetError, WindowSet
from emgcore.datasets.physionet import default_disease_preprocess

logger = logging.getLogger(__name__)

DATASET = "emglab_n2001"
#: N2001 class (from the file name) -> disease class.
N2001_CLASS_MAP: dict[str, str] = {
    "ALS": "neuropathy",
    "control": "healthy",
    "myopathy": "myopathy",
}


def load_emglab_n2001(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    preprocess: Any = None,
    subjects: Iterable[str] | None = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
) -> WindowSet:
    """Load the N2001 recordings as labelled windows.

    Parameters
    ----------
    data_dir : path-like, optional
        Data directory; the files are in its ``emglab-n2001/`` folder.
    preprocess : PreprocessConfig, optional
        Default: the paper's PhysioNet settings (1 kHz, 20-500 Hz, 1 s / 0.5 s).
    subjects : iterable of str, optional
        Subject ids such as ``"A01"``, ``"C03"``; default all.
    cache_dir : path-like, bool or None
        On-disk cache; worth it here (67 files at 23.4 kHz).

    Returns
    -------
    WindowSet
        ``class_names == ("healthy", "myopathy", "neuropathy")``; recording id the
        file stem; subject from the name; ``extra["muscle"]`` (``"BB"``/``"VM"``)
        and ``extra["n2001_class"]`` (``"ALS"``, ``"control"``, ``"myopathy"``).

    Raises
    ------
    DataNotFoundError
        If the folder is missing.
    DatasetError
        If it holds no N2001 file, or an unknown subject is asked for.
    """
    from emgcore.datasets import dataset_dir
    from emgcore.io import parse_n2001_name, read_recording

    config = preprocess if preprocess is not None else default_disease_preprocess()
    folder = dataset_dir(DATASET, data_dir)
    files = {}
    for path in sorted(folder.glob("*.bin")):
        info = parse_n2001_name(path.name)
        if info is None:
            logger.warning("ignoring %s: not an N2001 file name", path)
            continue
        files[path] = info
    if not files:
        raise DatasetError(
            f"{folder}: no N2001 .bin files (N2001[ACM]nn(BB|VM)nn.bin)."
        )
    sources = [
        DiseaseSource(
            path=path,
            read=partial(read_recording, path, format="n2001"),
            label=DISEASE_CLASSES.index(N2001_CLASS_MAP[info["class"]]),
            recording_id=path.stem,
            subject=info["subject"],
            extra={"muscle": info["muscle"], "n2001_class": info["class"]},
        )
        for path, info in files.items()
    ]
    ws = load_disease_sources(
        DATASET, sources, config, subjects=subjects, cache_dir=cache_dir
    )
    logger.info("loaded %r", ws)
    return ws
