"""Recordings in S3-compatible object storage (moto's server, started by the suite).

Real parts: the moto S3 server over HTTP, django-storages' S3 backend, the API
upload, the emgdb recordings and the analysis with a tiny real checkpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from rest_framework.test import APIClient

from clinic.models import AnalysisJob, Result, UploadFile
from clinic.services import analysis_run
from clinic.services.users import api_token_create
from tests.clinic.factories import make_user

# Fixtures: s3_endpoint (the moto server), s3_storage (a fresh bucket); the
# gesture ones (gesture_model, person_file, fast_adaptation).
pytestmark = pytest.mark.django_db
Status = AnalysisJob.Status


@pytest.fixture
def token_client():
    user = make_user("clinician")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(username=user.username)}"
    )
    return client


def _api_upload(client, files) -> AnalysisJob:
    response = client.post(
        "/api/v1/recordings",
        {"file": files, "patient_code": "S3-1"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return AnalysisJob.objects.get(pk=response.json()["job_id"])


def _keys(client, bucket) -> set[str]:
    listing = client.list_objects_v2(Bucket=bucket)
    return {o["Key"] for o in listing.get("Contents", [])}


def test_an_api_upload_lands_in_the_bucket_and_is_analysed_from_it(
    s3_storage, token_client, uploaded_files, active_model, emgdb, settings
):
    client, bucket = s3_storage
    job = _api_upload(token_client, uploaded_files("emg_healthy"))
    rows = list(UploadFile.objects.filter(upload=job.upload))
    assert _keys(client, bucket) == {r.file.name for r in rows}
    for row in rows:
        body = client.get_object(Bucket=bucket, Key=row.file.name)["Body"].read()
        assert body == (emgdb / row.original_name).read_bytes()
    # Nothing was written to the local media folder.
    assert not (settings.MEDIA_ROOT / "uploads").exists()

    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error_message
    assert Result.objects.get(job=job).windows


def test_a_deleted_object_fails_the_job_with_a_plain_message(
    s3_storage, token_client, uploaded_files, active_model
):
    client, bucket = s3_storage
    job = _api_upload(token_client, uploaded_files("emg_healthy"))
    dat = job.upload.files.get(original_name="emg_healthy.dat")
    client.delete_object(Bucket=bucket, Key=dat.file.name)

    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.error_message.startswith(
        'The stored file "emg_healthy.dat" is missing from the file storage'
    )
    assert "Traceback" not in job.error_message and "Error" not in job.error_message
    assert not Result.objects.filter(job=job).exists()


def test_an_altered_object_fails_the_integrity_check(
    s3_storage, token_client, uploaded_files, active_model
):
    client, bucket = s3_storage
    job = _api_upload(token_client, uploaded_files("emg_healthy"))
    dat = job.upload.files.get(original_name="emg_healthy.dat")
    body = client.get_object(Bucket=bucket, Key=dat.file.name)["Body"].read()
    # Same size, one byte flipped: only the checksum can tell.
    altered = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
    client.put_object(Bucket=bucket, Key=dat.file.name, Body=altered)

    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert 'The stored file "emg_healthy.dat" failed its integrity check' in (
        job.error_message
    )
    assert not Result.objects.filter(job=job).exists()


def test_a_download_of_an_altered_object_is_refused(
    s3_storage, token_client, uploaded_files
):
    client, bucket = s3_storage
    job = _api_upload(token_client, uploaded_files("emg_healthy"))
    hea = job.upload.files.get(original_name="emg_healthy.hea")
    url = f"/api/v1/recordings/{job.upload.pk}/files/{hea.pk}"
    ok = token_client.get(url)
    assert ok.status_code == 200, ok.content
    assert b"".join(ok.streaming_content) == hea.file.open("rb").read()
    client.put_object(Bucket=bucket, Key=hea.file.name, Body=b"not the header")
    refused = token_client.get(url)
    assert refused.status_code == 500
    assert "failed its integrity check" in refused.json()["detail"]


def test_emg_storage_s3_selects_the_s3_backend_from_the_environment():
    env = {
        **os.environ,
        "EMG_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": "records",
        "AWS_S3_ENDPOINT_URL": "http://minio:9000",
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['default']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    default = json.loads(out.stdout)
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    assert default["OPTIONS"]["bucket_name"] == "records"
    assert default["OPTIONS"]["endpoint_url"] == "http://minio:9000"
    assert default["OPTIONS"]["file_overwrite"] is False


def test_the_same_checks_hold_on_the_local_filesystem(
    token_client, uploaded_files, active_model, settings
):
    job = _api_upload(token_client, uploaded_files("emg_healthy"))
    dat = job.upload.files.get(original_name="emg_healthy.dat")
    path = settings.MEDIA_ROOT / dat.file.name
    path.write_bytes(path.read_bytes()[:-2] + b"\x00\x00")
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "failed its integrity check" in job.error_message

    again = _api_upload(token_client, uploaded_files("emg_myopathy"))
    hea = again.upload.files.get(original_name="emg_myopathy.hea")
    (settings.MEDIA_ROOT / hea.file.name).unlink()
    analysis_run(job_id=again.pk)
    again.refresh_from_db()
    assert again.status == Status.FAILED
    assert '"emg_myopathy.hea" is missing' in again.error_message


def test_a_retrained_candidate_is_kept_in_the_bucket_and_fetched_by_workers(
    s3_storage, token_client, uploaded_files, tiny_clinic_checkpoint, settings
):
    """A candidate written by the training worker is used by an analysis worker
    on another host: its only copy is the bucket's."""
    from types import SimpleNamespace

    from clinic.services import model_version_promote
    from clinic.services.retraining_candidate import _candidate_register

    client, bucket = s3_storage
    run = SimpleNamespace(pk=7, started_by=None)
    mv = _candidate_register(run, tiny_clinic_checkpoint)
    key = mv.checkpoint_path.removeprefix("storage:")
    assert key == f"models/disease/{mv.sha256[:2]}/{mv.sha256}.pt"
    assert key in _keys(client, bucket)
    tiny_clinic_checkpoint.unlink()  # "another host": no local file at all
    model_version_promote(actor=None, model_version=mv)

    job = _api_upload(token_client, uploaded_files("emg_healthy"))
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error_message
    cached = settings.EMG_CHECKPOINT_CACHE_DIR / f"{mv.sha256}.pt"
    assert cached.is_file()
    # A damaged cached copy is fetched again from the bucket, not used.
    cached.write_bytes(b"damaged")
    second = _api_upload(token_client, uploaded_files("emg_neuropathy"))
    analysis_run(job_id=second.pk)
    second.refresh_from_db()
    assert second.status == Status.SUCCEEDED, second.error_message
    assert cached.stat().st_size > 100

    # A worker without the cached copy, and the object gone: FAILED, plainly.
    cached.unlink()
    client.delete_object(Bucket=bucket, Key=key)
    again = _api_upload(token_client, uploaded_files("emg_myopathy"))
    analysis_run(job_id=again.pk)
    again.refresh_from_db()
    assert again.status == Status.FAILED
    assert "is missing from the file storage or does not match" in again.error_message


