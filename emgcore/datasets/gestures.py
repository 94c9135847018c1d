"""Gesture datasets: myo-readings-dataset, UCI EMG gestures (Myo), UCI sEMG grasps.

Every window lies inside one trial (one execution of one gesture, as the dataset
defines it; see :mod:`emgcore.io.gestures`) and takes that trial's gesture as its
label: no window straddles two trials or a trial and unmarked data. The
continuous recordings are filtered once as a whole; the UCI sEMG trials were
recorded separately, so each is preprocessed on its own.

Per-window ``extra``:

- ``"gesture"``: the dataset's own label code;
- ``"trial"``: a trial id unique in the dataset (``"<file>#<index in file>"``);
- ``"repetition"``: 1-based rank of the trial among the subject's trials of the
  same gesture, in recording order (sessions/series sorted by name, then time):
  "the first k trials" of a subject are those with ``repetition <= k``;
- ``"session"``: session or series id.

Rest: myo-readings labels rest (``0``, "hibernation") in every file, and
``0.txt`` is one long rest trial; UCI EMG gestures marks rest as class 1 and
leaves the gaps between gestures unmarked (``0``), which are never used. With
``include_rest=True`` (default) rest is a class; with False rest trials are
dropped. UCI sEMG has no rest. UCI EMG's class 7 ("extended palm") never occurs
in this copy and is not a class; such trials would be dropped with a warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emgcore.datasets._common import (
    base_meta,
    cached,
    resolve_cache_dir,
    segment_windows,
    select_subjects,
)
from emgcore.datasets.base import DatasetError, WindowSet
from emgcore.datasets.corpora import (
    canonical_name,
    get_corpus,
    rank_per_key,
    select_trials,
)

logger = logging.getLogger(__name__)


def default_gesture_preprocess(dataset: str) -> Any:
    """Default settings per gesture dataset: 200 ms windows, 100 ms step.

    - ``myo_readings``: native ~200 Hz Myo data, 20 Hz high-pass (the 20-100 Hz
      band reaches Nyquist, so it is a high-pass), automatic mains notch,
      recording z-score.
    - ``uci_emg_gestures``: the reader's sample-held 1 kHz grid is resampled to
      200 Hz, the Myo's native rate, then treated as ``myo_readings`` (so the two
      Myo datasets give the same 8 x 40 windows and can be mixed).
    - ``uci_semg``: native 500 Hz, 20 Hz high-pass, notch, z-score per trial.
    """
    from emgcore.config import PreprocessConfig

    dataset = canonical_name(dataset)
    if dataset == "myo_readings":
        return PreprocessConfig(
            target_sfreq=None, bandpass_hz=(20.0, 100.0), window_s=0.2, step_s=0.1
        )
    if dataset == "uci_emg_gestures":
        return PreprocessConfig(
            target_sfreq=200.0, bandpass_hz=(20.0, 100.0), window_s=0.2, step_s=0.1
        )
    if dataset == "uci_semg":
        return PreprocessConfig(
            target_sfreq=None, bandpass_hz=(20.0, 250.0), window_s=0.2, step_s=0.1
        )
    raise DatasetError(f"No default preprocessing for gesture dataset {dataset!r}.")


def myo_readings_files(folder: Path) -> dict[Path, str]:
    """Session files of myo-readings-dataset -> participant id."""
    return get_corpus("myo_readings").files(folder)


def uci_emg_gestures_files(folder: Path) -> dict[Path, str]:
    """Series files of uci-emg-gestures-myo -> two-digit subject id."""
    return get_corpus("uci_emg_gestures").files(folder)


def uci_semg_files(folder: Path) -> dict[Path, str]:
    """Subject files of uci-semg-basic-hand-movements Database 1 -> subject."""
    return get_corpus("uci_semg").files(folder)


def _gesture_file_windows(
    gfiles: Sequence[Any],
    config: Any,
    code_to_class: dict[int, int],
    class_names: tuple[str, ...],
) -> WindowSet:
    """Windows of the wanted trials of a source file's GestureFiles."""
    parts = []
    for gfile in gfiles:
        trials = [ct.trial for ct in select_trials([gfile], code_to_class)]
        skipped = {t.label for t in gfile.trials} - set(code_to_class)
        if skipped:
            logger.debug("%s: trials with labels %s not used", gfile.name, skipped)
        if not trials:
            continue
        segs = [(t.start, t.stop) for t in trials]
        wins, starts, stops, sfreq = segment_windows(
            gfile.recording, config, segs, continuous=gfile.continuous
        )
        counts = [len(w) for w in wins]
        n = int(sum(counts))
        if n == 0:
            continue
        idx = np.repeat(np.arange(len(trials)), counts)
        codes = np.array([t.label for t in trials], dtype=np.int64)[idx]
        parts.append(
            WindowSet(
                X=np.concatenate(wins),
                y=np.array([code_to_class[c] for c in codes], dtype=np.int64),
                class_names=class_names,
                recording_ids=np.full(n, gfile.name),
                subjects=np.full(n, gfile.subject),
                start_samples=np.concatenate(starts),
                stop_samples=np.concatenate(stops),
                sfreq=sfreq,
                orig_sfreq=np.full(n, gfile.recording.sfreq),
                extra={
                    "gesture": codes,
                    "trial": np.array(
                        [f"{gfile.name}#{i}" for i in range(len(trials))], dtype=str
                    )[idx],
                    "session": np.full(n, gfile.session),
                },
            )
        )
    if not parts:
        return _empty(class_names, gfiles, config)
    return WindowSet.concat(parts)


