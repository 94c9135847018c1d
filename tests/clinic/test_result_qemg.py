"""The result shows the recording's quantitative EMG beside healthy reference ranges."""

from __future__ import annotations

import pytest

from clinic.models import Result, Upload
from clinic.services import analysis_run, upload_create
from tests.clinic.factories import make_user

pytestmark = pytest.mark.django_db


def _analysed(files, user, electrode=Upload.ElectrodeType.NEEDLE) -> Result:
    job = upload_create(
        user=user,
        files=files,
        patient_code="P-9",
        muscle="deltoid",
        side=Upload.Side.LEFT,
        electrode_type=electrode,
    )
    analysis_run(job_id=job.pk)
    return Result.objects.get(job=job)


def test_a_needle_result_has_qemg_rows_with_ranges_on_the_page_and_in_the_api(
    client, uploaded_files, active_model
):
    user = make_user("clinician")
    result = _analysed(uploaded_files("emg_healthy"), user)
    qe = result.features["qemg"]
    rows = {r["key"]: r for r in qe["rows"]}
    amp = rows["amplitude_uv_median"]
    # emgdb is in mV: the value is converted, so it sits in the needle-EMG scale.
    assert 20 < amp["value"] < 5000 and amp["unit"] == "µV"
    assert amp["low"] < amp["high"] and amp["flag"] in {"low", "within", "high"}
    assert qe["reference"]["people"] >= 20
    client.force_login(user)
    html = client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    assert "Quantitative EMG" in html and "Healthy range" in html
    assert "MUAP amplitude (median)" in html
    body = client.get(f"/api/v1/jobs/{result.job.pk}").json()
    assert body["result"]["qemg"]["rows"][1]["key"] == "amplitude_uv_median"


def test_a_surface_upload_gets_a_note_not_motor_unit_values(
    uploaded_files, active_model
):
    result = _analysed(
        uploaded_files("emg_healthy"),
        make_user("clinician"),
        Upload.ElectrodeType.SURFACE,
    )
    assert result.features["qemg"]["rows"] == []
    assert "needle EMG only" in result.features["qemg"]["note"]
