"""NinaPro gesture sEMG (DB1 here; DB2 files load the same way).

Two ways to label windows:

- ``labelling="majority"`` (default, as in the CNN-TCN paper): windows on the
  preprocessor's regular grid, each labelled by the majority ``restimulus`` of
  its raw samples; windows whose majority is rest (0) are excluded (ties go to
  rest, so they are excluded too). The window's repetition is the majority
  ``rerepetition`` among its samples of that movement.
- ``labelling="within_trial"``: windows cut inside each repetition only (a
  trial is one contiguous run of one movement and repetition), so no window
  straddles rest or two trials; for the gesture protocols.

Class ``k - 1`` is movement ``k`` of the exercise (DB1 E1: 12 finger movements).
The recording id is the file stem (``S1_A1_E1``), the subject ``"S1"``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emgcore._validation import _check_option
from emgcore.datasets._common import (
    base_meta,
    cached,
    resolve_cache_dir,
    segment_windows,
    select_subjects,
    windows_of_recording,
)
from emgcore.datasets.base import DatasetError, WindowSet
from emgcore.datasets.corpora import CORPORA, ninapro_files

logger = logging.getLogger(__name__)

DATASET = "ninapro"
#: Movements per (database, exercise) in the NinaPro files' numbering.
NINAPRO_N_MOVEMENTS: dict[tuple[str, int], int] = {
    ("db1", 1): 12,
    ("db1", 2): 17,
    ("db1", 3): 23,
    ("db2", 1): 17,
    ("db2", 2): 23,
    ("db2", 3): 9,
}
LABELLING = ("majority", "within_trial")


def default_ninapro_preprocess(database: str = "db1") -> Any:
    """Default settings per database (200 ms windows, 100 ms step).

    DB1 holds 100 Hz RMS envelopes from Otto Bock electrodes: they are not
    resampled, band-passed or notched (a 20 Hz high-pass would remove the
    envelope itself), only z-scored. DB2 holds raw 2 kHz sEMG: the paper's
    1 kHz, 20-450 Hz band-pass and notch apply.
    """
    from emgcore.config import PreprocessConfig

    if database == "db2":
        return PreprocessConfig(window_s=0.2, step_s=0.1)
    return PreprocessConfig(
        target_sfreq=None,
        bandpass_hz=None,
        notch_hz=None,
        zscore="recording",
        window_s=0.2,
        step_s=0.1,
    )


def majority_labels(
    labels: NDArray[np.integer],
    starts: NDArray[np.int64],
    stops: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Most frequent label of each raw interval ``[start, stop)``.

    Vectorised with one cumulative count per distinct label. Ties go to the
    smallest label (rest, 0, in NinaPro).

    Parameters
    ----------
    labels : ndarray of int, shape (n_times,)
    starts, stops : ndarray of int64, shape (n_windows,)

    Returns
    -------
    ndarray of int64, shape (n_windows,)
    """
    labels = np.asarray(labels)
    values = np.unique(labels)
    counts = np.empty((len(starts), values.size), dtype=np.int64)
    for j, v in enumerate(values):
        cs = np.concatenate([[0], np.cumsum(labels == v, dtype=np.int64)])
        counts[:, j] = cs[stops] - cs[starts]
    return values[np.argmax(counts, axis=1)].astype(np.int64)