def _empty(
    class_names: tuple[str, ...], gfiles: Sequence[Any], config: Any
) -> WindowSet:
    n_chans = gfiles[0].recording.n_chans if gfiles else 1
    return WindowSet(
        X=np.zeros((0, n_chans, 1), np.float32),
        y=np.zeros(0, np.int64),
        class_names=class_names,
        recording_ids=np.zeros(0, str),
        subjects=np.zeros(0, str),
        start_samples=np.zeros(0, np.int64),
        stop_samples=np.zeros(0, np.int64),
        sfreq=1.0,
        orig_sfreq=np.zeros(0),
        extra={
            "gesture": np.zeros(0, np.int64),
            "trial": np.zeros(0, str),
            "session": np.zeros(0, str),
        },
    )


def add_repetition(ws: WindowSet) -> None:
    """Set ``extra["repetition"]``: rank of each trial within (subject, gesture).

    Trials are ranked by their first window's position in ``ws``, which the
    loaders keep in recording order.
    """
    trial_ids, first, inverse = np.unique(
        ws.extra["trial"], return_index=True, return_inverse=True
    )
    order = np.argsort(first, kind="stable")
    keys = (
        (str(ws.subjects[first[t]]), int(ws.extra["gesture"][first[t]])) for t in order
    )
    rank = np.zeros(trial_ids.size, dtype=np.int64)
    # 1-based: "repetition" counts like NinaPro's rerepetition (1, 2, ...)
    rank[order] = rank_per_key(keys, base=1)
    ws.extra["repetition"] = rank[inverse.reshape(-1)]


