from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from emgcore.config import TrainConfig
from emgcore.errors import IncompatibleCheckpointError
from emgcore.models import AllConvNet, CnnTcn
from emgcore.train import (
    FitRuntime,
    TrainingCancelled,
    _balanced_weights,
    fit,
    set_seeds,
)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models run faster on one thread, and two threads spin badly when the
    2-core test machine is shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _data(rng, n=24, n_chans=2, n_times=32):
    """Three classes told apart by amplitude: 0.5, 1 and 2 times unit noise."""
    y = np.arange(n) % 3
    X = rng.standard_normal((n, n_chans, n_times)).astype(np.float32)
    X *= np.array([0.5, 1.0, 2.0], dtype=np.float32)[y][:, None, None]
    return X, y


def _model(seed=0, **kw):
    set_seeds(seed)
    return CnnTcn(n_chans=2, n_times=32, n_outputs=3, sfreq=1000.0, **kw)


def _snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a, b, keys):
    return all(torch.equal(a[k], b[k]) for k in keys)


def test_gradual_unfreezing_freezes_the_encoder_then_trains_it_at_the_second_lr(rng):
    model = _model()
    enc_keys = [k for k in model.state_dict() if k.startswith(("conv.", "tcn."))]
    head_keys = [k for k in model.state_dict() if k.startswith("embedding.")]
    assert any("running_mean" in k for k in enc_keys)
    start = _snapshot(model)
    seen = []
    cfg = TrainConfig(
        epochs=2,
        batch_size=8,
        freeze_encoder_epochs=1,
        frozen_lr=1e-3,
        unfrozen_lr=1e-4,
    )
    result = fit(
        model,
        _data(rng),
        _data(rng, n=9),
        config=cfg,
        seed=0,
        progress=False,
        on_epoch=lambda rec: seen.append((rec, _snapshot(model))),
    )
    (rec1, after1), (rec2, after2) = seen
    assert rec1["frozen"] and rec1["lr"] == 1e-3
    assert not rec2["frozen"] and rec2["lr"] == 1e-4
    # epoch 1: encoder weights and batch-norm statistics untouched, the rest trained
    assert _same(start, after1, enc_keys)
    assert not _same(start, after1, head_keys)
    # epoch 2: the encoder trains too
    assert not _same(after1, after2, [k for k in enc_keys if k.endswith("weight")])
    assert [r["epoch"] for r in result.history] == [1, 2]
    assert all(p.requires_grad for p in model.parameters())


def test_an_encoder_frozen_for_all_epochs_never_changes(rng):
    model = AllConvNet(n_chans=4, n_times=8, n_outputs=3, sfreq=100.0, widths=(8, 16))
    start = _snapshot(model)
    prefix = [k for k in start if k.startswith(("convs.0.", "convs.1.", "convs.2."))]
    X = rng.standard_normal((12, 4, 8)).astype(np.float32)
    y = np.arange(12) % 3
    cfg = TrainConfig(epochs=2, batch_size=4, freeze_encoder_epochs=5, frozen_lr=1e-2)
    fit(model, (X, y), None, config=cfg, seed=0, progress=False)
    end = _snapshot(model)
    assert len(prefix) == 6 and _same(start, end, prefix)
    assert not _same(start, end, ["convs.3.weight", "convs.7.weight"])


def test_early_stopping_restores_the_best_weights(rng):
    model = _model()
    snaps = {}
    # Unlearnable validation labels on 4 windows: accuracy takes at most 5 values,
    # so it cannot rise 10 epochs in a row and patience 1 must stop training.
    Xv, _ = _data(rng, n=4)
    yv = np.array([2, 0, 1, 1])
    cfg = TrainConfig(epochs=10, batch_size=8, lr=1e-2, patience=1)
    result = fit(
        model,
        _data(rng),
        (Xv, yv),
        config=cfg,
        seed=0,
        progress=False,
        on_epoch=lambda rec: snaps.update({rec["epoch"]: _snapshot(model)}),
    )
    assert result.stopped_early
    assert len(result.history) == result.best_epoch + 1
    accs = [r["val_acc"] for r in result.history]
    assert result.best_val_acc == max(accs) == accs[result.best_epoch - 1]
    best, last = snaps[result.best_epoch], snaps[len(result.history)]
    assert _same(result.state, best, list(best))
    assert _same(_snapshot(model), best, list(best))
    assert not _same(result.state, last, list(last))


def test_without_patience_it_runs_every_epoch_and_can_keep_the_last_weights(rng):
    model = _model()
    cfg = TrainConfig(epochs=3, batch_size=8, restore_best=False)
    result = fit(model, _data(rng), _data(rng, n=6), config=cfg, seed=0, progress=True)
    assert len(result.history) == 3 and not result.stopped_early
    assert _same(result.state, _snapshot(model), list(result.state))


