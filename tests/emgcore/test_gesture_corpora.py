"""One corpus registry and trial layer under both gesture pipelines.

The pretraining WindowSet loaders (:mod:`emgcore.datasets.gestures`) and
gesture adaptation (:mod:`emgcore.gesture.data`) must read the same trials
from the same files: same subjects, labels, ranks and samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emgcore.config import PreprocessConfig
from emgcore.datasets import dataset_dir, list_subjects, load_dataset
from emgcore.datasets.corpora import (
    CORPORA,
    canonical_name,
    get_corpus,
    rank_per_key,
)
from emgcore.errors import DataNotFoundError
from emgcore.gesture.data import get_spec, load_trials, trial_windows

#: No resampling, filtering or scaling: the windows are the raw samples, so
#: both pipelines' windows can be compared value for value.
RAW = PreprocessConfig(
    target_sfreq=None,
    bandpass_hz=None,
    notch_hz=None,
    zscore=None,
    window_s=0.2,
    step_s=0.1,
)


def _windowset_trials(ws):
    """(subject, class, 0-based rank, file, first sample) -> window indices."""
    out = {}
    for trial in np.unique(ws.extra["trial"]):
        idx = np.flatnonzero(ws.extra["trial"] == trial)
        i = idx[0]
        key = (
            str(ws.subjects[i]),
            ws.class_names[ws.y[i]],
            int(ws.extra["repetition"][i]) - 1,
            str(ws.recording_ids[i]),
            int(ws.start_samples[idx].min()),
        )
        out[key] = idx
    return out


def _adaptation_trials(trials, spec):
    out = {}
    for t in trials:
        name, start = t.source.rsplit("@", 1)
        out[(t.subject, spec.class_names[t.label], t.order, name, int(start))] = t
    return out


@pytest.mark.parametrize(
    ("name", "subject", "rest"),
    [("uci_semg", "male_1", None), ("myo_readings", "44444", "rest")],
)
def test_both_pipelines_read_the_same_trials_and_samples(
    data_dir: Path, name: str, subject: str, rest: str | None
) -> None:
    ws = load_dataset(name, data_dir, subjects=[subject], preprocess=RAW)
    spec = get_spec(name)
    trials = load_trials(spec, data_dir, subjects=[subject])
    windowed = _windowset_trials(ws)
    adapted = _adaptation_trials(trials, spec)
    # Rest differs on purpose: adaptation leaves out myo-readings' one-minute
    # 0.txt rest and thins the other rest runs (emgcore.gesture.data notes).
    windowed = {k: v for k, v in windowed.items() if k[1] != rest}
    adapted = {k: v for k, v in adapted.items() if k[1] != rest}
    assert len(adapted) > 100
    assert windowed.keys() == adapted.keys()
    step = int(round(RAW.step_s * spec.sfreq))
    for key, trial in adapted.items():
        idx = windowed[key]
        assert ws.stop_samples[idx].max() <= key[4] + trial.n_times
        np.testing.assert_array_equal(
            ws.X[idx], trial_windows(trial.data, spec.window, step)
        )


def test_uci_emg_keeps_resampling_for_pretraining_and_decimation_for_adaptation(
    data_dir: Path,
) -> None:
    ws = load_dataset("uci_emg_gestures", data_dir, subjects=["02"])
    spec = get_spec("uci-emg-gestures")
    trials = load_trials(spec, data_dir, subjects=["02"])
    # the same trials (subject, class, rank, file) ...
    windowed = {k[:4] for k in _windowset_trials(ws)}
    adapted = {k[:4] for k in _adaptation_trials(trials, spec)}
    assert windowed == adapted and len(adapted) == 12
    # ... at the Myo's 200 Hz either way, reached by two different routes
    assert ws.sfreq == spec.sfreq == get_corpus("uci_emg_gestures").device_sfreq
    assert spec.decimate == 5
    assert ws.meta["preprocess"]["target_sfreq"] == pytest.approx(200.0)


def test_both_spellings_of_a_corpus_name_are_accepted(data_dir: Path) -> None:
    for corpus in CORPORA.values():
        for spelling in (corpus.name, *corpus.aliases):
            assert canonical_name(spelling) == corpus.name
            assert get_spec(spelling) is get_spec(corpus.cli_name)
            assert dataset_dir(spelling, data_dir) == dataset_dir(corpus.name, data_dir)
    assert list_subjects("ninapro-db1-e1", data_dir) == list_subjects(
        "ninapro", data_dir
    )
    assert canonical_name("emglab_n2001") == "emglab_n2001"
    with pytest.raises(DataNotFoundError, match="Unknown gesture corpus"):
        get_corpus("capgmyo")
    with pytest.raises(DataNotFoundError, match="Unknown gesture dataset"):
        get_spec("capgmyo")


def test_the_spec_takes_folder_layout_and_classes_from_the_corpus() -> None:
    for corpus in CORPORA.values():
        spec = get_spec(corpus.name)
        assert (spec.folder, spec.layout) == (corpus.folder, corpus.layout)
        assert spec.label_codes == tuple(corpus.classes)
        assert spec.class_names == tuple(corpus.classes.values())


def test_ranks_count_per_key_from_the_base_given() -> None:
    keys = ["a", "b", "a", "a", "b"]
    assert rank_per_key(keys, base=0) == [0, 0, 1, 2, 1]
    assert rank_per_key(keys, base=1) == [1, 1, 2, 3, 2]


def test_each_corpus_reads_at_its_registered_rate_and_channels(data_dir: Path) -> None:
    for corpus in CORPORA.values():
        files = corpus.files(dataset_dir(corpus.name, data_dir))
        first, subject = next(iter(files.items()))
        gfile = corpus.read(first)[0]
        assert gfile.subject == subject
        assert gfile.recording.sfreq == corpus.sfreq
        assert gfile.recording.n_chans == corpus.n_chans
        assert {t.label for t in gfile.trials} <= set(corpus.classes)
