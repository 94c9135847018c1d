"""The per-process model cache of emgcore.inference is keyed by file content."""

from __future__ import annotations

import os
import shutil

import pytest

from emgcore.checkpoint import file_sha256
from emgcore.errors import IncompatibleCheckpointError
from emgcore.inference import load_for_inference, model_cache_clear
from tests.conftest import make_tiny_disease_checkpoint


@pytest.fixture(autouse=True)
def _empty_cache():
    model_cache_clear()
    yield
    model_cache_clear()


def _copy_with_sidecar(src, dst):
    shutil.copyfile(src, dst)
    sidecar = src.with_name(src.name + ".sha256")
    if sidecar.exists():
        shutil.copyfile(sidecar, dst.with_name(dst.name + ".sha256"))


def test_it_shares_one_model_between_two_paths_to_the_same_content(tmp_path):
    a = make_tiny_disease_checkpoint(tmp_path / "a.pt")
    b = tmp_path / "b.pt"
    _copy_with_sidecar(a, b)
    model_a, _, sha_a = load_for_inference(a)
    model_b, _, sha_b = load_for_inference(b, expected_sha256=sha_a)
    assert sha_a == sha_b == file_sha256(a)
    assert model_a is model_b


def test_it_reads_a_file_replaced_in_place_even_with_its_old_mtime(tmp_path):
    first = make_tiny_disease_checkpoint(tmp_path / "first.pt", seed=0)
    second = make_tiny_disease_checkpoint(tmp_path / "second.pt", seed=1)
    live = tmp_path / "live.pt"
    _copy_with_sidecar(first, live)
    stat = live.stat()
    model_1, meta_1, sha_1 = load_for_inference(live)
    _copy_with_sidecar(second, live)
    # Same path, same mtime: only the content tells the two files apart.
    os.utime(live, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    model_2, meta_2, sha_2 = load_for_inference(live)
    assert sha_2 == file_sha256(second) != sha_1
    assert model_2 is not model_1
    assert (meta_1["seed"], meta_2["seed"]) == (0, 1)


def test_a_cached_model_is_refused_when_the_expected_sha256_differs(tmp_path):
    ckpt = make_tiny_disease_checkpoint(tmp_path / "c.pt")
    load_for_inference(ckpt)
    with pytest.raises(IncompatibleCheckpointError, match="expected"):
        load_for_inference(ckpt, expected_sha256="0" * 64)
