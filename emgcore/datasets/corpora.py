"""The gesture sEMG corpora: one registry and one trial layer for every caller.

Two consumers read the same four corpora (NinaPro DB1 E1, myo-readings, UCI
EMG gestures, UCI sEMG): the :class:`~emgcore.datasets.base.WindowSet`
loaders of :mod:`emgcore.datasets.gestures` / :mod:`~emgcore.datasets.ninapro`
(CNN-TCN pretraining) and :mod:`emgcore.gesture.data` (All-ConvNet
adaptation). What a corpus *is* (folder, file pattern, reader, sampling rate,
channels, label codes and class names, how a file names its subject) is written
here once, and so is how a corpus becomes trials (:func:`select_trials`,
:func:`rank_per_key`).

It lives in ``emgcore.datasets`` rather than ``emgcore.gesture.data`` because
it is the lower layer: the WindowSet loaders must not import the All-ConvNet
package, while ``emgcore.gesture.data`` already builds on ``emgcore.datasets``
(the data directory).

Names: each corpus has one canonical name, identifier-shaped like the
``load_<name>`` loaders and :func:`emgcore.datasets.load_dataset` keys
(``"myo_readings"``), and accepts the spelling the gesture command line uses
(``"myo-readings"``) as an alias (:func:`canonical_name`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from emgcore.errors import DataNotFoundError
from emgcore.io.gestures import (
    MYO_READINGS_CLASSES,
    UCI_EMG_CLASSES,
    UCI_SEMG_CLASSES,
    GestureFile,
    Trial,
    read_myo_readings,
    read_ninapro_gestures,
    read_uci_emg_gestures,
    read_uci_semg,
)

NINAPRO_DB1_E1_CLASSES = (
    "index flexion",
    "index extension",
    "middle flexion",
    "middle extension",
    "ring flexion",
    "ring extension",
    "little finger flexion",
    "little finger extension",
    "thumb adduction",
    "thumb abduction",
    "thumb flexion",
    "thumb extension",
)


# -- subject rules and file finders ---------------------------------------------
def ninapro_subject(path: Path) -> str:
    """``S1_A1_E1.mat`` -> ``"S1"`` (the first part of the stem, upper case)."""
    return path.stem.upper().split("_")[0]


def ninapro_files(folder: Path, exercise: int = 1) -> dict[Path, str]:
    """NinaPro files of one exercise (``..._E<k>...``) -> subject, sorted by name.

    The exercise is matched as a part of the stem, so DB1 (``S1_A1_E1``) and
    DB2 (``S1_E1_A1``) names both work.
    """
    files = {}
    for path in sorted(folder.glob("S*.mat")):
        if f"E{exercise}" in path.stem.upper().split("_"):
            files[path] = ninapro_subject(path)
    return files


def _ninapro_e1_files(folder: Path) -> list[Path]:
    # Subject-number order (S1, S2, ..., S10): the order gesture adaptation
    # has always listed subjects in, which picks its held-out targets.
    return sorted(ninapro_files(folder, 1), key=lambda p: int(p.stem[1:].split("_")[0]))


def _myo_subject(path: Path) -> str:
    return path.stem.split("-")[0]  # "<pid>-<session>.npz"


def _parent_name(path: Path) -> str:
    return path.parent.name


def _stem(path: Path) -> str:
    return path.stem


def _glob(pattern: str) -> Callable[[Path], list[Path]]:
    def find(folder: Path) -> list[Path]:
        return sorted(folder.glob(pattern))

    return find


def _read_one(
    reader: Callable[[str | Path], GestureFile],
) -> Callable[[str | Path], list[GestureFile]]:
    def read(path: str | Path) -> list[GestureFile]:
        return [reader(path)]

    return read


# -- the registry ---------------------------------------------------------------
@dataclass(frozen=True)
class GestureCorpus:
    """What one gesture corpus is, for every reader of it.

    Attributes
    ----------
    name : str
        Canonical name (``"myo_readings"``).
    aliases : tuple of str
        Other accepted spellings (``"myo-readings"``).
    folder : str
        Folder under the data directory.
    layout : str
        File layout (the ``layout`` of
        :func:`emgcore.gesture.data.read_gesture_files`).
    sfreq : float
        Rate in Hz of the reader's output.
    device_sfreq : float
        The recording device's own rate (UCI EMG: read on a sample-held
        1 kHz grid from a 200 Hz Myo stream).
    n_chans : int
    classes : Mapping[int, str]
        Label code -> class name for the codes that are classes, in class order.
    rest_code : int or None
        Label code of rest where rest is labelled as a gesture.
    find : callable
        Data folder -> its files, in recording order.
    subject_of : callable
        File path -> subject id.
    read : callable
        File path -> its :class:`~emgcore.io.gestures.GestureFile` objects.
    """

    name: str
    aliases: tuple[str, ...]
    folder: str
    layout: str
    sfreq: float
    device_sfreq: float
    n_chans: int
    classes: Mapping[int, str]
    rest_code: int | None
    find: Callable[[Path], list[Path]]
    subject_of: Callable[[Path], str]
    read: Callable[[str | Path], list[GestureFile]]

    @property
    def cli_name(self) -> str:
        """The spelling the gesture command line uses (its messages use it too)."""
        return self.aliases[0] if self.aliases else self.name

    def files(self, root: Path) -> dict[Path, str]:
        """Files of the corpus folder ``root`` -> subject, in recording order."""
        return {p: self.subject_of(p) for p in self.find(root)}


CORPORA: dict[str, GestureCorpus] = {
    c.name: c
    for c in (
        GestureCorpus(
            name="myo_readings",
            aliases=("myo-readings",),
            folder="myo-readings-dataset",
            layout="myo-readings",
            sfreq=200.0,
            device_sfreq=200.0,
            n_chans=8,
            classes={c: MYO_READINGS_CLASSES[c] for c in range(8)},
            rest_code=0,
            find=_glob("_readings_*_hand/*.npz"),
            subject_of=_myo_subject,
            read=read_myo_readings,
        ),
        GestureCorpus(
            name="ninapro",
            aliases=("ninapro-db1-e1",),
            folder="ninapro-db1-e1",
            layout="ninapro",
            sfreq=100.0,
            device_sfreq=100.0,
            n_chans=10,
            classes=dict(enumerate(NINAPRO_DB1_E1_CLASSES, start=1)),
            rest_code=None,
            find=_ninapro_e1_files,
            subject_of=ninapro_subject,
            read=_read_one(read_ninapro_gestures),
        ),
        GestureCorpus(
            name="uci_emg_gestures",
            aliases=("uci-emg-gestures",),
            folder="uci-emg-gestures-myo",
            layout="uci-emg-gestures",
            sfreq=1000.0,
            device_sfreq=200.0,
            n_chans=8,
            # class 7 ("extended palm") never occurs in this copy: not a class
            classes={c: UCI_EMG_CLASSES[c] for c in range(1, 7)},
            rest_code=1,
            find=_glob("*/*.npz"),
            subject_of=_parent_name,
            read=_read_one(read_uci_emg_gestures),
        ),
        GestureCorpus(
            name="uci_semg",
            aliases=("uci-semg",),
            folder="uci-semg-basic-hand-movements",
            layout="uci-semg",
            sfreq=500.0,
            device_sfreq=500.0,
            n_chans=2,
            classes=dict(UCI_SEMG_CLASSES),
            rest_code=None,
            find=_glob("Database_1/*.mat"),
            subject_of=_stem,
            read=_read_one(read_uci_semg),
        ),
    )
}

#: Every accepted spelling -> canonical corpus name.
CORPUS_NAMES: dict[str, str] = {
    spelling: c.name for c in CORPORA.values() for spelling in (c.name, *c.aliases)
}


def canonical_name(name: str) -> str:
    """The canonical corpus name for ``name``; other names are returned as given."""
    return CORPUS_NAMES.get(name, name)


def get_corpus(name: str) -> GestureCorpus:
    """The corpus called ``name`` (any accepted spelling).

    Raises
    ------
    DataNotFoundError
        If ``name`` is no gesture corpus.
    """
    if name not in CORPUS_NAMES:
        raise DataNotFoundError(
            f"Unknown gesture corpus {name!r}. Known: {', '.join(CORPUS_NAMES)}."
        )
    return CORPORA[CORPUS_NAMES[name]]


def corpus_folder(name: str, data_dir: str | Path | None = None) -> Path:
    """The folder of corpus ``name`` under the data directory (must exist).

    Raises
    ------
    DataNotFoundError
        If the data directory or the corpus folder is missing.
    """
    from emgcore.datasets import data_dir as resolve_data_dir

    root = resolve_data_dir(data_dir) / get_corpus(name).folder
    if not root.is_dir():
        raise DataNotFoundError(f"Gesture dataset folder {root} does not exist.")
    return root


# -- the trial layer ------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CorpusTrial:
    """One trial of a read file: the file, the trial's samples, its rank.

    ``rank`` counts the subject's earlier trials of the same label in the
    order the trials were selected (files in recording order, then time),
    from the ``rank_base`` given to :func:`select_trials`.
    """

    file: GestureFile
    trial: Trial
    rank: int

    @property
    def subject(self) -> str:
        return self.file.subject

    @property
    def session(self) -> str:
        return self.file.session

    @property
    def label(self) -> int:
        return self.trial.label

    def samples(self, decimate: int = 1) -> NDArray[np.float32]:
        """The trial's samples, shape (n_chans, n_times), every ``decimate``-th."""
        start, stop = decimated_bounds(self.trial, decimate)
        data = self.file.recording.data
        return np.ascontiguousarray(data[:, ::decimate][:, start:stop], np.float32)