def test_same_seed_gives_identical_weights_and_another_seed_does_not(rng):
    data, val = _data(rng), _data(rng, n=6)
    cfg = TrainConfig(epochs=2, batch_size=8)
    states = [
        fit(_model(), data, val, config=cfg, seed=s, progress=False).state
        for s in (3, 3, 4)
    ]
    assert _same(states[0], states[1], list(states[0]))
    assert not _same(states[0], states[2], list(states[0]))


def test_a_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one(
    rng, tmp_path
):
    data, val = _data(rng), _data(rng, n=6)
    # restore_best=False: compare the weights after epoch 3, not the best epoch's
    cfg = TrainConfig(
        epochs=3, batch_size=8, freeze_encoder_epochs=1, frozen_lr=1e-3,
        unfrozen_lr=1e-3, restore_best=False,
    )  # fmt: skip
    full = fit(_model(), data, val, config=cfg, seed=1, progress=False)

    def stop_after_two(rec):
        return rec["epoch"] < 2

    first = fit(
        _model(), data, val, config=cfg, seed=1, progress=False,
        on_epoch=stop_after_two, runtime=FitRuntime(resume_dir=tmp_path),
    )  # fmt: skip
    assert first.cancelled and len(first.history) == 2
    # a fresh process would build a freshly initialised model: use another seed
    resumed = fit(
        _model(seed=99), data, val, config=cfg, seed=1, progress=False,
        runtime=FitRuntime(resume_dir=tmp_path),
    )  # fmt: skip
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3]
    assert resumed.best_epoch == full.best_epoch
    assert _same(resumed.state, full.state, list(full.state))


def test_resuming_with_other_settings_is_refused(rng, tmp_path):
    data = _data(rng)
    fit(_model(), data, None, config=TrainConfig(epochs=1, batch_size=8), seed=0,
        progress=False, runtime=FitRuntime(resume_dir=tmp_path))  # fmt: skip
    with pytest.raises(IncompatibleCheckpointError, match="batch_size: 8 -> 4"):
        fit(_model(), data, None, config=TrainConfig(epochs=2, batch_size=4), seed=0,
            progress=False, runtime=FitRuntime(resume_dir=tmp_path))  # fmt: skip


def test_a_callback_raising_training_cancelled_stops_cleanly(rng):
    model = _model()

    def cancel(rec):
        raise TrainingCancelled("user pressed cancel")

    result = fit(model, _data(rng), _data(rng, n=6), config=TrainConfig(epochs=3),
                 seed=0, progress=False, on_epoch=cancel)  # fmt: skip
    assert result.cancelled and len(result.history) == 1
    assert not model.training


def test_the_movement_head_trains_and_leaves_the_disease_head_alone(rng):
    model = _model(n_movement_outputs=4)
    before = _snapshot(model)
    X, _ = _data(rng, n=16)
    y = np.arange(16) % 4
    cfg = TrainConfig(epochs=1, batch_size=8, head="movement")
    fit(model, (X, y), (X, y), config=cfg, seed=0, progress=False)
    after = _snapshot(model)
    disease = [k for k in before if k.startswith("disease_head.")]
    assert _same(before, after, disease)
    assert not _same(before, after, ["movement_head.3.weight"])
    with pytest.raises(ValueError, match="labels span 0..3"):
        fit(
            _model(), (X, y), None, config=TrainConfig(epochs=1), seed=0, progress=False
        )


class _ListDataset(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return torch.from_numpy(self.X[i]), int(self.y[i])


def test_a_torch_dataset_trains_exactly_like_the_same_arrays(rng):
    (X, y), val = _data(rng), _data(rng, n=6)
    cfg = TrainConfig(epochs=1, batch_size=8, class_weights="balanced")
    a = fit(_model(), (X, y), val, config=cfg, seed=2, progress=False)
    b = fit(_model(), _ListDataset(X, y), _ListDataset(*val), config=cfg, seed=2,
            progress=False)  # fmt: skip
    assert _same(a.state, b.state, list(a.state))
    assert a.history[0]["val_acc"] == b.history[0]["val_acc"]


def test_balanced_class_weights_follow_n_over_k_times_count():
    w = _balanced_weights(torch.tensor([0, 0, 0, 1]), 3)
    torch.testing.assert_close(w, torch.tensor([4 / 6, 2.0, 0.0]))


def test_it_rejects_bad_settings(rng):
    with pytest.raises(ValueError, match="validation data"):
        fit(_model(), _data(rng), None, config=TrainConfig(epochs=1, patience=2),
            seed=0, progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="seed"):
        fit(_model(), _data(rng), None, config=TrainConfig(epochs=1), seed=-1)
    with pytest.raises(ValueError, match="do not pair up"):
        X, y = _data(rng)
        fit(_model(), (X, y[:-1]), None, config=TrainConfig(epochs=1), seed=0)
    with pytest.raises(ValueError, match="'optimizer'"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="Unknown TrainConfig field"):
        TrainConfig.from_dict({"epochs": 2, "momentum": 0.9})
    cfg = TrainConfig(epochs=5, freeze_encoder_epochs=2)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
