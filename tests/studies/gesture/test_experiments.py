"""The gesture adaptation protocols and ``python -m studies gesture experiment``."""

from __future__ import annotations

import json

import pytest

from emgcore.checkpoint import load_checkpoint
from emgcore.cli import main as emgcore_main
from emgcore.gesture.api import load_gesture_checkpoint, pick_targets
from emgcore.gesture.data import GainAugment, get_spec, trials_from_files
from emgcore.io.gestures import read_myo_readings
from studies.cli import main
from studies.gesture import (
    InterSessionConfig,
    InterSubjectConfig,
    PercentConfig,
    make_folds,
    run_inter_subject,
)
from tests.emgcore.gesture_fixtures import MYO, TINY_ADAPT, TINY_PRE, synthetic_subjects

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def inter_subject(trials, spec, out, *, targets, **options):
    """:func:`run_inter_subject` with its config's fields as keywords."""
    config = InterSubjectConfig(**options)
    return run_inter_subject(trials, spec, out, targets=targets, config=config)


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
    summary = inter_subject(trials, spec, tmp_path, **kw)
    unit = json.loads((tmp_path / "units/fold0/55555/tl_frozen_k1.json").read_text())
    assert unit["n_adapt_trials"] == 8 and unit["k_max"] == 2
    assert set(summary["methods"]) == {"no_adapt", "tl_frozen", "lda_target"}
    mtime = (tmp_path / "units/fold0/55555/tl_frozen_k1.json").stat().st_mtime_ns
    inter_subject(trials, spec, tmp_path, **kw)  # resumes: nothing recomputed
    assert (
        tmp_path / "units/fold0/55555/tl_frozen_k1.json"
    ).stat().st_mtime_ns == mtime
    with pytest.raises(ValueError, match="another test set"):
        inter_subject(trials, spec, tmp_path, **{**kw, "test_from": 3})
    with pytest.raises(ValueError, match="source checkpoint's training"):
        inter_subject(trials, spec, tmp_path / "x", **{**kw, "targets": ["44444"]})


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
    inter_subject(trials, spec, tmp_path, augment=None, **kw)
    with pytest.raises(ValueError, match="another augmentation"):
        inter_subject(trials, spec, tmp_path, augment=GainAugment(), **kw)
    unit = json.loads((tmp_path / "units/fold0/55555/tl_frozen_k1.json").read_text())
    assert unit["train"]["augment"] is None


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
    inter_subject(trials, spec, tmp_path, refit=True, **kw)
    unit = json.loads((tmp_path / "units/fold0/55555/tl_frozen_k1.json").read_text())
    assert unit["train"]["refit"]["epochs"] == 1
    with pytest.raises(ValueError, match="made with --refit"):
        inter_subject(trials, spec, tmp_path, refit=False, **kw)
    inter_subject(trials, spec, tmp_path, refit=True, **kw)  # resumes


def test_only_fold_runs_that_folds_units(myo_trials, tmp_path):
    spec, src, tgt_files = myo_trials
    trials = src + trials_from_files(tgt_files, spec)
    kw = dict(targets=["44444", "55555"], n_folds=2, ks=[1], test_from=2)
    # LDA units need no source model, so nothing is pretrained here
    inter_subject(trials, spec, tmp_path, methods=["lda_target"], only_fold=1, **kw)
    written = sorted(
        p.relative_to(tmp_path / "units").parts[:2]
        for p in tmp_path.glob("units/*/*/*.json")
    )
    assert written == [("fold1", "55555")]
    with pytest.raises(
        ValueError, match="Fold 2 does not exist: this run has folds 0-1"
    ):
        inter_subject(trials, spec, tmp_path, methods=["lda_target"], only_fold=2, **kw)


