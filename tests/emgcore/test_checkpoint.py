from __future__ import annotations

import hashlib
import json
import zipfile

import pytest
import torch

import emgcore
from emgcore.checkpoint import (
    METADATA_FIELDS,
    file_sha256,
    load_checkpoint,
    save_checkpoint,
)
from emgcore.errors import IncompatibleCheckpointError
from emgcore.models import AllConvNet, CnnTcn
from emgcore.train import set_seeds

CLASSES = ["healthy", "myopathy", "neuropathy"]


@pytest.fixture
def model():
    set_seeds(0)
    return CnnTcn(n_chans=2, n_times=64, n_outputs=3, sfreq=1000.0).eval()


@pytest.fixture
def saved(tmp_path, model):
    path = tmp_path / "m.pt"
    sha = save_checkpoint(
        path,
        model,
        {
            "class_names": CLASSES,
            "preprocess": {"bandpass_hz": (20.0, 450.0)},
            "train": {"epochs": 3},
            "dataset": {"name": "emgdb", "split_hash": "abc123"},
            "metrics": {"accuracy": 0.9},
            "seed": 7,
            "parent": None,
            "min_confidence": 0.6,
        },
    )
    return path, sha


def _rewrite(path, mutate):
    payload = torch.load(path, map_location="cpu", weights_only=True)
    mutate(payload)
    torch.save(payload, path)


def test_it_writes_a_file_that_torch_loads_with_weights_only(saved):
    path, sha = saved
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert payload["format_version"] == 1
    meta = payload["metadata"]
    assert tuple(meta) == METADATA_FIELDS
    assert meta["class_names"] == CLASSES
    assert meta["model_name"] == "cnn_tcn"
    assert meta["model_kwargs"]["n_chans"] == 2
    assert (meta["sfreq"], meta["n_chans"], meta["n_times"]) == (1000.0, 2, 64)
    assert meta["preprocess"] == {"bandpass_hz": [20.0, 450.0]}  # JSON-like
    assert meta["dataset"] == {"name": "emgdb", "split_hash": "abc123"}
    assert meta["seed"] == 7 and meta["min_confidence"] == 0.6
    assert meta["emgcore_version"] == emgcore.__version__
    assert meta["torch_version"] == torch.__version__
    assert meta["git_commit"] is None or len(meta["git_commit"]) == 40
    assert meta["created_at"].endswith("+00:00")
    json.dumps(meta)


def test_it_writes_the_sha256_beside_the_file(saved):
    path, sha = saved
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest() == file_sha256(path)
    assert (path.parent / "m.pt.sha256").read_text() == f"{sha}  m.pt\n"


def test_load_restores_weights_metadata_and_eval_mode(saved, model):
    path, sha = saved
    loaded, meta = load_checkpoint(path, expected_sha256=sha.upper())
    assert not loaded.training
    assert meta["metrics"] == {"accuracy": 0.9}
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, rtol=0, atol=0)


def test_a_tampered_file_fails_the_sidecar_sha256_check(saved):
    path, _ = saved
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IncompatibleCheckpointError, match="sha256"):
        load_checkpoint(path)


def test_a_file_that_is_not_the_expected_one_fails_the_sha256_check(saved):
    path, sha = saved
    with pytest.raises(IncompatibleCheckpointError, match=f"expected {'0' * 64}"):
        load_checkpoint(path, expected_sha256="0" * 64)


def test_it_rejects_another_format_version(saved):
    path, _ = saved
    _rewrite(path, lambda p: p.update(format_version=2))
    (path.parent / "m.pt.sha256").unlink()
    with pytest.raises(IncompatibleCheckpointError, match="format_version 2"):
        load_checkpoint(path)


def test_it_names_an_unknown_model(saved):
    path, _ = saved
    _rewrite(path, lambda p: p["metadata"].update(model_name="transformer9000"))
    (path.parent / "m.pt.sha256").unlink()
    with pytest.raises(IncompatibleCheckpointError, match="'transformer9000'"):
        load_checkpoint(path)


def test_it_says_when_the_weights_do_not_fit_the_model(saved):
    path, _ = saved
    _rewrite(path, lambda p: p["metadata"]["model_kwargs"].update(n_chans=5))
    (path.parent / "m.pt.sha256").unlink()
    with pytest.raises(IncompatibleCheckpointError, match="weights do not fit"):
        load_checkpoint(path)


def test_it_rejects_a_file_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(IncompatibleCheckpointError, match="not a readable"):
        load_checkpoint(path)
    with zipfile.ZipFile(tmp_path / "z.pt", "w") as zf:
        zf.writestr("x", "y")
    with pytest.raises(IncompatibleCheckpointError):
        load_checkpoint(tmp_path / "z.pt")


def test_it_refuses_pickled_objects_that_weights_only_cannot_load(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format_version": 1, "obj": AllConvNet()}, path)
    with pytest.raises(IncompatibleCheckpointError, match="not a readable"):
        load_checkpoint(path)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_checkpoint(tmp_path / "nope.pt")


def test_save_checks_class_names_and_metadata(tmp_path, model):
    with pytest.raises(ValueError, match="2 class names"):
        save_checkpoint(tmp_path / "a.pt", model, {"class_names": ["a", "b"]})
    with pytest.raises(ValueError, match="class_names"):
        save_checkpoint(tmp_path / "a.pt", model, {})
    with pytest.raises(ValueError, match="Unknown checkpoint metadata field"):
        save_checkpoint(tmp_path / "a.pt", model, {"class_names": CLASSES, "lr": 1})
    with pytest.raises(ValueError, match="JSON"):
        save_checkpoint(
            tmp_path / "a.pt",
            model,
            {"class_names": CLASSES, "metrics": {"x": object()}},
        )
    with pytest.raises(ValueError, match="'sfreq'"):
        save_checkpoint(
            tmp_path / "a.pt", model, {"class_names": CLASSES, "sfreq": 4000}
        )
    assert not (tmp_path / "a.pt").exists()
