"""Gesture pretraining, adaptation, model cards and the CLI, on tiny real runs.

The protocols and ``python -m studies gesture experiment``:
tests/studies/gesture/test_experiments.py.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from emgcore.checkpoint import file_sha256, load_checkpoint
from emgcore.cli import main
from emgcore.gesture.api import (
    adapt_to_subject,
    load_gesture_checkpoint,
    model_card,
    predict_files,
    save_adapted,
)
from emgcore.gesture.core import (
    ADAPT_CONFIG,
    PRETRAIN_CONFIG,
    AdaptOptions,
    PretrainOptions,
    _scaled_per_subject,
    adapt,
    build_gesture_model,
    pretrain,
)
from emgcore.gesture.data import (
    ChannelScaler,
    GainAugment,
    GestureTrial,
    Windows,
    cut_windows,
    get_spec,
    split_adapt_test,
    trials_from_files,
)
from tests.emgcore.gesture_fixtures import TINY_ADAPT, TINY_PRE, synthetic_subjects

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_tl_frozen_keeps_conv_1_to_3_and_tl_full_changes_them(myo_trials, tiny_ckpt):
    spec, _, tgt_files = myo_trials
    source, _, _, _ = load_gesture_checkpoint(tiny_ckpt)
    tgt = trials_from_files(tgt_files, spec)
    adapt_trials, _ = split_adapt_test(tgt, k=1)
    before = [p.detach().clone() for p in source.parameters()]
    frozen, _, info = adapt(
        source, adapt_trials, spec, AdaptOptions(method="tl_frozen", config=TINY_ADAPT)
    )
    full, _, _ = adapt(
        source, adapt_trials, spec, AdaptOptions(method="tl_full", config=TINY_ADAPT)
    )
    for p, q in zip(source.parameters(), before, strict=True):  # source untouched
        assert torch.equal(p, q)
    f_params, u_params = list(frozen.parameters()), list(full.parameters())
    for i in range(6):  # weights + biases of conv 1-3
        assert torch.equal(f_params[i], before[i])
        assert not torch.equal(u_params[i], before[i])
    assert not torch.equal(f_params[-2], before[-2])
    assert info["n_trainable"] < sum(p.numel() for p in frozen.parameters())


def test_adapt_to_subject_reports_before_and_after(myo_trials, tiny_ckpt, tmp_path):
    spec, _, tgt_files = myo_trials
    epochs = []
    model, meta, report = adapt_to_subject(
        tiny_ckpt,
        tgt_files,
        AdaptOptions(config=TINY_ADAPT),
        k=1,
        seed=0,
        on_epoch=lambda r: epochs.append((r["phase"], r["epoch"])),
    )
    # early stopping's run, then the refit on the whole trials (on by default)
    assert epochs == [("select", 1), ("refit", 1)]
    assert report["train"]["refit"]["epochs"] == 1
    assert 0 <= report["accuracy_before"] <= 1 and 0 <= report["accuracy_after"] <= 1
    cm = np.asarray(report["confusion_after"])
    assert cm.shape == (8, 8) and report["class_names"] == list(spec.class_names)
    assert report["n_adapt_trials"] == 8 and report["n_test_trials"] > 8
    assert report["parent_sha256"] == file_sha256(tiny_ckpt)
    out = tmp_path / "adapted.pt"
    save_adapted(out, model, meta)
    _, saved = load_checkpoint(out)
    assert saved["parent"] == file_sha256(tiny_ckpt)
    assert saved["metrics"]["accuracy_after"] == report["accuracy_after"]
    preds = predict_files(out, tgt_files[1:2])
    assert preds[0]["n_windows"] == len(preds[0]["predictions"]) > 0
    assert 0 <= preds[0]["accuracy"] <= 1


def test_augmentation_multiplies_the_training_windows_only(myo_trials, tiny_ckpt):
    spec, _, tgt_files = myo_trials
    source, _, _, _ = load_gesture_checkpoint(tiny_ckpt)
    adapt_trials, _ = split_adapt_test(trials_from_files(tgt_files, spec), k=1)
    kw = dict(method="tl_frozen", config=TINY_ADAPT)
    _, sc_plain, plain = adapt(
        source, adapt_trials, spec, AdaptOptions(augment=None, **kw)
    )
    augmented = AdaptOptions(augment=GainAugment(3), **kw)
    _, sc_aug, aug = adapt(source, adapt_trials, spec, augmented)
    assert plain["augment"] is None and aug["augment"]["copies"] == 3
    assert aug["n_train_windows"] == 4 * plain["n_train_windows"]
    assert aug["n_val_windows"] == plain["n_val_windows"]
    # the scaler is the recorded windows' own, not the augmented ones'
    assert sc_plain.mean == sc_aug.mean


def test_refit_trains_again_on_the_whole_trials_for_the_chosen_epochs(
    myo_trials, tiny_ckpt
):
    spec, _, tgt_files = myo_trials
    source, _, _, _ = load_gesture_checkpoint(tiny_ckpt)
    adapt_trials, _ = split_adapt_test(trials_from_files(tgt_files, spec), k=1)
    records = []
    cfg = dataclasses.replace(ADAPT_CONFIG, epochs=3, patience=None)
    options = AdaptOptions(
        method="tl_frozen", config=cfg, augment=GainAugment(1), refit=True
    )
    model, scaler, info = adapt(
        source, adapt_trials, spec, options, on_epoch=records.append
    )
    whole = cut_windows(adapt_trials, window=spec.window, step=spec.step)
    assert info["refit"]["epochs"] == info["best_epoch"] >= 1
    # every window of the trials, training and validation parts and the ones
    # across the cut, each with its one gained copy
    assert info["refit"]["n_train_windows"] == 2 * len(whole)
    assert len(whole) > info["n_train_windows"] // 2 + info["n_val_windows"]
    assert scaler.mean == ChannelScaler.fit(whole.X, spec.representation).mean
    assert [r["phase"] for r in records] == ["select"] * 3 + ["refit"] * info[
        "best_epoch"
    ]
    # the refit model starts again from the source: conv 1-3 still the source's
    for a, b in zip(
        model.frozen_prefix_parameters(3),
        source.frozen_prefix_parameters(3),
        strict=True,
    ):
        assert torch.equal(a, b)
    # without refit the first run is the model, and "refit" is absent
    _, sc_plain, plain = adapt(
        source, adapt_trials, spec, AdaptOptions(config=cfg, augment=None, refit=False)
    )
    assert "refit" not in plain and sc_plain.mean != scaler.mean


def test_refit_stops_when_the_first_run_is_cancelled(myo_trials, tiny_ckpt):
    spec, _, tgt_files = myo_trials
    source, _, _, _ = load_gesture_checkpoint(tiny_ckpt)
    adapt_trials, _ = split_adapt_test(trials_from_files(tgt_files, spec), k=1)
    records = []

    def stop(record):
        records.append(record)
        return False

    options = AdaptOptions(config=TINY_ADAPT, augment=None, refit=True)
    _, _, info = adapt(source, adapt_trials, spec, options, on_epoch=stop)
    assert info["cancelled"] and "refit" not in info
    assert [r["phase"] for r in records] == ["select"]


def test_cli_adapt_and_predict_from_csv(myo_trials, tiny_ckpt, tmp_path, capsys):
    _, _, tgt_files = myo_trials
    rows = []
    for gf in tgt_files[1:]:
        rows.append(np.column_stack([gf.recording.data.T, gf.labels]))
    table = np.concatenate(rows)
    csv = tmp_path / "person.csv"
    header = ",".join([f"emg{i + 1}" for i in range(8)] + ["label"])
    np.savetxt(csv, table, delimiter=",", header=header, comments="", fmt="%g")
    out = tmp_path / "person.pt"
    rc = main(
        [
            "gesture",
            "adapt",
            "--model",
            str(tiny_ckpt),
            "--trials",
            str(csv),
            "--k",
            "1",
            "--epochs",
            "1",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["parent_sha256"] == file_sha256(tiny_ckpt) and out.is_file()
    assert main(["gesture", "predict", "--model", str(out), str(csv)]) == 0
    pred = json.loads(capsys.readouterr().out)
    assert pred[0]["n_windows"] > 0 and set(pred[0]["counts"]) <= set(
        get_spec("myo-readings").class_names
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert (
        main(
            [
                "gesture",
                "adapt",
                "--model",
                str(tiny_ckpt),
                "--trials",
                str(bad),
                "--out",
                str(tmp_path / "x.pt"),
            ]
        )
        == 2
    )
    assert "label" in capsys.readouterr().err


def test_per_subject_pretraining_scales_each_source_subject_by_their_own_statistics():
    rng = np.random.default_rng(0)

    def trial(subject, gain):
        data = rng.normal(0, gain, (2, 400)).astype(np.float32)
        return GestureTrial(data, 0, subject, "1", 0, f"{subject}@0")

    trials = [trial("loud", 50.0), trial("quiet", 0.1)]
    train = cut_windows(trials, window=40, step=10, part=(0, 0.8))
    val = cut_windows(trials, window=40, step=40, part=(0.8, 1))
    Xt, Xv = _scaled_per_subject(trials, train, val, "raw")
    for i in (0, 1):  # both subjects end up at unit scale, whatever their gain
        assert abs(Xt[train.trial == i].std() - 1) < 0.05
        assert 0.5 < Xv[val.trial == i].std() < 2

    # a subject left with validation windows only (subsampling) is still scaled
    only_val = Windows(
        train.X[train.trial == 0],
        train.y[train.trial == 0],
        train.trial[train.trial == 0],
    )
    Xt, Xv = _scaled_per_subject(trials, only_val, val, "raw")
    assert np.isfinite(Xv).all() and 0.5 < Xv[val.trial == 1].std() < 2


def test_pretraining_can_validate_on_left_out_source_subjects_then_refit_on_all():
    spec = get_spec("myo-readings")
    trials = synthetic_subjects(["A", "B", "C"])
    cfg = dataclasses.replace(PRETRAIN_CONFIG, epochs=3, patience=None)
    records = []
    options = PretrainOptions(
        config=cfg, widths=(4, 8), max_windows=None, val_subjects=1
    )
    model, scaler, info = pretrain(trials, spec, options, on_epoch=records.append)
    (held,) = info["val_subjects"]
    assert info["validation"] == "held-out subjects"
    # validation: every non-overlapping window of the held-out subject's trials;
    # training in the first run: the other two subjects' whole trials
    per_trial_val = len(
        cut_windows(trials[:1], window=spec.window, step=spec.test_step)
    )
    per_trial_train = len(
        cut_windows(trials[:1], window=spec.window, step=spec.source_step)
    )
    assert info["n_val_windows"] == 4 * per_trial_val
    assert info["n_train_windows"] == 8 * per_trial_train
    # the refit: the chosen epoch count on all three subjects
    assert info["refit"]["epochs"] == info["best_epoch"] >= 1
    assert info["refit"]["n_train_windows"] == 12 * per_trial_train
    assert [r["phase"] for r in records] == ["select"] * 3 + ["refit"] * info[
        "best_epoch"
    ]
    assert scaler.per_subject and model.n_outputs == len(spec.class_names)
    # the same seed keeps the same subject aside; at least one must train
    again_options = PretrainOptions(
        config=TINY_PRE, widths=(4, 8), max_windows=None, val_subjects=1
    )
    again = pretrain(trials, spec, again_options)[2]
    assert again["val_subjects"] == [held]
    with pytest.raises(ValueError, match="Cannot keep 3 of 3 source subjects"):
        pretrain(trials, spec, PretrainOptions(config=TINY_PRE, val_subjects=3))


def test_cli_flags_bring_back_the_earlier_set_up_and_keep_the_peer_step():
    import argparse

    from emgcore.commands.gesture import dataset_spec

    def spec(dataset, **kw):
        base = {"dataset": dataset, "representation": None, "adapt_step_s": None}
        return dataset_spec(argparse.Namespace(**{**base, **kw}))

    earlier = spec("myo-readings", representation="raw", adapt_step_s=0.1)
    assert earlier.representation == "raw" and earlier.step == earlier.peer_step == 20
    now = spec("myo-readings")
    assert now.representation == "raw+rectified" and (now.step, now.peer_step) == (
        5,
        20,
    )
    nina = spec("ninapro-db1-e1", adapt_step_s=0.1)
    assert nina.step == 10 and nina.peer_step == 5  # LDA stays at the 50 ms step


def test_cli_augment_copies_flag():
    import argparse

    from emgcore.commands.gesture import adapt_options, gain_augment
    from emgcore.errors import EmgCoreError

    assert gain_augment(argparse.Namespace(augment_copies=0)) is None
    assert gain_augment(argparse.Namespace(augment_copies=4)) == GainAugment()
    assert gain_augment(argparse.Namespace(augment_copies=2)).copies == 2
    with pytest.raises(EmgCoreError, match="0 or more, got -1"):
        gain_augment(argparse.Namespace(augment_copies=-1))
    opts = adapt_options(argparse.Namespace(augment_copies=0, refit=True))
    assert opts == {"augment": None, "refit": True}


@pytest.mark.parametrize(
    ("representation", "words"),
    [
        ("raw", "(raw rows)"),
        ("raw+rectified", "the same rows rectified"),
        ("logenv", "log of each electrode's short-time envelope"),
    ],
)
def test_the_model_card_says_what_the_image_rows_hold(tmp_path, representation, words):
    spec = dataclasses.replace(
        get_spec("ninapro-db1-e1"), representation=representation
    )
    model = build_gesture_model(spec, 10, widths=(2, 2))
    card = model_card(
        tmp_path / "m.pt", model, spec, train={}, metrics={}, sha256="0" * 64
    )
    assert words in card["data"]["input"]
    assert words in (tmp_path / "m.md").read_text(encoding="utf-8")
