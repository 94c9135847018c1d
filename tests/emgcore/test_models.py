from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from emgcore.checkpoint import load_checkpoint, save_checkpoint
from emgcore.cli import main
from emgcore.errors import InvalidRecordingError
from emgcore.models import (
    MODELS,
    AllConvNet,
    CnnTcn,
    build_model,
    count_parameters,
)
from emgcore.train import set_seeds


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny models run faster on one thread, and two threads spin badly when the
    2-core test machine is shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tiny_cnn_tcn(**kw):
    return CnnTcn(
        n_chans=kw.pop("n_chans", 2), n_times=64, n_outputs=3, sfreq=500.0, **kw
    )


# -- CnnTcn -----------------------------------------------------------------------
def test_it_matches_the_papers_parameter_count_exactly():
    model = build_model("cnn_tcn")
    assert count_parameters(model) == 1_129_719
    # encoder (conv + TCN) vs embedding and heads, as used for gradual unfreezing
    assert sum(p.numel() for p in model.encoder_parameters()) == 738_112
    assert sum(p.numel() for p in model.head_parameters()) == 1_129_719 - 738_112


@pytest.mark.parametrize(
    ("n_chans", "n_times"), [(12, 1000), (12, 8), (1, 37), (3, 256)]
)
def test_cnn_tcn_forward_shapes_over_input_sizes(n_chans, n_times):
    model = CnnTcn(n_chans=n_chans, n_times=n_times, n_outputs=3, sfreq=1000.0).eval()
    x = torch.randn(2, n_chans, n_times)
    assert model(x).shape == (2, 3)
    assert model(x, head="movement").shape == (2, 52)
    assert model.embed(x).shape == (2, 128)


def test_cnn_tcn_movement_head_size_follows_its_argument():
    model = _tiny_cnn_tcn(n_movement_outputs=12).eval()
    assert model(torch.randn(3, 2, 64), head="movement").shape == (3, 12)
    with pytest.raises(ValueError, match="head"):
        model(torch.randn(3, 2, 64), head="gesture")


def test_cnn_tcn_accepts_other_window_lengths_than_built_for():
    model = _tiny_cnn_tcn().eval()
    assert model(torch.randn(1, 2, 500)).shape == (1, 3)


def test_it_rejects_inputs_with_the_wrong_channel_count_or_too_short():
    model = _tiny_cnn_tcn().eval()
    with pytest.raises(InvalidRecordingError, match="2 channels"):
        model(torch.randn(1, 3, 64))
    with pytest.raises(InvalidRecordingError, match="shorter than the 8 samples"):
        model(torch.randn(1, 2, 7))
    with pytest.raises(InvalidRecordingError, match="batch shaped"):
        model(torch.randn(2, 64))


def test_it_rejects_bad_constructor_arguments():
    with pytest.raises(ValueError, match="n_outputs"):
        CnnTcn(n_chans=12, n_times=100, n_outputs=1, sfreq=1000.0)
    with pytest.raises(ValueError, match="n_times"):
        CnnTcn(n_chans=12, n_times=4, n_outputs=3, sfreq=1000.0)
    with pytest.raises(InvalidRecordingError, match="Sampling rate"):
        CnnTcn(n_chans=12, n_times=100, n_outputs=3, sfreq=0.0)


# -- AllConvNet -------------------------------------------------------------------
def test_allconvnet_has_about_046_million_parameters_at_the_papers_size():
    model = AllConvNet(n_chans=8, n_times=16, n_outputs=8, sfreq=1000.0)
    assert count_parameters(model) == 461_064
    assert abs(count_parameters(model) - 460_000) / 460_000 < 0.01


@pytest.mark.parametrize(("h", "w"), [(8, 16), (8, 40), (10, 20), (2, 100), (1, 12)])
def test_allconvnet_forward_shapes_over_image_sizes(h, w):
    model = AllConvNet(n_chans=h, n_times=w, n_outputs=6, sfreq=200.0).eval()
    assert model(torch.randn(4, 1, h, w)).shape == (4, 6)
    assert model(torch.randn(4, h, w)).shape == (4, 6)  # channel dim added


