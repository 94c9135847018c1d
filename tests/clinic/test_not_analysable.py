"""A flat emgdb recording through the app: no diagnosis in the job, API or export."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clinic.models import AnalysisJob, Result, Upload
from clinic.selectors import job_status_payload
from clinic.services import analysis_run, result_export, upload_create
from tests.clinic.factories import make_user

pytestmark = pytest.mark.django_db


def test_it_stores_a_flat_recording_as_not_analysable_everywhere(
    emgdb, active_model, client
):
    header = (emgdb / "emg_healthy.hea").read_bytes()
    n = 50860  # samples in the header; format 16: two bytes each, all zero
    user = make_user("clinician")
    job = upload_create(
        user=user,
        files=[
            SimpleUploadedFile("emg_healthy.hea", header),
            SimpleUploadedFile("emg_healthy.dat", np.zeros(n, "<i2").tobytes()),
        ],
        patient_code="P-F",
        muscle="TA",
        side=Upload.Side.RIGHT,
        electrode_type=Upload.ElectrodeType.NEEDLE,
    )
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.SUCCEEDED, job.error_message
    result = Result.objects.get(job=job)
    assert result.label == "not_analysable"
    assert result.probabilities is None and result.confidence is None
    assert result.gate["reasons"][0]["code"] == "flat"
    payload = job_status_payload(job)["result"]
    assert payload["analysable"] is False and payload["probabilities"] is None
    assert "flat" in payload["message"]
    content, _, _ = result_export(user=user, job=job, fmt="json")
    data = json.loads(content)
    assert data["outcome"] == "not_analysable" and data["probabilities"] is None
    csv_text, _, _ = result_export(user=user, job=job, fmt="csv")
    assert "not_analysable" in csv_text and "flat" in csv_text
    client.force_login(user)
    page = client.get(reverse("job_result", args=[job.pk])).content.decode()
    assert "Not analysable" in page and "flat" in page
    assert "Most consistent with" not in page