def _majority_repetition(
    stim: NDArray[np.int64],
    rep: NDArray[np.int64],
    starts: NDArray[np.int64],
    stops: NDArray[np.int64],
    win_labels: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Majority repetition among each window's samples of its own movement."""
    key = stim * 1000 + rep
    keys = np.unique(key[stim != 0])
    if keys.size == 0:
        return np.zeros(len(starts), dtype=np.int64)
    counts = np.empty((len(starts), keys.size), dtype=np.int64)
    for j, k in enumerate(keys):
        cs = np.concatenate([[0], np.cumsum(key == k, dtype=np.int64)])
        counts[:, j] = cs[stops] - cs[starts]
    counts[keys[None, :] // 1000 != win_labels[:, None]] = -1
    best = keys[np.argmax(counts, axis=1)]
    return np.where(best // 1000 == win_labels, best % 1000, 0).astype(np.int64)


def _session_windows(
    sess: Any,
    path: Path,
    subject: str,
    config: Any,
    classes: tuple[str, ...],
    labelling: str,
    exercise: int,
) -> WindowSet:
    """Labelled windows of one NinaPro session (see :func:`load_ninapro`)."""
    from emgcore.io.gestures import ninapro_trials

    rec = sess.recording
    if labelling == "majority":
        X, start, stop, sfreq = windows_of_recording(rec, config)
        gesture = majority_labels(sess.restimulus, start, stop)
        keep = gesture != 0
        X, start, stop, gesture = X[keep], start[keep], stop[keep], gesture[keep]
        rep = _majority_repetition(
            sess.restimulus, sess.rerepetition, start, stop, gesture
        )
    else:
        # a trial: one contiguous run of one (movement, repetition), rest excluded
        trials = ninapro_trials(sess)
        if not trials:
            raise DatasetError(f"{path}: no labelled movement repetition found.")
        wins, starts, stops, sfreq = segment_windows(
            rec, config, [(t.start, t.stop) for t in trials]
        )
        counts = [len(w) for w in wins]
        X = np.concatenate(wins)
        start, stop = np.concatenate(starts), np.concatenate(stops)
        gesture = np.repeat([t.label for t in trials], counts).astype(np.int64)
        rep = np.repeat([t.repetition for t in trials], counts).astype(np.int64)
    if gesture.size and gesture.max() > len(classes):
        raise DatasetError(
            f"{path}: movement {int(gesture.max())} is beyond the {len(classes)} "
            f"movements of exercise {exercise}."
        )
    n = len(X)
    trial = [f"{subject}/m{g}/r{r}" for g, r in zip(gesture, rep, strict=True)]
    return WindowSet(
        X=X,
        y=gesture - 1,
        class_names=classes,
        recording_ids=np.full(n, path.stem),
        subjects=np.full(n, subject),
        start_samples=start,
        stop_samples=stop,
        sfreq=sfreq,
        orig_sfreq=np.full(n, rec.sfreq),
        extra={
            "gesture": gesture,
            "repetition": rep,
            "trial": np.array(trial, dtype=str).reshape(n),
            "exercise": np.full(n, exercise),
        },
    )


def load_ninapro(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    preprocess: Any = None,
    subjects: Iterable[str | int] | None = None,
    exercise: int = 1,
    labelling: str = "majority",
    folder: str = CORPORA["ninapro"].folder,
    cache_dir: str | os.PathLike[str] | bool | None = None,
) -> WindowSet:
    """Load NinaPro sessions as movement-labelled windows, rest excluded.

    Parameters
    ----------
    data_dir : path-like, optional
        Data directory.
    preprocess : PreprocessConfig, optional
        Default :func:`default_ninapro_preprocess` for the files' database.
    subjects : iterable of str or int, optional
        ``"S1"`` or ``1``; default all subjects found.
    exercise : int
        Exercise number in the file names (``..._E1``).
    labelling : {"majority", "within_trial"}
        See the module docstring.
    folder : str
        Sub-folder of the data directory (``"ninapro-db1-e1"``; a DB2 copy can
        live in another folder, e.g. ``"ninapro-db2"``).
    cache_dir : path-like, bool or None
        On-disk cache.

    Returns
    -------
    WindowSet
        ``class_names`` ``("movement 1", ...)``; ``extra``: ``"gesture"``
        (movement number), ``"repetition"`` (1..10), ``"trial"``
        (``"S1/m3/r2"``: subject, movement, repetition), ``"exercise"``.
        ``meta["database"]`` is ``"db1"`` or ``"db2"``.

    Raises
    ------
    DatasetError
        No file for this exercise, files of two databases, or unknown subjects.
    """
    from emgcore.datasets import data_dir as resolve_data_dir
    from emgcore.errors import DataNotFoundError
    from emgcore.io import read_ninapro

    _check_option("labelling", labelling, LABELLING)
    root = resolve_data_dir(data_dir) / folder
    if not root.is_dir():
        raise DataNotFoundError(f"NinaPro folder {root} does not exist.")
    files = ninapro_files(root, int(exercise))
    if not files:
        raise DatasetError(
            f"{root}: no NinaPro file for exercise {exercise} (S*_E{exercise})."
        )
    wanted_raw = None
    if subjects is not None:
        wanted_raw = [
            s if str(s).upper().startswith("S") else f"S{s}" for s in subjects
        ]
        wanted_raw = [str(s).upper() for s in wanted_raw]
    wanted = set(select_subjects(files.values(), wanted_raw, dataset=DATASET))
    cache = resolve_cache_dir(cache_dir)

    chosen = [(p, s) for p, s in files.items() if s in wanted]
    # The first file tells the database (DB1/DB2), hence defaults and classes.
    first = read_ninapro(chosen[0][0])
    database = first.database
    config = (
        preprocess if preprocess is not None else default_ninapro_preprocess(database)
    )
    n_classes = NINAPRO_N_MOVEMENTS.get((database, int(exercise)))
    if n_classes is None:
        n_classes = int(first.restimulus.max())
        logger.warning(
            "%s: unknown NinaPro database/exercise; %d classes taken from its labels",
            chosen[0][0],
            n_classes,
        )
    classes = tuple(f"movement {k}" for k in range(1, n_classes + 1))
    settings = {
        "preprocess": config.to_dict(),
        "labelling": labelling,
        "exercise": int(exercise),
        "n_classes": n_classes,
    }
    parts: list[WindowSet] = []
    for path, subject in chosen:

        def build(path: Path = path, subject: str = subject) -> WindowSet:
            sess = first if path == chosen[0][0] else read_ninapro(path)
            if sess.database != database:
                raise DatasetError(
                    f"{path} is NinaPro {sess.database} but {chosen[0][0]} is "
                    f"{database}; load one database at a time."
                )
            return _session_windows(
                sess, path, subject, config, classes, labelling, int(exercise)
            )

        parts.append(cached(DATASET, path, settings, build, cache))
    ws = WindowSet.concat(parts)
    ws.meta = base_meta(
        DATASET,
        config,
        database=database,
        exercise=int(exercise),
        labelling=labelling,
        n_recordings=len(parts),
    )
    logger.info("loaded %r", ws)
    return ws