def test_allconvnet_rejects_images_of_the_wrong_height_or_planes():
    model = AllConvNet(n_chans=8, n_times=16, n_outputs=8, sfreq=1000.0)
    with pytest.raises(InvalidRecordingError, match="8 channels"):
        model(torch.randn(2, 1, 10, 16))
    with pytest.raises(ValueError, match="one image plane"):
        model(torch.randn(2, 3, 8, 16))


def test_allconvnet_frozen_prefix_is_the_first_three_convs():
    model = AllConvNet(n_chans=8, n_times=16, n_outputs=8, sfreq=1000.0)
    prefix = list(model.frozen_prefix_parameters(3))
    # conv1 1->64, conv2 64->64, conv3 64->64 (stride 2), weights and biases
    assert sum(p.numel() for p in prefix) == (9 * 64 + 64) + 2 * (64 * 64 * 9 + 64)
    assert {id(p) for p in prefix} == {id(p) for p in model.encoder_parameters()}
    assert len(list(model.frozen_prefix_parameters(1))) == 2


# -- shared behaviour -------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
def test_get_config_rebuilds_the_same_architecture(name):
    model = build_model(name)
    rebuilt = MODELS[name].from_config(json.loads(json.dumps(model.get_config())))
    assert rebuilt.get_config() == model.get_config()
    rebuilt.load_state_dict(model.state_dict())  # same names and shapes


def test_build_model_rejects_an_unknown_name():
    with pytest.raises(ValueError, match="'resnet'"):
        build_model("resnet")


def test_same_seed_gives_the_same_weights_and_outputs():
    x = torch.randn(2, 2, 64)
    outs = []
    for seed in (5, 5, 6):
        set_seeds(seed)
        outs.append(_tiny_cnn_tcn().eval()(x))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)
    assert not torch.allclose(outs[0], outs[2])


@pytest.mark.parametrize("name", ["cnn_tcn", "allconvnet"])
def test_a_tiny_batch_can_be_overfit(name, rng):
    set_seeds(0)
    if name == "cnn_tcn":
        model = _tiny_cnn_tcn(drop_prob=0.0)
        x = torch.as_tensor(rng.standard_normal((6, 2, 64)), dtype=torch.float32)
    else:
        model = AllConvNet(
            n_chans=4,
            n_times=8,
            n_outputs=3,
            sfreq=100.0,
            widths=(8, 16),
            drop_prob=0.0,
        )
        x = torch.as_tensor(rng.standard_normal((6, 1, 4, 8)), dtype=torch.float32)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(40):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    model.eval()
    assert (model(x).argmax(1) == y).all()
    assert torch.nn.functional.cross_entropy(model(x), y).item() < 0.1


@pytest.mark.parametrize("name", ["cnn_tcn", "allconvnet"])
def test_save_then_load_gives_identical_outputs(name, tmp_path):
    set_seeds(1)
    model = build_model(name, n_outputs=3).eval()
    x = torch.randn(3, model.n_chans, model.n_times)
    path = tmp_path / f"{name}.pt"
    save_checkpoint(path, model, {"class_names": ["a", "b", "c"], "seed": 1})
    loaded, meta = load_checkpoint(path)
    assert meta["model_name"] == name
    torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)


def test_models_command_prints_each_model_with_its_parameter_count(capsys):
    assert main(["models"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == set(MODELS)
    assert by_name["cnn_tcn"]["n_parameters"] == 1_129_719
    assert by_name["allconvnet"]["n_parameters"] == 461_064
    # 33 window features -> 3 classes (the scaling buffers are not parameters).
    assert by_name["feature_linear"]["n_parameters"] == 33 * 3 + 3
    assert by_name["cnn_tcn"]["config"]["n_chans"] == 12
    assert np.isclose(by_name["allconvnet"]["config"]["sfreq"], 1000.0)