def decimated_bounds(trial: Trial, decimate: int = 1) -> tuple[int, int]:
    """Sample range of ``trial`` after keeping every ``decimate``-th sample."""
    # the first kept sample at or after start, up to the first at or after stop
    return -(-trial.start // decimate), -(-trial.stop // decimate)


def rank_per_key(keys: Iterable[Hashable], *, base: int) -> list[int]:
    """Rank of each item among the earlier items with the same key, from ``base``.

    The pretraining loaders number repetitions from 1 (``base=1``), gesture
    adaptation orders trials from 0 (``base=0``); both count the same way.
    """
    seen: dict[Hashable, int] = {}
    ranks = []
    for key in keys:
        ranks.append(seen.get(key, 0) + base)
        seen[key] = seen.get(key, 0) + 1
    return ranks


def select_trials(
    files: Sequence[GestureFile],
    codes: Iterable[int],
    *,
    keep: Callable[[GestureFile, Trial], bool] | None = None,
    rank_base: int = 0,
) -> list[CorpusTrial]:
    """The trials of ``files`` labelled with one of ``codes``, ranked.

    Parameters
    ----------
    files : sequence of GestureFile
        In recording order (sessions sorted, as :meth:`GestureCorpus.files`).
    codes : iterable of int
        Label codes that are classes.
    keep : callable, optional
        ``keep(file, trial)`` false drops a trial before ranking.
    rank_base : int
        Rank of a subject's first trial of a label (0 or 1; see
        :func:`rank_per_key`).

    Returns
    -------
    list of CorpusTrial
        In file order, then time.
    """
    wanted = set(codes)
    chosen = [
        (gf, tr)
        for gf in files
        for tr in gf.trials
        if tr.label in wanted and (keep is None or keep(gf, tr))
    ]
    ranks = rank_per_key(((gf.subject, tr.label) for gf, tr in chosen), base=rank_base)
    return [CorpusTrial(gf, tr, r) for (gf, tr), r in zip(chosen, ranks, strict=True)]


def corpus_files(name: str, data_dir: str | Path | None = None) -> dict[Path, str]:
    """Files of corpus ``name`` -> subject, in recording order.

    Raises
    ------
    DataNotFoundError
        If the corpus folder is missing or holds none of its files.
    """
    corpus = get_corpus(name)
    root = corpus_folder(name, data_dir)
    files = corpus.files(root)
    if not files:
        raise DataNotFoundError(f"No {corpus.cli_name} files under {root}.")
    return files


def read_corpus(
    name: str,
    data_dir: str | Path | None = None,
    *,
    subjects: Iterable[str] | None = None,
) -> list[GestureFile]:
    """Read a corpus (or some subjects) as GestureFiles in recording order.

    Raises
    ------
    DataNotFoundError
        If the folder holds no files of the corpus, or a subject is unknown.
    """
    corpus = get_corpus(name)
    files = corpus_files(name, data_dir)
    if subjects is not None:
        wanted = {str(s) for s in subjects}
        known = set(files.values())
        unknown = sorted(wanted - known)
        if unknown:
            raise DataNotFoundError(
                f"Subject(s) {', '.join(unknown)} not in {corpus.cli_name} "
                f"(known: {', '.join(sorted(known))})."
            )
        files = {p: s for p, s in files.items() if s in wanted}
    return [gf for path in files for gf in corpus.read(path)]
