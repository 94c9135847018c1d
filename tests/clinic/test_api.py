from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from clinic.models import AnalysisJob, AuditEvent
from clinic.services.users import api_token_create
from tests.clinic.factories import ModelVersionFactory, ResultFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_client():
    user = make_user("clinician")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(username=user.username)}"
    )
    client.user = user
    return client


def test_it_accepts_a_wfdb_pair_with_a_token_and_returns_202(
    token_client, uploaded_files
):
    response = token_client.post(
        "/api/v1/recordings",
        {"file": uploaded_files("emg_myopathy"), "patient_code": "API-1"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    job = AnalysisJob.objects.get()
    assert response.json() == {
        "job_id": job.pk,
        "status_url": f"http://testserver/api/v1/jobs/{job.pk}",
    }
    assert job.upload.uploaded_by == token_client.user
    assert job.upload.side == "NA" and job.upload.electrode_type == "UNKNOWN"
    status = token_client.get(f"/api/v1/jobs/{job.pk}").json()
    assert status["status"] == "QUEUED" and status["result"] is None


def test_bad_input_is_400_with_field_errors(token_client, uploaded_files):
    response = token_client.post(
        "/api/v1/recordings",
        {"file": uploaded_files("emg_myopathy", (".hea",)), "patient_code": "bad code"},
        format="multipart",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"file", "patient_code"}
    assert "needs its .dat data file" in errors["file"][0]


def test_a_finished_job_returns_its_result_and_model(token_client):
    from tests.clinic.factories import UploadFactory

    result = ResultFactory(job__upload=UploadFactory(uploaded_by=token_client.user))
    body = token_client.get(f"/api/v1/jobs/{result.job.pk}").json()
    assert body["status"] == "SUCCEEDED" and body["progress"] == 100
    assert body["error"] is None
    assert body["result"]["probabilities"]["myopathy"] == 0.8
    assert body["result"]["label"] == "myopathy"
    mv = result.model_version
    assert body["result"]["model"] == {
        "name": mv.name,
        "version": mv.version,
        "sha256": mv.sha256,
    }


def test_models_list_includes_metrics_and_admins_can_promote(settings):
    admin = make_user("admin")
    client = APIClient()
    client.force_authenticate(admin)
    mv = ModelVersionFactory()
    listed = client.get("/api/v1/models").json()
    assert listed[0]["metrics"]["healthy"]["specificity"]["ci_low"] == 0.75
    settings.EMG_MIN_SENSITIVITY = 0.95
    assert client.post(f"/api/v1/models/{mv.pk}/promote").status_code == 400
    why = {"reason": "better on new people"}
    refused = client.post(f"/api/v1/models/{mv.pk}/promote", why, format="json")
    assert refused.status_code == 409
    assert "sensitivity 0.90 is below the minimum 0.95" in refused.json()["error"]
    settings.EMG_MIN_SENSITIVITY = 0.5
    done = client.post(f"/api/v1/models/{mv.pk}/promote", why, format="json")
    assert done.status_code == 200 and done.json()["active"]["id"] == mv.pk
    assert AuditEvent.objects.filter(action="PROMOTED", actor=admin).exists()


def test_the_openapi_schema_describes_the_endpoints():
    client = APIClient()
    client.force_authenticate(make_user("auditor"))
    response = client.get("/api/v1/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/v1/recordings",
        "/api/v1/jobs/{job_id}",
        "/api/v1/models",
        "/api/v1/models/{model_version_id}/promote",
    } <= set(paths)


def test_requests_without_credentials_are_401():
    assert APIClient().get("/api/v1/models").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get("/api/v1/models").status_code == 401


def test_an_upload_far_over_the_limit_is_413(token_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.EMG_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("big.csv", b"1\n" * 1_500_000)
    response = token_client.post(
        "/api/v1/recordings", {"file": [big], "patient_code": "P"}, format="multipart"
    )
    assert response.status_code == 413
    assert "the limit is 1 MB" in response.json()["errors"]["file"][0]


def test_a_wfdb_header_with_a_bin_data_file_is_accepted_and_analysed(
    token_client, emgdb, active_model
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from clinic.services import analysis_run

    header = (emgdb / "emg_healthy.hea").read_text().replace(".dat", ".bin")
    files = [
        SimpleUploadedFile("emg_healthy.hea", header.encode()),
        SimpleUploadedFile("emg_healthy.bin", (emgdb / "emg_healthy.dat").read_bytes()),
    ]
    response = token_client.post(
        "/api/v1/recordings",
        {"file": files, "patient_code": "API-BIN"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    job = AnalysisJob.objects.get()
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.SUCCEEDED, job.error_message
    # A header whose data file is missing names the file it wants.
    alone = token_client.post(
        "/api/v1/recordings",
        {
            "file": [SimpleUploadedFile("emg_healthy.hea", header.encode())],
            "patient_code": "API-BIN2",
        },
        format="multipart",
    )
    assert alone.status_code == 400
    assert "needs its data file emg_healthy.bin" in alone.json()["errors"]["file"][0]