def test_gesture_files_and_the_adapted_model_live_in_the_bucket(
    s3_storage, gesture_model, person_file, fast_adaptation
):
    from clinic.gestures import services as gestures
    from clinic.gestures.models import GestureSession
    from clinic.stored_files import StoredFileAltered

    client, bucket = s3_storage
    user = make_user("clinician")

    def session():
        return gestures.gesture_session_create(
            user=user,
            base_model=gesture_model,
            layout="myo-readings",
            files=[person_file()],
            person_code="G-S3",
            k=1,
        )

    done = session()
    calibration = done.files.get().file.name
    assert calibration in _keys(client, bucket)
    gestures.gesture_adaptation_run(session_id=done.pk)
    done.refresh_from_db()
    assert done.status == GestureSession.Status.SUCCEEDED, done.error_message
    adapted = done.adapted_checkpoint.name
    assert adapted in _keys(client, bucket)
    fh, _name = gestures.gesture_checkpoint_export(user=user, session=done)
    assert len(fh.read()) > 1000
    client.put_object(Bucket=bucket, Key=adapted, Body=b"tampered")
    with pytest.raises(StoredFileAltered):
        gestures.gesture_checkpoint_export(user=user, session=done)

    lost = session()
    client.delete_object(Bucket=bucket, Key=calibration)
    gestures.gesture_adaptation_run(session_id=lost.pk)
    lost.refresh_from_db()
    assert lost.status == GestureSession.Status.FAILED
    assert '"44444-1.npz" is missing from the file storage' in lost.error_message
