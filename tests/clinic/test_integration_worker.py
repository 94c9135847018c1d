"""An upload goes through a real Celery worker on Redis to a SUCCEEDED result.

Real parts throughout: PostgreSQL, Redis, a `celery worker` process running
clinic.tasks.analysis_run_task, emgcore reading the real emgdb recording and
emgcore.inference.predict with a tiny real (untrained) checkpoint.
"""

from __future__ import annotations

import time
import uuid

import pytest
from celery import Celery

from clinic.models import AnalysisJob, Result
from clinic.services import model_version_register
from tests.clinic.factories import make_user
from tests.clinic.workers import celery_worker, this_tests_app_env


@pytest.fixture
def analysis_worker(redis_url, tmp_path, monkeypatch, model_dir):
    """A worker on a private Redis queue that sees this test's DB and files."""
    queue = f"test-analysis-{uuid.uuid4().hex[:8]}"
    client = Celery("clinic", broker=redis_url)
    sent = []

    def delay(job_id: int):
        sent.append(job_id)
        return client.send_task(
            "clinic.tasks.analysis_run_task", args=[job_id], queue=queue
        )

    # The service sends after commit; route it to this worker's queue on Redis.
    monkeypatch.setattr("clinic.services.analysis.analysis_run_task.delay", delay)
    with celery_worker(
        queue,
        tmp_path / "worker.log",
        **this_tests_app_env(redis_url, model_dir, tmp_path / "var"),
    ):
        yield sent


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_upload_reaches_a_result_through_a_real_worker(
    client, analysis_worker, uploaded_files, tiny_clinic_checkpoint
):
    model_version_register(checkpoint_path=tiny_clinic_checkpoint, activate=True)
    client.force_login(make_user("clinician"))
    response = client.post(
        "/api/v1/recordings",
        {
            "file": uploaded_files("emg_neuropathy"),
            "patient_code": "INT-1",
            "electrode_type": "NEEDLE",
        },
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["job_id"]
    assert analysis_worker == [job_id]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/jobs/{job_id}").json()
        if body["status"] in ("SUCCEEDED", "FAILED"):
            break
        time.sleep(0.5)
    assert body["status"] == "SUCCEEDED", body
    assert body["progress"] == 100
    assert set(body["result"]["probabilities"]) == {"healthy", "myopathy", "neuropathy"}
    assert abs(sum(body["result"]["probabilities"].values()) - 1) < 1e-6
    result = Result.objects.get(job_id=job_id)
    assert len(result.windows) > 100  # 0.25 s windows over ~37 s
    assert result.signal_preview["sfreq"] == 4000
    assert AnalysisJob.objects.get(pk=job_id).task_id
    page = client.get(f"/jobs/{job_id}/result/")
    assert page.status_code == 200 and b"figure-data" in page.content
