"""analysis_run: claim before work, results, and the two kinds of failure.

Real parts: the emgdb recordings, emgcore reading/quality/features and
emgcore.inference.predict with a tiny real (untrained) checkpoint.
"""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clinic.models import AnalysisJob, Result, Upload
from clinic.services import analysis_run, upload_create
from clinic.tasks import analysis_run_task
from tests.clinic.factories import make_user

pytestmark = pytest.mark.django_db
Status = AnalysisJob.Status


def _queued_job(files) -> AnalysisJob:
    return upload_create(
        user=make_user("clinician"),
        files=files,
        patient_code="P-7",
        muscle="TA",
        side=Upload.Side.RIGHT,
        electrode_type=Upload.ElectrodeType.NEEDLE,
    )


def test_it_analyses_a_real_recording_and_stores_the_result(
    uploaded_files, active_model, predict_calls
):
    job = _queued_job(uploaded_files("emg_healthy"))
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error_message
    assert job.progress == 100 and job.started_at and job.finished_at
    assert job.model_version == active_model
    result = Result.objects.get(job=job)
    assert result.model_version == active_model
    assert set(result.probabilities) == {"healthy", "myopathy", "neuropathy"}
    assert sum(result.probabilities.values()) == pytest.approx(1.0)
    best = max(result.probabilities, key=result.probabilities.get)
    assert result.confidence == pytest.approx(result.probabilities[best])
    # The tiny model is untrained: below min_confidence 0.5 it must say so.
    assert result.label == (best if result.confidence >= 0.5 else "inconclusive")
    assert len(result.windows) == int(12.715 // 0.25)
    recording, checkpoint = predict_calls[0]
    assert recording.sfreq == 4000 and checkpoint.name == "tiny-allconvnet.pt"
    assert set(result.quality)  # emgcore's quality report, not empty
    feats = result.features["channels"][0]
    assert feats["rms"] > 0 and 0 < feats["mdf_hz"] < feats["mnf_hz"] * 2
    preview = result.signal_preview
    assert preview["sfreq"] == 4000 and preview["decimated"] is True
    assert preview["band_hz"] == [20.0, 1800.0]  # needle: up to 0.45 sfreq
    assert len(preview["channels"][0]["raw"]) <= 4000
    assert preview["channels"][0]["t_s"][-1] == pytest.approx(
        recording.duration_s, abs=recording.duration_s / 2000
    )


def test_it_does_nothing_when_the_job_is_delivered_twice(
    uploaded_files, active_model, predict_calls
):
    job = _queued_job(uploaded_files("emg_healthy"))
    analysis_run_task.apply(args=[job.pk])
    job.refresh_from_db()
    first = (job.status, job.progress, job.finished_at)
    analysis_run_task.apply(args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.progress, job.finished_at) == first
    assert first[0] == Status.SUCCEEDED
    assert Result.objects.filter(job=job).count() == 1
    assert len(predict_calls) == 1


def test_it_ignores_a_job_another_worker_is_running(active_model, predict_calls):
    job = _queued_job([SimpleUploadedFile("x.csv", b"a\n1\n")])
    from django.utils import timezone

    AnalysisJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, progress=40, heartbeat_at=timezone.now()
    )
    assert analysis_run(job_id=job.pk) == "busy"  # the task retries after a lease
    job.refresh_from_db()
    assert (job.status, job.progress) == (Status.RUNNING, 40)
    assert predict_calls == []


def test_a_job_whose_worker_died_is_claimed_again_once_its_lease_ran_out(
    uploaded_files, active_model, predict_calls, settings
):
    from datetime import timedelta

    from django.utils import timezone

    job = _queued_job(uploaded_files("emg_healthy"))
    long_ago = timezone.now() - timedelta(seconds=settings.EMG_JOB_LEASE_S + 1)
    AnalysisJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago, progress=35
    )
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED and len(predict_calls) == 1


def test_a_bad_recording_fails_with_the_emgcore_message(
    emgdb, active_model, predict_calls, tmp_path
):
    from emgcore.errors import EmgCoreError
    from emgcore.io import read_recording

    truncated = (emgdb / "emg_healthy.dat").read_bytes()[:1001]
    (tmp_path / "emg_healthy.hea").write_bytes((emgdb / "emg_healthy.hea").read_bytes())
    (tmp_path / "emg_healthy.dat").write_bytes(truncated)
    with pytest.raises(EmgCoreError) as expected:
        read_recording([tmp_path / "emg_healthy.hea", tmp_path / "emg_healthy.dat"])
    job = _queued_job(
        [
            SimpleUploadedFile(
                "emg_healthy.hea", (emgdb / "emg_healthy.hea").read_bytes()
            ),
            SimpleUploadedFile("emg_healthy.dat", truncated),
        ]
    )
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.error_message == str(expected.value).replace(f"{tmp_path}/", "")
    assert job.error_message.startswith("emg_healthy.dat: ")
    assert not Result.objects.filter(job=job).exists()
    assert predict_calls == []


def test_an_unexpected_error_fails_with_a_generic_message_and_is_logged(
    uploaded_files, active_model, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr("clinic.services.analysis._predict", broken)
    job = _queued_job(uploaded_files("emg_healthy"))
    with caplog.at_level(logging.ERROR, logger="clinic.services.analysis"):
        analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.error_message == (
        "Analysis failed because of a problem in the application. "
        f"Reference: job {job.pk}."
    )
    assert "secret" not in job.error_message
    assert any("secret internal detail" in (r.exc_text or "") for r in caplog.records)


def test_it_fails_clearly_without_an_active_model(uploaded_files, predict_calls):
    job = _queued_job(uploaded_files("emg_healthy"))
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "No disease model is active" in job.error_message


def test_it_refuses_a_checkpoint_whose_sha256_changed(
    uploaded_files, active_model, model_dir, predict_calls
):
    (model_dir / "tiny-allconvnet.pt").write_bytes(b"tampered")
    job = _queued_job(uploaded_files("emg_healthy"))
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "does not match its registered checksum" in job.error_message
    assert predict_calls == []


def test_the_model_runs_on_the_configured_device(monkeypatch, settings):
    # EMG_DEVICE reaches emgcore's predict (it was dropped by a signature check).
    from pathlib import Path
    from types import SimpleNamespace

    from clinic.services import analysis

    seen = {}

    def fake_predict(recording, path, **kwargs):
        seen.update(kwargs)
        return SimpleNamespace(to_dict=lambda: {})

    monkeypatch.setattr("emgcore.inference.predict", fake_predict)
    settings.EMG_DEVICE = "meta"
    analysis._predict(None, Path("x.pt"), SimpleNamespace(sha256="ab" * 32))
    assert seen == {"expected_sha256": "ab" * 32, "device": "meta"}
