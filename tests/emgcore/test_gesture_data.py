"""Gesture trials, windows, images and adaptation/test splits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emgcore.errors import InvalidRecordingError
from emgcore.gesture.data import (
    ChannelScaler,
    GainAugment,
    GestureTrial,
    Windows,
    check_disjoint,
    cut_windows,
    get_spec,
    grid_images,
    read_gesture_files,
    split_adapt_test,
    trial_windows,
    trials_from_files,
)
from emgcore.io.gestures import read_myo_readings
from emgcore.models import AllConvNet


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny models: a second intra-op thread only spins on a shared 2-core machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _trial(
    label: int, order: int, n_times: int = 100, n_chans: int = 2, start: float = 0
):
    data = np.tile(np.arange(n_times, dtype=np.float32) + start, (n_chans, 1))
    return GestureTrial(data, label, "s1", "1", order, f"f@{order}-{label}")


def test_it_cuts_windows_inside_the_trial():
    data = np.tile(np.arange(1000, dtype=np.float32), (8, 1))
    win = trial_windows(data, 40, 10)
    assert win.shape == ((1000 - 40) // 10 + 1, 8, 40)
    assert win[3, 0, 0] == 30 and win[3, 0, -1] == 69
    assert win[-1, 0, -1] <= 999
    assert trial_windows(data[:, :30], 40, 10).shape == (0, 8, 40)


def test_windows_of_two_trials_never_mix_their_samples():
    trials = [_trial(0, 0, 95, start=0), _trial(1, 0, 95, start=1000)]
    win = cut_windows(trials, window=20, step=10)
    for x, t in zip(win.X, win.trial, strict=True):
        lo = 0 if t == 0 else 1000
        assert lo <= x.min() and x.max() < lo + 95
    assert set(win.y[win.trial == 1]) == {1}


def test_train_and_validation_parts_share_no_sample():
    trials = [_trial(0, 0, 400)]
    a = cut_windows(trials, window=40, step=5, part=(0, 0.75))
    b = cut_windows(trials, window=40, step=5, part=(0.75, 1))
    assert a.X.max() < 300 <= b.X.min()


def test_scaler_uses_training_statistics_only(rng):
    train = rng.normal(5.0, 2.0, size=(200, 3, 40)).astype(np.float32)
    test = rng.normal(50.0, 9.0, size=(10, 3, 40)).astype(np.float32)
    scaler = ChannelScaler.fit(train)
    img = scaler.transform(train)
    assert img.shape == (200, 1, 3, 40) and img.dtype == np.float32
    np.testing.assert_allclose(img.mean(axis=(0, 1, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(img.std(axis=(0, 1, 3)), 1, atol=1e-3)
    assert scaler.transform(test).mean() > 10  # not re-centred on test data
    assert ChannelScaler.from_dict(scaler.to_dict()) == scaler
    with pytest.raises(InvalidRecordingError, match="3"):
        scaler.transform(test[:, :2])


def test_raw_rectified_images_stack_the_rectified_rows_under_the_raw_ones(rng):
    X = rng.normal(0.0, 3.0, size=(50, 2, 40)).astype(np.float32)
    scaler = ChannelScaler.fit(X, "raw+rectified")
    assert len(scaler.mean) == 4 and scaler.n_chans == 2
    img = scaler.transform(X)
    assert img.shape == (50, 1, 4, 40)
    # rows 2-3 are |x| standardised: they order windows by amplitude
    raw_back = (
        img[:, 0, :2] * np.array(scaler.std[:2])[:, None]
        + np.array(scaler.mean[:2])[:, None]
    )
    rect_back = (
        img[:, 0, 2:] * np.array(scaler.std[2:])[:, None]
        + np.array(scaler.mean[2:])[:, None]
    )
    np.testing.assert_allclose(rect_back, np.abs(raw_back), atol=1e-4)
    assert ChannelScaler.from_dict(scaler.to_dict()) == scaler
    with pytest.raises(InvalidRecordingError, match="representation"):
        ChannelScaler.fit(X, "spectrogram")


def test_logenv_images_do_not_change_when_a_person_s_electrode_gains_do(rng):
    X = rng.normal(0.0, 3.0, size=(60, 3, 40)).astype(np.float32)
    X[:5, :, 10:30] = 0.0  # silent stretches stay finite
    gains = np.array([0.2, 1.0, 7.0], np.float32)[None, :, None]
    own = ChannelScaler.fit(X, "logenv")
    assert len(own.mean) == 3 and own.n_chans == 3
    img = own.transform(X)
    assert img.shape == (60, 1, 3, 40) and np.isfinite(img).all()
    # on a log scale a gain is an offset; each person's own scaling removes it
    gained = ChannelScaler.fit(X * gains, "logenv").transform(X * gains)
    np.testing.assert_allclose(gained, img, atol=1e-3)
    # a moving mean over several samples: rows are smoother than log|x|
    log_abs = np.log(np.abs(X) + 1e-3)
    log_abs_img = ChannelScaler.fit(log_abs).transform(log_abs)
    roughness = [np.abs(np.diff(a, axis=-1)).mean() for a in (img, log_abs_img)]
    assert roughness[0] < roughness[1]
    assert ChannelScaler.from_dict(own.to_dict()) == own


def test_a_per_subject_scaler_scales_a_new_person_by_their_own_statistics(rng):
    source = rng.normal(0.0, 1.0, size=(100, 3, 40)).astype(np.float32)
    person = rng.normal(0.0, 20.0, size=(100, 3, 40)).astype(np.float32)
    pooled = ChannelScaler.fit(source)
    assert pooled.for_person(person) is pooled  # a pooled model keeps its own
    per = ChannelScaler.fit(source, per_subject=True)
    own = per.for_person(person)
    assert not own.per_subject and own.representation == per.representation
    np.testing.assert_allclose(own.transform(person).std(), 1, atol=1e-3)
    assert pooled.transform(person).std() > 10


def test_old_checkpoint_scalers_and_specs_read_as_raw_and_pooled():
    scaler = ChannelScaler.from_dict({"mean": [0.0, 1.0], "std": [1.0, 2.0]})
    assert scaler.representation == "raw" and not scaler.per_subject
    d = get_spec("myo-readings").to_dict()
    for key in ("representation", "peer_step_s"):
        d.pop(key)
    old = type(get_spec("myo-readings")).from_dict(d)
    assert old.representation == "raw" and old.rows_per_channel == 1
    assert old.peer_step == old.step


def test_the_lda_peer_keeps_its_own_window_step():
    spec = get_spec("myo-readings")
    assert spec.rows_per_channel == 2
    assert spec.step == 5 and spec.peer_step == 20  # 25 ms vs 100 ms at 200 Hz
    assert get_spec("ninapro-db1-e1").peer_step == get_spec("ninapro-db1-e1").step


def test_split_keeps_adaptation_and_test_trials_disjoint():
    trials = [_trial(lab, o) for lab in range(3) for o in range(6)]
    for k in (1, 2, 3):
        adapt, test = split_adapt_test(trials, k=k, k_max=3)
        assert len(adapt) == 3 * k and len(test) == 9
        assert {t.order for t in adapt} == set(range(k))
        assert min(t.order for t in test) == 3
        check_disjoint(adapt, test)
    with pytest.raises(InvalidRecordingError, match="both adaptation and test"):
        check_disjoint(trials[:4], trials[2:5])
    with pytest.raises(InvalidRecordingError, match="k_max"):
        split_adapt_test(trials, k=3, k_max=2)


def test_myo_session_gives_8x40_images_with_balanced_rest(data_dir):
    spec = get_spec("myo-readings")
    files = read_myo_readings(
        data_dir / "myo-readings-dataset/_readings_left_hand/44444-1.npz"
    )
    trials = trials_from_files(files, spec)
    assert not any(t.source.startswith("44444-1/0@") for t in trials)
    counts = np.bincount([t.label for t in trials], minlength=8)
    assert (counts > 0).all() and counts[0] <= 1.5 * np.median(counts[1:])
    for lab in range(8):
        orders = sorted(t.order for t in trials if t.label == lab)
        assert orders == list(range(len(orders)))
    win = cut_windows(trials, window=spec.window, step=spec.step)
    assert win.X.shape[1:] == (8, 40)
    adapt, test = split_adapt_test(trials, k=1, k_max=3)
    check_disjoint(adapt, test)
    assert {t.label for t in adapt} == set(range(8))


def test_ninapro_and_uci_semg_images(data_dir):
    nspec = get_spec("ninapro-db1-e1")
    nin = trials_from_files(
        read_gesture_files([data_dir / "ninapro-db1-e1/S1_A1_E1.mat"], "ninapro"), nspec
    )
    assert len(nin) == 120 and {t.label for t in nin} == set(range(12))
    assert cut_windows(nin[:2], window=nspec.window, step=nspec.step).X.shape[1:] == (
        10,
        20,
    )
    uspec = get_spec("uci-semg")
    uci = trials_from_files(
        read_gesture_files(
            [data_dir / "uci-semg-basic-hand-movements/Database_1/female_1.mat"],
            "uci-semg",
        ),
        uspec,
    )
    assert len(uci) == 180 and uci[0].data.shape == (2, 3000)
    assert cut_windows(uci[:1], window=uspec.window, step=uspec.step).X.shape[1:] == (
        2,
        100,
    )


def test_grid_images_place_each_electrode_at_its_grid_position():
    n_times = 5
    data = np.repeat(np.arange(128, dtype=np.float32)[:, None], n_times, axis=1)
    img = grid_images(data, (8, 16))
    assert img.shape == (n_times, 1, 8, 16)
    assert img[0, 0, 2, 5] == 2 * 16 + 5
    col = grid_images(data, (8, 16), order="column")
    assert col[0, 0, 2, 5] == 5 * 8 + 2
    with pytest.raises(InvalidRecordingError, match="128 channels"):
        grid_images(data[:100], (8, 16))


def test_allconvnet_learns_synthetic_8x16_grid_gestures(rng):
    # Two "gestures": activity under the left or the right half of the grid.
    n = 64
    frames = rng.normal(0, 0.3, size=(n, 8, 16)).astype(np.float32)
    y = np.arange(n) % 2
    frames[y == 0, :, :8] += 2.0
    frames[y == 1, :, 8:] += 2.0
    data = frames.reshape(n, 128).T  # (n_chans=128, n_times=n), row order
    x = torch.from_numpy(grid_images(data, (8, 16)))
    torch.manual_seed(0)
    model = AllConvNet(n_chans=8, n_times=16, n_outputs=2, sfreq=1000, widths=(8, 16))
    assert model(x).shape == (n, 2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    yt = torch.from_numpy(y)
    for _ in range(40):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), yt).backward()
        opt.step()
    model.eval()
    assert (model(x).argmax(1) == yt).float().mean() > 0.9


def test_gain_augment_keeps_the_windows_and_adds_gained_copies(rng):
    X = rng.normal(size=(6, 3, 20)).astype(np.float32)
    win = Windows(X, np.arange(6), np.zeros(6, dtype=np.int64))
    Xa, ya = GainAugment(copies=2).apply(win, seed=0)
    assert Xa.shape == (18, 3, 20) and Xa.dtype == np.float32
    assert np.array_equal(Xa[:6], X) and list(ya) == list(range(6)) * 3
    ratio = Xa[6:12] / X  # one gain per window and electrode, all along time
    assert np.allclose(ratio, ratio[:, :, :1], rtol=1e-4)
    assert not np.allclose(ratio[:, 0, 0], ratio[:, 1, 0])
    again, _ = GainAugment(copies=2).apply(win, seed=0)
    assert np.array_equal(again, Xa)
    assert len(GainAugment(copies=0).apply(win, seed=0)[0]) == 6
    with pytest.raises(ValueError, match="must be >= 0"):
        GainAugment(copies=-1)
