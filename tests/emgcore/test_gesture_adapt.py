"""Gesture pretraining, adaptation, protocols and the CLI, on tiny real runs."""

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
    save_gesture_checkpoint,
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
from emgcore.gesture.experiments import make_folds, pick_targets, run_inter_subject
from emgcore.io.gestures import read_myo_readings


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny models: a second intra-op thread only spins on a shared 2-core machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY_PRE = dataclasses.replace(PRETRAIN_CONFIG, epochs=1, patience=None)
TINY_ADAPT = dataclasses.replace(ADAPT_CONFIG, epochs=1, patience=None)
MYO = "myo-readings-dataset/_readings_left_hand"


@pytest.fixture(scope="module")
def myo_trials(data_dir):
    spec = get_spec("myo-readings")
    src = trials_from_files(read_myo_readings(data_dir / MYO / "44444-1.npz"), spec)
    tgt_files = read_myo_readings(data_dir / MYO / "55555-1.npz")
    return spec, src, tgt_files


@pytest.fixture(scope="module")
def tiny_ckpt(myo_trials, tmp_path_factory):
    spec, src, _ = myo_trials
    options = PretrainOptions(config=TINY_PRE, widths=(4, 8), max_windows=200)
    model, scaler, info = pretrain(src, spec, options, seed=0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    save_gesture_checkpoint(
        path,
        model,
        scaler,
        spec,
        seed=0,
        train={"source_subjects": ["44444"], "heldout_subjects": ["55555"], **info},
    )
    return path


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


def test_inter_subject_units_are_resumable_and_use_disjoint_test_trials(
    myo_trials, tiny_ckpt, tmp_path
):
    spec, src, tgt_files = myo_trials
    trials = src + trials_from_files(tgt_files, spec)
    kw = dict(
        targets=["55555"],
        ks=[1],
        methods=["no_adapt", "tl_frozen", "lda_target"],
        adapt_config=TINY_ADAPT,
        source_checkpoint=tiny_ckpt,
        test_from=2,
    )
    summary = run_inter_subject(trials, spec, tmp_path, **kw)
    unit = json.loads((tmp_path / "units/fold0/55555/tl_frozen_k1.json").read_text())
    assert unit["n_adapt_trials"] == 8 and unit["k_max"] == 2
    assert set(summary["methods"]) == {"no_adapt", "tl_frozen", "lda_target"}
    mtime = (tmp_path / "units/fold0/55555/tl_frozen_k1.json").stat().st_mtime_ns
    run_inter_subject(trials, spec, tmp_path, **kw)  # resumes: nothing recomputed
    assert (
        tmp_path / "units/fold0/55555/tl_frozen_k1.json"
    ).stat().st_mtime_ns == mtime
    with pytest.raises(ValueError, match="another test set"):
        run_inter_subject(trials, spec, tmp_path, **{**kw, "test_from": 3})
    with pytest.raises(ValueError, match="source checkpoint's training"):
        run_inter_subject(trials, spec, tmp_path / "x", **{**kw, "targets": ["44444"]})


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


def test_units_of_another_augmentation_are_not_mixed(myo_trials, tiny_ckpt, tmp_path):
    spec, src, tgt_files = myo_trials
    trials = src + trials_from_files(tgt_files, spec)
    kw = dict(
        targets=["55555"],
        ks=[1],
        methods=["no_adapt", "tl_frozen"],
        adapt_config=TINY_ADAPT,
        source_checkpoint=tiny_ckpt,
        test_from=2,
    )
    run_inter_subject(trials, spec, tmp_path, augment=None, **kw)
    with pytest.raises(ValueError, match="another augmentation"):
        run_inter_subject(trials, spec, tmp_path, augment=GainAugment(), **kw)
    unit = json.loads((tmp_path / "units/fold0/55555/tl_frozen_k1.json").read_text())
    assert unit["train"]["augment"] is None


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


def test_units_with_and_without_refit_are_not_mixed(myo_trials, tiny_ckpt, tmp_path):
    spec, src, tgt_files = myo_trials
    trials = src + trials_from_files(tgt_files, spec)
    kw = dict(
        targets=["55555"],
        ks=[1],
        methods=["tl_frozen"],
        adapt_config=TINY_ADAPT,
        source_checkpoint=tiny_ckpt,
        test_from=2,
        augment=None,
    )
    run_inter_subject(trials, spec, tmp_path, refit=True, **kw)
    unit = json.loads((tmp_path / "units/fold0/55555/tl_frozen_k1.json").read_text())
    assert unit["train"]["refit"]["epochs"] == 1
    with pytest.raises(ValueError, match="made with --refit"):
        run_inter_subject(trials, spec, tmp_path, refit=False, **kw)
    run_inter_subject(trials, spec, tmp_path, refit=True, **kw)  # resumes


def test_only_fold_runs_that_folds_units(myo_trials, tmp_path):
    spec, src, tgt_files = myo_trials
    trials = src + trials_from_files(tgt_files, spec)
    kw = dict(targets=["44444", "55555"], n_folds=2, ks=[1], test_from=2)
    # LDA units need no source model, so nothing is pretrained here
    run_inter_subject(trials, spec, tmp_path, methods=["lda_target"], only_fold=1, **kw)
    written = sorted(
        p.relative_to(tmp_path / "units").parts[:2]
        for p in tmp_path.glob("units/*/*/*.json")
    )
    assert written == [("fold1", "55555")]
    with pytest.raises(
        ValueError, match="Fold 2 does not exist: this run has folds 0-1"
    ):
        run_inter_subject(
            trials, spec, tmp_path, methods=["lda_target"], only_fold=2, **kw
        )


def test_folds_and_targets_are_deterministic():
    subjects = [f"S{i}" for i in range(10)]
    assert pick_targets(subjects, 4) == ["S0", "S3", "S6", "S9"]
    assert make_folds(subjects, 2) == [subjects[0::2], subjects[1::2]]


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


def test_cli_pretrain_and_experiment_smoke(data_dir, tmp_path, capsys):
    ckpt = tmp_path / "semg.pt"
    common = [
        "--dataset",
        "uci-semg",
        "--data-dir",
        str(data_dir),
        "--epochs",
        "1",
        "--max-source-windows",
        "64",
        "--widths",
        "4",
        "8",
    ]
    assert (
        main(
            [
                "gesture",
                "pretrain",
                *common,
                "--holdout",
                "female_1",
                "--source-val-subjects",
                "1",
                "--out",
                str(ckpt),
            ]
        )
        == 0
    )
    capsys.readouterr()
    _, meta = load_checkpoint(ckpt)
    assert meta["class_names"][0] == "spherical"
    assert meta["train"]["heldout_subjects"] == ["female_1"]
    assert "heldout_no_adapt_accuracy" in meta["metrics"]
    # one of the four source subjects validated, then all four trained
    assert "val_acc_source_subjects" in meta["metrics"]
    assert meta["train"]["validation"].startswith("1 source subjects left out")
    assert len(meta["train"]["val_subjects"]) == 1
    # 2 electrodes -> raw rows + rectified rows; per-subject source scaling
    assert meta["preprocess"]["image_shape"] == [1, 4, 100]
    assert meta["preprocess"]["scaler"]["representation"] == "raw+rectified"
    assert meta["preprocess"]["scaler"]["per_subject"] is True
    assert meta["train"]["scaling"] == "per subject"
    card = json.loads((tmp_path / "semg.pt.card.json").read_text())
    assert "gesture pretrain" in card["training"]["command"]
    assert (tmp_path / "semg.md").read_text().startswith("# Model card")
    out = tmp_path / "exp"
    assert (
        main(
            [
                "gesture",
                "experiment",
                *common,
                "--source-model",
                str(ckpt),
                "--k",
                "1",
                "--adapt-epochs",
                "1",
                "--methods",
                "no_adapt",
                "tl_frozen",
                "lda_target",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    summary = json.loads((out / "uci-semg/summary.json").read_text())
    assert summary["targets"] == ["female_1"]
    # an option the protocol cannot use is a message, not a traceback
    capsys.readouterr()
    intra = [*common, "--protocol", "intra-subject", "--source-val-subjects", "1"]
    assert main(["gesture", "experiment", *intra, "--out", str(out)]) == 2
    assert "applies to the inter-subject protocol only" in capsys.readouterr().err
    assert (out / "uci-semg/accuracy_vs_k.png").stat().st_size > 1000
    assert "TL (conv 1-3 frozen)" in (out / "uci-semg/summary.md").read_text()


def test_intra_subject_inter_session_and_percent_protocols(
    data_dir, myo_trials, tiny_ckpt
):
    from emgcore.gesture.experiments import (
        run_inter_session,
        run_intra_subject,
        run_percent,
    )

    spec, src, _ = myo_trials
    trials = src + trials_from_files(
        read_myo_readings(data_dir / MYO / "44444-2.npz"), spec
    )
    trials = [t for t in trials if t.label < 3]  # keep the test fast
    intra = run_intra_subject(
        trials, spec, subjects=["44444"], config=TINY_ADAPT, widths=(4, 8)
    )
    assert 0 <= intra["per_subject"]["44444"]["lda"] <= 1
    sess = run_inter_session(
        trials,
        spec,
        subjects=["44444"],
        k=1,
        pretrain_config=TINY_PRE,
        max_source_windows=100,
        widths=(4, 8),
        adapt_config=TINY_ADAPT,
        scratch_config=TINY_ADAPT,
    )
    assert set(sess["per_subject"]["44444"]) == {
        "no_adapt",
        "tl_frozen",
        "scratch",
        "lda_target",
    }
    source, *_ = load_gesture_checkpoint(tiny_ckpt)
    pct = run_percent(
        trials,
        spec,
        source,
        target="44444",
        percents=(20, 100),
        methods=("tl_frozen",),
        adapt_config=TINY_ADAPT,
    )
    assert pct["per_percent"]["20"]["k"] < pct["per_percent"]["100"]["k"]


def test_a_target_without_test_trials_is_left_out_and_none_left_is_an_error(
    myo_trials, tiny_ckpt, tmp_path
):
    from types import SimpleNamespace

    from emgcore.gesture.experiments import _testable_targets

    # "B" has two trials per gesture only (one session): nothing ranked >= 2.
    trials = [SimpleNamespace(subject=s, order=o) for s in "AB" for o in range(4)]
    trials = [t for t in trials if not (t.subject == "B" and t.order >= 2)]
    assert _testable_targets(trials, ["A", "B"], k_max=2) == ["A"]

    spec, src, tgt_files = myo_trials
    with pytest.raises(ValueError, match="No target subject has a trial ranked >= 50"):
        run_inter_subject(
            src + trials_from_files(tgt_files, spec),
            spec,
            tmp_path,
            targets=["55555"],
            ks=[1],
            methods=["no_adapt"],
            source_checkpoint=tiny_ckpt,
            test_from=50,
        )


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


def _synthetic_subjects(names, n_times=400):
    """Two classes told apart by which electrode is active, per subject."""
    rng = np.random.default_rng(1)
    trials = []
    for subject in names:
        for label in (0, 1):
            for order in (0, 1):
                data = rng.normal(0, 0.1, (8, n_times)).astype(np.float32)
                data[label] *= 20
                src = f"{subject}-{label}-{order}@0"
                trials.append(GestureTrial(data, label, subject, "1", order, src))
    return trials


def test_pretraining_can_validate_on_left_out_source_subjects_then_refit_on_all():
    spec = get_spec("myo-readings")
    trials = _synthetic_subjects(["A", "B", "C"])
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


def test_source_models_of_another_validation_are_not_mixed(tmp_path):
    spec = get_spec("myo-readings")
    trials = _synthetic_subjects(["A", "B", "C", "D"])
    kw = dict(
        targets=["D"],
        ks=[1],
        methods=["no_adapt"],
        pretrain_config=TINY_PRE,
        widths=(4, 8),
        max_source_windows=None,
        test_from=1,
    )
    run_inter_subject(trials, spec, tmp_path, source_val_subjects=1, **kw)
    _, meta = load_checkpoint(tmp_path / "fold0/source.pt")
    assert meta["train"]["val_subjects_n"] == 1
    assert meta["train"]["val_subjects"][0] in {"A", "B", "C"}
    with pytest.raises(ValueError, match="pretrained with --source-val-subjects 1"):
        run_inter_subject(trials, spec, tmp_path, **kw)


def test_cli_flags_bring_back_the_earlier_set_up_and_keep_the_peer_step():
    import argparse

    from emgcore.commands.gesture import _spec

    def spec(dataset, **kw):
        base = {"dataset": dataset, "representation": None, "adapt_step_s": None}
        return _spec(argparse.Namespace(**{**base, **kw}))

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

    from emgcore.commands.gesture import _adapt_options, _augment
    from emgcore.errors import EmgCoreError

    assert _augment(argparse.Namespace(augment_copies=0)) is None
    assert _augment(argparse.Namespace(augment_copies=4)) == GainAugment()
    assert _augment(argparse.Namespace(augment_copies=2)).copies == 2
    with pytest.raises(EmgCoreError, match="0 or more, got -1"):
        _augment(argparse.Namespace(augment_copies=-1))
    opts = _adapt_options(argparse.Namespace(augment_copies=0, refit=True))
    assert opts == {"augment": None, "refit": True}


@pytest.mark.parametrize(
    ("flags", "refit"), [([], True), (["--refit"], True), (["--no-refit"], False)]
)
def test_cli_refit_is_on_by_default_and_its_negation_is_kept_in_the_command(
    flags, refit
):
    from emgcore.cli import build_parser
    from emgcore.commands.gesture import _command_line

    args = build_parser().parse_args(
        ["gesture", "experiment", "--dataset", "myo-readings", *flags]
    )
    assert args.refit is refit
    line = _command_line(args)
    assert ("--no-refit" in line) is (not refit)
    # the saved command line parses back to the same setting
    again = build_parser().parse_args(line.split()[3:])
    assert again.refit is refit


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
