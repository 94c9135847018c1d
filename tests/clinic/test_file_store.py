"""The clinic's file store (clinic.stored_files), on both storage backends.

Each test runs on the local filesystem (a temporary MEDIA_ROOT) and through
django-storages' S3 backend against the moto server of tests/clinic/s3.py.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from clinic.stored_files import (
    ALTERED,
    MISSING,
    StoredFileAltered,
    StoredFileMissing,
    content_name,
    local_file_store,
    model_dir_name,
    model_dir_path,
    stored_file_cached_copy,
    stored_file_copy_verified,
    stored_file_open_verified,
    stored_files_audit,
    uploaded_file_store,
    uploaded_sha256,
)

CONTENT = b"#header\n" + bytes(range(256)) * 50
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture(params=["filesystem", "s3"])
def backend(request) -> str:
    if request.param == "s3":
        request.getfixturevalue("s3_storage")
    return request.param


def _upload(name: str = "Rec.DAT", content: bytes = CONTENT) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def _replace(name: str, content: bytes) -> None:
    """Change a stored object behind the store's back (works on both backends)."""
    default_storage.delete(name)
    assert default_storage.save(name, ContentFile(content)) == name


def test_the_same_content_gets_the_same_name_and_is_stored_once(backend, settings):
    first = uploaded_file_store(_upload("a.dat"), prefix="uploads", default_name="x")
    second = uploaded_file_store(_upload("b.DAT"), prefix="uploads", default_name="x")
    assert first.name == second.name == f"uploads/{SHA[:2]}/{SHA}.dat"
    assert (first.sha256, first.size_bytes) == (SHA, len(CONTENT))
    assert (first.original_name, second.original_name) == ("a.dat", "b.DAT")
    _dirs, files = default_storage.listdir(f"uploads/{SHA[:2]}")
    assert files == [f"{SHA}.dat"]
    with default_storage.open(first.name, "rb") as fh:
        assert fh.read() == CONTENT
    # On S3 the bucket holds it: nothing is written to the local media folder.
    assert (settings.MEDIA_ROOT / first.name).is_file() == (backend == "filesystem")


def test_other_content_gets_another_name(backend):
    first = uploaded_file_store(_upload(), prefix="uploads", default_name="x")
    other = uploaded_file_store(
        _upload(content=CONTENT + b"!"), prefix="uploads", default_name="x"
    )
    assert other.name != first.name
    assert other.sha256 == hashlib.sha256(CONTENT + b"!").hexdigest()


def test_a_file_without_a_name_gets_the_default_and_no_path_is_kept():
    stored = uploaded_file_store(
        SimpleUploadedFile(None, CONTENT), prefix="p", default_name="calibration"
    )
    assert stored.original_name == "calibration"
    assert stored.name == content_name("p", SHA, "") == f"p/{SHA[:2]}/{SHA}"
    f = _upload("../../etc/rec.csv")
    stored = uploaded_file_store(f, prefix="p", default_name="x")
    assert stored.original_name == "rec.csv"
    assert stored.name == f"p/{SHA[:2]}/{SHA}.csv"


def test_hashing_an_upload_rewinds_it():
    f = _upload()
    f.read(10)
    assert uploaded_sha256(f) == SHA
    assert f.read() == CONTENT


def test_open_verified_returns_the_bytes_and_refuses_changed_or_missing_ones(backend):
    name = uploaded_file_store(_upload(), prefix="uploads", default_name="x").name
    with stored_file_open_verified(name, SHA, label='"Rec.DAT"') as fh:
        assert fh.read() == CONTENT

    _replace(name, CONTENT[:-1] + b"\x00")
    with pytest.raises(StoredFileAltered) as altered:
        stored_file_open_verified(name, SHA, label='"Rec.DAT"')
    assert str(altered.value) == ALTERED.format(label='"Rec.DAT"')

    default_storage.delete(name)
    with pytest.raises(StoredFileMissing) as missing:
        stored_file_open_verified(name, SHA, label='"Rec.DAT"')
    assert str(missing.value) == MISSING.format(label='"Rec.DAT"')
    # The user's file name, never the server's paths or storage names.
    assert name not in str(missing.value)


def test_a_local_copy_is_verified_and_removed_when_altered(backend, tmp_path):
    name = uploaded_file_store(_upload(), prefix="uploads", default_name="x").name
    target = tmp_path / "Rec.DAT"
    assert stored_file_copy_verified(name, SHA, target, label="x") == target
    assert target.read_bytes() == CONTENT

    _replace(name, b"other bytes")
    again = tmp_path / "again.dat"
    with pytest.raises(StoredFileAltered):
        stored_file_copy_verified(name, SHA, again, label="x")
    assert not again.exists()

    default_storage.delete(name)
    with pytest.raises(StoredFileMissing):
        stored_file_copy_verified(name, SHA, again, label="x")
    assert not again.exists()


def test_a_cached_copy_is_renamed_into_place_and_leaves_no_part(backend, tmp_path):
    name = uploaded_file_store(_upload(), prefix="uploads", default_name="x").name
    target = tmp_path / "cache" / f"{SHA}.pt"
    assert stored_file_cached_copy(name, SHA, target, label="x") == target
    assert target.read_bytes() == CONTENT
    assert [p.name for p in target.parent.iterdir()] == [target.name]

    target.unlink()
    _replace(name, b"other bytes")
    with pytest.raises(StoredFileAltered):
        stored_file_cached_copy(name, SHA, target, label="x")
    assert list(target.parent.iterdir()) == []


def test_a_local_file_is_stored_under_its_content_address(backend, tmp_path):
    path = tmp_path / "adapted.pt"
    path.write_bytes(CONTENT)
    name = local_file_store(path, prefix="gestures/adapted")
    assert name == f"gestures/adapted/{SHA[:2]}/{SHA}.pt"
    # Stored again (a second worker, the same bytes): the same single object.
    assert local_file_store(path, prefix="gestures/adapted", sha256=SHA) == name
    assert default_storage.listdir(f"gestures/adapted/{SHA[:2]}")[1] == [f"{SHA}.pt"]
    with stored_file_open_verified(name, SHA, label="x") as fh:
        assert fh.read() == CONTENT


def test_the_audit_record_of_stored_files():
    rows = [SimpleNamespace(original_name="a.dat", sha256=SHA, size_bytes=3)]
    assert stored_files_audit(rows) == [{"name": "a.dat", "sha256": SHA, "size": 3}]


def test_model_files_are_named_relative_to_the_model_dir(settings, tmp_path):
    settings.EMG_MODEL_DIR = tmp_path / "models"
    inside = tmp_path / "models" / "gesture" / "m.pt"
    outside = tmp_path / "elsewhere.pt"
    assert model_dir_name(inside) == "gesture/m.pt"
    assert model_dir_path("gesture/m.pt") == inside
    assert model_dir_name(outside) == str(outside.resolve())
    assert model_dir_path(str(outside)) == outside
