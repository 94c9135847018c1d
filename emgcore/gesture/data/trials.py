"""Reading gesture recordings into :class:`GestureTrial` objects.

Readers for the labelled CSV and the corpus layouts, the split of a file into
trials (one gesture run each, rest runs kept where rest is a class, dominant
classes thinned), and the data-folder lookup per subject (:func:`list_subjects`,
:func:`subject_files`, :func:`load_trials`). Separate from windowing: this
module knows files and labels, never model inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from emgcore.datasets.corpora import (
    CORPORA,
    GestureCorpus,
    corpus_files,
    decimated_bounds,
    read_corpus,
    select_trials,
)
from emgcore.errors import DataNotFoundError, InvalidRecordingError
from emgcore.gesture.data.registry import LAYOUTS, GestureDatasetSpec
from emgcore.io.gestures import GestureFile, Trial, find_runs
from emgcore.recording import Recording

#: Reader of each corpus layout (the corpus registry's readers).
_LAYOUT_READERS = {c.layout: c.read for c in CORPORA.values()}


@dataclass(frozen=True, eq=False)
class GestureTrial:
    """One trial ready for windowing.

    Attributes
    ----------
    data : ndarray of float32, shape (n_chans, n_times)
        The trial's samples at the spec's ``sfreq``.
    label : int
        Class index (position in the spec's ``class_names``).
    subject, session : str
    order : int
        0-based rank of this trial among the subject's trials of the same
        class, in recording order (session, file, time). "The first k trials
        per gesture" are those with ``order < k``.
    source : str
        ``"<file name>@<start sample>"`` for traceability.
    """

    data: NDArray[np.float32]
    label: int
    subject: str
    session: str
    order: int
    source: str

    @property
    def n_times(self) -> int:
        return int(self.data.shape[1])


# -- reading ---------------------------------------------------------------------
def read_labelled_csv(
    path: str | Path, *, sfreq: float, label_column: str = "label"
) -> GestureFile:
    """Read a CSV with one column per channel and a label column.

    Parameters
    ----------
    path : str | Path
        Comma-separated file with a header row; every column other than
        ``label_column`` (and a ``time``/``time_s`` column, ignored) is a
        channel. Labels are integer dataset codes.
    sfreq : float
        Sampling rate in Hz.
    label_column : str

    Returns
    -------
    GestureFile
        Trials are contiguous runs of one label.

    Raises
    ------
    InvalidRecordingError
        If the label column is missing or values are not numbers.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    with open(path, encoding="utf-8-sig") as fh:
        header = [h.strip() for h in fh.readline().strip().split(",")]
    if label_column not in header:
        raise InvalidRecordingError(
            f"{path.name}: no {label_column!r} column in the header "
            f"({', '.join(header[:12])})."
        )
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except ValueError as exc:
        raise InvalidRecordingError(
            f"{path.name}: not a numeric CSV ({exc})."
        ) from None
    if table.shape[1] != len(header):
        raise InvalidRecordingError(
            f"{path.name}: {table.shape[1]} values per row but {len(header)} columns "
            "in the header."
        )
    lab_idx = header.index(label_column)
    ch_idx = [
        i for i, h in enumerate(header) if i != lab_idx and h not in ("time", "time_s")
    ]
    labels = table[:, lab_idx].astype(np.int64)
    rec = Recording(
        data=np.ascontiguousarray(table[:, ch_idx].T, dtype=np.float32),
        sfreq=float(sfreq),
        ch_names=tuple(header[i] for i in ch_idx),
        units=("a.u.",) * len(ch_idx),
        source={"format": "csv", "path": str(path)},
    )
    counts: dict[int, int] = {}
    trials = []
    for label, start, stop in find_runs(labels):
        counts[label] = counts.get(label, 0) + 1
        trials.append(Trial(label, start, stop, counts[label]))
    return GestureFile(
        recording=rec,
        labels=labels,
        trials=tuple(trials),
        dataset="csv",
        subject=path.stem,
        session="1",
        name=path.stem,
    )


def read_gesture_files(
    paths: Sequence[str | Path], layout: str, *, sfreq: float | None = None
) -> list[GestureFile]:
    """Read files in one dataset layout (or labelled CSV) as GestureFiles.

    Parameters
    ----------
    paths : sequence of path
    layout : {"myo-readings", "ninapro", "uci-emg-gestures", "uci-semg", "csv"}
    sfreq : float, optional
        Needed for ``"csv"`` (Hz).

    Returns
    -------
    list of GestureFile
    """
    if layout not in LAYOUTS:
        raise InvalidRecordingError(
            f"Unknown gesture file layout {layout!r}. Known: {', '.join(LAYOUTS)}."
        )
    out: list[GestureFile] = []
    for p in paths:
        if layout in _LAYOUT_READERS:
            out.extend(_LAYOUT_READERS[layout](p))
        else:
            if sfreq is None:
                raise InvalidRecordingError(
                    f"{Path(p).name}: a CSV needs its sampling rate (sfreq)."
                )
            out.append(read_labelled_csv(p, sfreq=sfreq))
    return out


def trials_from_files(
    files: Sequence[GestureFile], spec: GestureDatasetSpec
) -> list[GestureTrial]:
    """Turn GestureFiles into :class:`GestureTrial` objects of ``spec``'s classes.

    Trials whose label is not one of ``spec.label_codes`` are dropped, as are
    myo-readings ``0.txt`` parts (see the module notes) and trials shorter than
    one window. ``order`` counts per (subject, class) in the order of
    ``files`` (sort them by session first) and of time within a file.

    Parameters
    ----------
    files : sequence of GestureFile
    spec : GestureDatasetSpec

    Returns
    -------
    list of GestureTrial
    """
    code_to_idx = {c: i for i, c in enumerate(spec.label_codes)}
    factor = spec.decimate

    def usable(gf: GestureFile, tr: Trial) -> bool:
        if gf.dataset == "myo-readings-dataset" and gf.name.endswith("/0"):
            return False
        start, stop = decimated_bounds(tr, factor)
        return stop - start >= spec.window

    # Ranks from 0 ("order < k" are the first k trials); per (subject, code) is
    # per (subject, class) since codes and classes correspond one to one.
    out = [
        GestureTrial(
            data=ct.samples(factor),
            label=code_to_idx[ct.label],
            subject=ct.subject,
            session=ct.session,
            order=ct.rank,
            source=f"{ct.file.name}@{ct.trial.start}",
        )
        for ct in select_trials(files, spec.label_codes, keep=usable, rank_base=0)
    ]
    return _thin_dominant_classes(out)


def _thin_dominant_classes(trials: list[GestureTrial]) -> list[GestureTrial]:
    """Keep every n-th trial of a class with far more trials than the others.

    myo-readings has a rest run between every two gesture runs, so rest has
    ~7 times the trials of each gesture; keeping evenly spaced rest runs gives
    it about the median count per class (per subject) and keeps it spread
    over all files and sessions.
    """
    by_subject: dict[str, dict[int, list[GestureTrial]]] = {}
    for t in trials:
        by_subject.setdefault(t.subject, {}).setdefault(t.label, []).append(t)
    drop: set[int] = set()
    renumber: dict[int, int] = {}
    for per_label in by_subject.values():
        median = float(np.median([len(v) for v in per_label.values()]))
        for items in per_label.values():
            if median >= 1 and len(items) > 1.5 * median:
                every = int(round(len(items) / median))
                for i, t in enumerate(items):
                    if i % every:
                        drop.add(id(t))
                    else:
                        renumber[id(t)] = i // every
    if not drop:
        return trials
    return [
        GestureTrial(t.data, t.label, t.subject, t.session, renumber[id(t)], t.source)
        if id(t) in renumber
        else t
        for t in trials
        if id(t) not in drop
    ]


def _corpus(spec: GestureDatasetSpec) -> GestureCorpus:
    # One corpus per file layout; its folder is the spec's (both come from it).
    for corpus in CORPORA.values():
        if corpus.layout == spec.layout:
            return corpus
    raise DataNotFoundError(f"No gesture corpus has the {spec.layout!r} layout.")


def list_subjects(
    spec: GestureDatasetSpec, data_dir: str | Path | None = None
) -> list[str]:
    """Subject ids of a dataset, sorted as the files are."""
    files = corpus_files(_corpus(spec).name, data_dir)
    return list(dict.fromkeys(files.values()))


def subject_files(
    spec: GestureDatasetSpec, subject: str, data_dir: str | Path | None = None
) -> list[GestureFile]:
    """Every recording of one subject, read as GestureFiles in session order.

    Raises
    ------
    DataNotFoundError
        If the subject has no files.
    """
    corpus = _corpus(spec)
    paths = [p for p, s in corpus_files(corpus.name, data_dir).items() if s == subject]
    if not paths:
        raise DataNotFoundError(f"No {spec.name} files for subject {subject!r}.")
    return read_gesture_files(paths, spec.layout)


def load_trials(
    spec: GestureDatasetSpec,
    data_dir: str | Path | None = None,
    *,
    subjects: Sequence[str] | None = None,
) -> list[GestureTrial]:
    """Read a whole dataset (or some subjects) as trials.

    Parameters
    ----------
    spec : GestureDatasetSpec
    data_dir : path, optional
        Data directory (default ``$EMG_DATA_DIR``).
    subjects : sequence of str, optional
        Subject ids to read (default: all).

    Returns
    -------
    list of GestureTrial
    """
    files = read_corpus(_corpus(spec).name, data_dir, subjects=subjects)
    return trials_from_files(files, spec)
