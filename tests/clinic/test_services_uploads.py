from __future__ import annotations

import hashlib

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from clinic.models import AnalysisJob, AuditEvent, Upload
from clinic.services import confirmed_diagnosis_create, result_export, upload_create
from tests.clinic.factories import ResultFactory, TeamFactory, make_user

pytestmark = pytest.mark.django_db


def _create(user, files, **kwargs):
    return upload_create(
        user=user,
        files=files,
        patient_code="P-001",
        muscle="biceps",
        side=Upload.Side.LEFT,
        electrode_type=Upload.ElectrodeType.NEEDLE,
        **kwargs,
    )


def test_it_stores_files_with_their_sha256_and_queues_the_job_after_commit(
    uploaded_files, emgdb, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        "clinic.services.analysis.analysis_run_task.delay",
        lambda job_id: sent.append(job_id) or type("R", (), {"id": "task-1"})(),
    )
    team = TeamFactory(name="neuro")
    user = make_user("clinician", team=team)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = _create(user, uploaded_files("emg_healthy"))
    assert sent == []  # nothing is sent before the transaction commits
    assert job.status == AnalysisJob.Status.QUEUED
    upload = job.upload
    assert upload.team == team and upload.uploaded_by == user
    rows = list(upload.files.all())
    assert [r.original_name for r in rows] == ["emg_healthy.hea", "emg_healthy.dat"]
    for row in rows:
        expected = hashlib.sha256((emgdb / row.original_name).read_bytes()).hexdigest()
        assert row.sha256 == expected
        assert row.file.name.endswith(expected + row.original_name[-4:])
        assert row.size_bytes == (emgdb / row.original_name).stat().st_size
        with row.file.open("rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == expected
    for callback in callbacks:
        callback()
    assert sent == [job.pk]
    job.refresh_from_db()
    assert job.task_id == "task-1"
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPLOADED)
    assert event.actor == user and event.object_id == str(upload.pk)


def test_it_never_overwrites_a_stored_file(uploaded_files):
    user = make_user("clinician")
    first = _create(user, uploaded_files("emg_healthy")).upload.files.first()
    path = default_storage.path(first.file.name)
    mtime = default_storage.get_modified_time
    before = (open(path, "rb").read(), mtime(first.file.name))
    second = _create(user, uploaded_files("emg_healthy")).upload.files.first()
    assert second.pk != first.pk
    assert second.file.name == first.file.name  # same bytes, same content address
    after = (open(path, "rb").read(), mtime(first.file.name))
    assert after == before
    other = _create(user, [SimpleUploadedFile("emg_healthy.hea", b"different")])
    assert other.upload.files.first().file.name != first.file.name


def test_it_exports_json_and_csv_and_audits_each_export():
    result = ResultFactory()
    user = make_user("clinician")
    content, ctype, name = result_export(user=user, job=result.job, fmt="json")
    assert ctype == "application/json" and name.endswith(".json")
    assert '"label": "myopathy"' in content and "not a diagnosis" in content
    content, ctype, name = result_export(user=user, job=result.job, fmt="csv")
    lines = content.splitlines()
    assert lines[0] == "field,value" and "label,myopathy" in lines
    assert "window_start_s,window_stop_s,healthy,myopathy,neuropathy" in lines
    assert lines[-1].startswith("1.0,2.0,0.2,0.7,0.1")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).count() == 2


def test_it_records_and_audits_a_confirmed_diagnosis():
    result = ResultFactory()
    user = make_user("clinician")
    row = confirmed_diagnosis_create(
        user=user, upload=result.job.upload, diagnosis="MYOPATHY", note="biopsy"
    )
    assert row.confirmed_by == user
    event = AuditEvent.objects.get(action=AuditEvent.Action.CONFIRMED)
    assert event.details["diagnosis"] == "MYOPATHY"


def test_a_broken_task_queue_fails_the_job_with_a_clear_message(
    uploaded_files, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from kombu.exceptions import OperationalError

    def down(job_id):
        raise OperationalError("Connection refused")

    monkeypatch.setattr("clinic.services.analysis.analysis_run_task.delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = _create(make_user("clinician"), uploaded_files("emg_healthy"))
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.FAILED
    assert "task queue is unavailable" in job.error_message
    assert f"Reference: job {job.pk}." in job.error_message
    assert "could not be sent" in caplog.text