def load_gesture_corpus(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    preprocess: Any = None,
    subjects: Iterable[Any] | None = None,
    include_rest: bool = True,
    cache_dir: str | os.PathLike[str] | bool | None = None,
) -> WindowSet:
    """Load a gesture corpus as windows inside its trials (see the module notes).

    Parameters
    ----------
    name : str
        A corpus of :data:`emgcore.datasets.corpora.CORPORA` read here
        (``"myo_readings"``, ``"uci_emg_gestures"``, ``"uci_semg"``; either
        spelling); NinaPro has its own :func:`~emgcore.datasets.load_ninapro`.
    data_dir : path-like, optional
        Data directory; the files are in the corpus folder under it.
    preprocess : PreprocessConfig, optional
        Default :func:`default_gesture_preprocess` for the corpus.
    subjects : iterable of str, optional
        Subject ids as the corpus names them; default all.
    include_rest : bool
        Keep rest trials as class ``"rest"`` where the corpus labels rest
        (no effect on corpora without rest).
    cache_dir : path-like, bool or None

    Returns
    -------
    WindowSet
        Classes in the corpus's label-code order; ``extra["session"]`` as the
        reader names it.
    """
    from emgcore.datasets import dataset_dir

    corpus = get_corpus(name)
    name = corpus.name
    folder = dataset_dir(name, data_dir)
    files = corpus.files(folder)
    if not files:
        raise DatasetError(f"{folder}: no {name} files found.")
    config = preprocess if preprocess is not None else default_gesture_preprocess(name)
    codes = [c for c in corpus.classes if include_rest or c != corpus.rest_code]
    code_to_class = {c: i for i, c in enumerate(codes)}
    class_names = tuple(corpus.classes[c] for c in codes)
    wanted = set(select_subjects(files.values(), subjects, dataset=name))
    cache = resolve_cache_dir(cache_dir)
    settings = {
        # the corpora without a rest class never had the option in their key
        **({} if corpus.rest_code is None else {"include_rest": include_rest}),
        "preprocess": config.to_dict(),
        "classes": sorted(code_to_class.items()),
    }

    def build(path: Path) -> WindowSet:
        gfiles = corpus.read(path)
        unknown = {t.label for gf in gfiles for t in gf.trials} - set(corpus.classes)
        if unknown:
            logger.warning("%s: trials with labels %s are dropped", path, unknown)
        return _gesture_file_windows(gfiles, config, code_to_class, class_names)

    parts = []
    for path, subject in files.items():
        if subject in wanted:
            part = cached(name, path, settings, lambda p=path: build(p), cache)
            if len(part):
                parts.append(part)
    if not parts:
        raise DatasetError(f"{name}: the selected files hold no usable trials.")
    ws = WindowSet.concat(parts)
    add_repetition(ws)
    ws.meta = base_meta(name, config, n_files=len(parts))
    logger.info("loaded %r", ws)
    return ws


def load_myo_readings(
    data_dir: str | os.PathLike[str] | None = None, **options: Any
) -> WindowSet:
    """Load the myo-readings-dataset (Myo armband, 8 channels, ~200 Hz).

    Files in ``myo-readings-dataset/_readings_*_hand/``; options as
    :func:`load_gesture_corpus` (subjects: participant ids such as
    ``"44444"``; ``include_rest``: keep rest, label 0).

    Returns
    -------
    WindowSet
        Classes ``rest, flexion, extension, radial deviation, ulnar deviation,
        pronation, supination, fist`` (codes 0-7; without rest, codes 1-7).
        A recording is one original ``k.txt`` (id ``"<pid>-<session>/<k>"``); a
        trial one contiguous run of one label in it.
    """
    return load_gesture_corpus("myo_readings", data_dir, **options)


def load_uci_emg_gestures(
    data_dir: str | os.PathLike[str] | None = None, **options: Any
) -> WindowSet:
    """Load UCI "EMG data for gestures" (Lobov et al. 2018; Myo, 8 channels).

    Files in ``uci-emg-gestures-myo/<NN>/``; options as
    :func:`load_gesture_corpus` (subjects: two-digit folders such as ``"01"``;
    ``include_rest``: keep rest, label 1). The default preprocessing resamples
    to 200 Hz.

    Returns
    -------
    WindowSet
        Classes ``rest, fist, wrist flexion, wrist extension, radial deviation,
        ulnar deviation`` (codes 1-6). A recording is one series file (id
        ``"<NN>/<file stem>"``); a trial one marked run (each gesture twice per
        series); session ``"<NN>-<series>"``.
    """
    ws = load_gesture_corpus("uci_emg_gestures", data_dir, **options)
    # the series ids ("1", "2") repeat across subjects; make them unique
    ws.extra["session"] = np.char.add(
        np.char.add(ws.subjects.astype(str), "-"), ws.extra["session"].astype(str)
    )
    return ws


def load_uci_semg(
    data_dir: str | os.PathLike[str] | None = None, **options: Any
) -> WindowSet:
    """Load UCI "sEMG for Basic Hand movements", Database 1 (2 channels, 500 Hz).

    Files in ``uci-semg-basic-hand-movements/Database_1/``; options as
    :func:`load_gesture_corpus` (subjects: ``"female_1"``, ..., ``"male_2"``).
    Each 6 s trial is preprocessed on its own (they were recorded separately).

    Returns
    -------
    WindowSet
        Classes ``spherical, tip, palmar, lateral, cylindrical, hook``; one
        recording per subject (its 180 trials concatenated, id the subject); a
        trial is one row (30 per grasp).
    """
    return load_gesture_corpus("uci_semg", data_dir, **options)
