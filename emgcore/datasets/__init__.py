"""Dataset adapters, the :class:`WindowSet` container and leakage-free splits.

Each adapter ``load_<name>(data_dir=None, *, preprocess=None, ...)`` reads one
corpus from the data directory and returns a :class:`WindowSet`. The data directory
is ``data_dir`` if given, else ``$EMG_DATA_DIR``, else ``../shared/data`` beside the
repository. The loaders, scipy and the preprocessing pipeline are imported
when a loader runs, so importing this package stays cheap (it reads the gesture
corpus registry, :mod:`emgcore.datasets.corpora`, whose readers need numpy
only).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emgcore.datasets.base import DISEASE_CLASSES, DatasetError, WindowSet
from emgcore.datasets.corpora import CORPORA, canonical_name
from emgcore.errors import DataNotFoundError

#: Environment variable naming the folder that holds one sub-folder per dataset.
DATA_DIR_ENV = "EMG_DATA_DIR"

#: Sub-folder of the data directory for each registered dataset (the gesture
#: corpora's from :data:`emgcore.datasets.corpora.CORPORA`). The gesture
#: command line's spellings (``"myo-readings"``) are accepted wherever a name
#: is (:func:`~emgcore.datasets.corpora.canonical_name`).
DATASET_FOLDERS: dict[str, str] = {
    "physionet_emgdb": "physionet-emgdb",
    "emglab_n2001": "emglab-n2001",
    "emglab_n2001_wfdb": "emglab-n2001-wfdb",
    "needle_emg_mendeley": "needle-emg-mendeley",
    **{
        name: CORPORA[name].folder
        for name in ("ninapro", "myo_readings", "uci_emg_gestures", "uci_semg")
    },
}


def _default_data_dir() -> Path:
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the data directory.

    Parameters
    ----------
    path : path-like, optional
        Explicit directory. Without it, ``$EMG_DATA_DIR`` is used, and without
        that ``../shared/data`` relative to the repository.

    Returns
    -------
    Path
        An existing directory (absolute).

    Raises
    ------
    DataNotFoundError
        If the directory does not exist.
    """
    if path is not None:
        where, how = Path(path), "the data_dir argument"
    elif os.environ.get(DATA_DIR_ENV):
        where, how = Path(os.environ[DATA_DIR_ENV]), f"${DATA_DIR_ENV}"
    else:
        where, how = _default_data_dir(), f"the default (${DATA_DIR_ENV} is not set)"
    where = where.expanduser()
    if not where.is_dir():
        raise DataNotFoundError(
            f"EMG data directory {where} (from {how}) does not exist. Set "
            f"{DATA_DIR_ENV} to the folder that holds physionet-emgdb/, "
            "emglab-n2001/, ..., or fetch the PhysioNet examples with "
            "`python -m emgcore data download emgdb`."
        )
    return where.resolve()


def dataset_dir(name: str, path: str | os.PathLike[str] | None = None) -> Path:
    """Folder of dataset ``name`` (a key of :data:`DATASET_FOLDERS`).

    Raises
    ------
    DataNotFoundError
        If the data directory or the dataset's folder is missing.
    ValueError
        If ``name`` is not a known dataset.
    """
    from emgcore._validation import _check_option

    name = canonical_name(name)
    _check_option("dataset", name, DATASET_FOLDERS)
    root = data_dir(path)
    folder = root / DATASET_FOLDERS[name]
    if not folder.is_dir():
        hint = (
            " Run `python -m emgcore data download emgdb` to fetch it."
            if name == "physionet_emgdb"
            else " See `python -m emgcore data list`."
        )
        raise DataNotFoundError(
            f"Dataset '{name}' not found: {folder} does not exist.{hint}"
        )
    return folder


def _registry() -> dict[str, Callable[..., WindowSet]]:
    from emgcore.datasets.clinical_windows import (
        load_emglab_n2001_wfdb,
        load_needle_emg_mendeley,
    )
    from emgcore.datasets.gestures import (
        load_myo_readings,
        load_uci_emg_gestures,
        load_uci_semg,
    )
    from emgcore.datasets.n2001 import load_emglab_n2001
    from emgcore.datasets.ninapro import load_ninapro
    from emgcore.datasets.physionet import load_physionet_emgdb

    return {
        "physionet_emgdb": load_physionet_emgdb,
        "emglab_n2001": load_emglab_n2001,
        "emglab_n2001_wfdb": load_emglab_n2001_wfdb,
        "needle_emg_mendeley": load_needle_emg_mendeley,
        "ninapro": load_ninapro,
        "myo_readings": load_myo_readings,
        "uci_emg_gestures": load_uci_emg_gestures,
        "uci_semg": load_uci_semg,
    }


def list_subjects(name: str, path: str | os.PathLike[str] | None = None) -> list[str]:
    """Subject ids of dataset ``name`` found on disk (sorted), without loading it.

    For ``ninapro`` these are the subjects with an exercise-1 file in
    ``ninapro-db1-e1/``; for ``physionet_emgdb`` the record names.
    """
    name = canonical_name(name)
    folder = dataset_dir(name, path)
    if name == "physionet_emgdb":
        from emgcore.datasets.physionet import EMGDB_RECORDS

        found = [r for r in EMGDB_RECORDS if (folder / f"{r}.hea").is_file()]
    elif name == "emglab_n2001":
        from emgcore.io import parse_n2001_name

        infos = (parse_n2001_name(p.name) for p in folder.glob("*.bin"))
        found = [i["subject"] for i in infos if i is not None]
    elif name in ("emglab_n2001_wfdb", "needle_emg_mendeley"):
        from emgcore.datasets.clinical import clinical_records

        site = "n2001" if name == "emglab_n2001_wfdb" else "mendeley"
        found = [r.subject for r in clinical_records(path, sites=(site,))]
    else:  # a gesture corpus
        found = list(CORPORA[name].files(folder).values())
    return sorted(set(found))


def load_dataset(name: str, data_dir: Any = None, **kwargs: Any) -> WindowSet:
    """Load dataset ``name`` with its adapter (see :data:`DATASETS`)."""
    from emgcore._validation import _check_option

    registry = _datasets()
    name = canonical_name(name)
    _check_option("dataset", name, registry)
    return registry[name](data_dir, **kwargs)


def _datasets() -> dict[str, Callable[..., WindowSet]]:
    if "DATASETS" not in globals():
        globals()["DATASETS"] = _registry()
    return globals()["DATASETS"]  # type: ignore[no-any-return]


def __getattr__(attr: str) -> Any:
    # DATASETS ({name: loader}) is built on first use, to keep the import cheap.
    if attr == "DATASETS":
        return _datasets()
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


__all__ = [
    "DATASETS",
    "DATASET_FOLDERS",
    "DATA_DIR_ENV",
    "DISEASE_CLASSES",
    "DatasetError",
    "WindowSet",
    "data_dir",
    "dataset_dir",
    "list_subjects",
    "load_dataset",
]