def test_the_options_of_a_protocol_are_one_frozen_config():
    import dataclasses

    config = InterSubjectConfig(ks=[1, 2], methods=["scratch", "tl_full"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1  # type: ignore[misc]
    assert config.train_config("scratch") is config.scratch_config
    assert config.train_config("tl_full") is config.adapt_config
    assert InterSessionConfig().max_source_windows == 6000  # as before the config


def test_folds_and_targets_are_deterministic():
    subjects = [f"S{i}" for i in range(10)]
    assert pick_targets(subjects, 4) == ["S0", "S3", "S6", "S9"]
    assert make_folds(subjects, 2) == [subjects[0::2], subjects[1::2]]


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
        emgcore_main(
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
    from studies.gesture import (
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
    config = InterSessionConfig(
        k=1,
        pretrain_config=TINY_PRE,
        max_source_windows=100,
        widths=(4, 8),
        adapt_config=TINY_ADAPT,
        scratch_config=TINY_ADAPT,
    )
    sess = run_inter_session(trials, spec, subjects=["44444"], config=config)
    assert set(sess["per_subject"]["44444"]) == {
        "no_adapt",
        "tl_frozen",
        "scratch",
        "lda_target",
    }
    source, *_ = load_gesture_checkpoint(tiny_ckpt)
    config = PercentConfig(
        percents=(20, 100), methods=("tl_frozen",), adapt_config=TINY_ADAPT
    )
    pct = run_percent(trials, spec, source, target="44444", config=config)
    assert pct["per_percent"]["20"]["k"] < pct["per_percent"]["100"]["k"]


def test_a_target_without_test_trials_is_left_out_and_none_left_is_an_error(
    myo_trials, tiny_ckpt, tmp_path
):
    from types import SimpleNamespace

    from studies.gesture import _testable_targets

    # "B" has two trials per gesture only (one session): nothing ranked >= 2.
    trials = [SimpleNamespace(subject=s, order=o) for s in "AB" for o in range(4)]
    trials = [t for t in trials if not (t.subject == "B" and t.order >= 2)]
    assert _testable_targets(trials, ["A", "B"], k_max=2) == ["A"]

    spec, src, tgt_files = myo_trials
    with pytest.raises(ValueError, match="No target subject has a trial ranked >= 50"):
        inter_subject(
            src + trials_from_files(tgt_files, spec),
            spec,
            tmp_path,
            targets=["55555"],
            ks=[1],
            methods=["no_adapt"],
            source_checkpoint=tiny_ckpt,
            test_from=50,
        )


def test_source_models_of_another_validation_are_not_mixed(tmp_path):
    spec = get_spec("myo-readings")
    trials = synthetic_subjects(["A", "B", "C", "D"])
    kw = dict(
        targets=["D"],
        ks=[1],
        methods=["no_adapt"],
        pretrain_config=TINY_PRE,
        widths=(4, 8),
        max_source_windows=None,
        test_from=1,
    )
    inter_subject(trials, spec, tmp_path, source_val_subjects=1, **kw)
    _, meta = load_checkpoint(tmp_path / "fold0/source.pt")
    assert meta["train"]["val_subjects_n"] == 1
    assert meta["train"]["val_subjects"][0] in {"A", "B", "C"}
    with pytest.raises(ValueError, match="pretrained with --source-val-subjects 1"):
        inter_subject(trials, spec, tmp_path, **kw)


@pytest.mark.parametrize(
    ("flags", "refit"), [([], True), (["--refit"], True), (["--no-refit"], False)]
)
def test_cli_refit_is_on_by_default_and_its_negation_is_kept_in_the_command(
    flags, refit
):
    from studies.cli import build_parser
    from studies.commands.gesture import command_line

    args = build_parser().parse_args(
        ["gesture", "experiment", "--dataset", "myo-readings", *flags]
    )
    assert args.refit is refit
    line = command_line(args)
    assert line.startswith("python -m studies gesture experiment")
    assert ("--no-refit" in line) is (not refit)
    # the saved command line parses back to the same setting
    again = build_parser().parse_args(line.split()[3:])
    assert again.refit is refit


def test_the_cli_gives_each_protocol_its_config(
    data_dir, tiny_ckpt, tmp_path, monkeypatch
):
    import studies.gesture
    from emgcore.gesture.core import ADAPT_CONFIG

    seen = {}

    def fake(name):
        def run(*args, **kwargs):
            seen[name] = kwargs["config"]
            return {"per_subject": {}}

        return run

    monkeypatch.setattr(studies.gesture, "run_inter_session", fake("session"))
    monkeypatch.setattr(studies.gesture, "run_percent", fake("percent"))
    common = [
        *("gesture", "experiment", "--dataset", "uci-semg"),
        *("--data-dir", str(data_dir), "--epochs", "2", "--seed", "3"),
        *("--max-source-windows", "64", "--augment-copies", "0", "--no-refit"),
        *("--subjects", "female_1", "--out", str(tmp_path)),
    ]
    assert main([*common, "--protocol", "inter-session", "--k", "2"]) == 0
    session = seen["session"]
    assert (session.k, session.seed, session.pretrain_config.epochs) == (2, 3, 2)
    assert session.max_source_windows == 64
    assert (session.augment, session.refit) == (None, False)
    assert (
        main([*common, "--protocol", "percent", "--source-model", str(tiny_ckpt)]) == 0
    )
    percent = seen["percent"]
    assert (percent.seed, percent.augment, percent.refit) == (3, None, False)
    assert percent.adapt_config == ADAPT_CONFIG  # --adapt-epochs is not its option
