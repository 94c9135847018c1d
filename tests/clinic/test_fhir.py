"""GET /api/v1/results/<id>/fhir: a real emgdb result as a FHIR Bundle."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from fhir.resources.R4B.bundle import Bundle
from rest_framework.test import APIClient

from clinic.fhir import FHIR_CONTENT_TYPE, LOCAL_SYSTEM
from clinic.models import AnalysisJob, AuditEvent, Result, Team, Upload
from clinic.services import analysis_run, upload_create
from tests.clinic.factories import make_user

pytestmark = pytest.mark.django_db


def _analyse(user, files, patient_code: str) -> Result:
    job = upload_create(
        user=user,
        files=files,
        patient_code=patient_code,
        muscle="TA",
        side=Upload.Side.RIGHT,
        electrode_type=Upload.ElectrodeType.NEEDLE,
    )
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.SUCCEEDED, job.error_message
    return Result.objects.get(job=job)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _get_bundle(client, result: Result) -> tuple[Bundle, dict]:
    response = client.get(f"/api/v1/results/{result.pk}/fhir")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == FHIR_CONTENT_TYPE
    data = json.loads(response.content)
    bundle = Bundle.model_validate(data)
    # Round trip: what the library writes back parses to the same Bundle.
    again = Bundle.model_validate_json(bundle.model_dump_json(exclude_none=True))
    assert again == bundle
    assert json.loads(again.model_dump_json(exclude_none=True)) == data
    return bundle, data


def _by_type(bundle: Bundle) -> dict[str, list]:
    out: dict[str, list] = {}
    for entry in bundle.entry:
        out.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    return out


def _local_code(concept) -> str:
    return next(c.code for c in concept.coding if c.system == LOCAL_SYSTEM)


def _references(value, found: list[str]) -> list[str]:
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            found.append(value["reference"])
        for sub in value.values():
            _references(sub, found)
    elif isinstance(value, list):
        for sub in value:
            _references(sub, found)
    return found


@pytest.fixture
def clinician():
    return make_user("clinician", team=Team.objects.create(name="Neuro A"))


def test_it_exports_a_real_emgdb_result_as_a_valid_bundle(
    clinician, active_model, uploaded_files
):
    result = _analyse(clinician, uploaded_files("emg_myopathy"), "P-FHIR-1")
    assert result.analysable
    bundle, data = _get_bundle(_client(clinician), result)

    assert bundle.type == "collection"
    resources = _by_type(bundle)
    assert set(resources) == {
        "DiagnosticReport",
        "Observation",
        "Device",
        "Patient",
        "DocumentReference",
    }
    assert len(resources["DiagnosticReport"]) == 1
    assert len(resources["DocumentReference"]) == 2  # the .hea and .dat files

    full_urls = [e.fullUrl for e in bundle.entry]
    assert all(u.startswith("urn:uuid:") for u in full_urls)
    assert len(set(full_urls)) == len(full_urls)
    refs = _references(data["entry"], [])
    assert refs and set(refs) <= set(full_urls)

    report = resources["DiagnosticReport"][0]
    assert report.status == "final"
    assert {r.reference for r in report.result} == {
        e.fullUrl
        for e in bundle.entry
        if e.resource.get_resource_type() == "Observation"
    }

    patient = resources["Patient"][0]
    assert patient.name is None and patient.birthDate is None
    assert [i.value for i in patient.identifier] == ["P-FHIR-1"]

    device = resources["Device"][0]
    assert device.identifier[0].value == active_model.sha256
    assert device.version[0].value == active_model.version

    observations = {_local_code(o.code): o for o in resources["Observation"]}
    probs = {
        code.removeprefix("probability-"): o.valueQuantity
        for code, o in observations.items()
        if code.startswith("probability-")
    }
    assert set(probs) == set(result.probabilities)
    assert all(
        q.unit == "1" and q.system == "http://unitsofmeasure.org"
        for q in probs.values()
    )
    assert sum(float(q.value) for q in probs.values()) == pytest.approx(1.0, abs=1e-4)
    decision = _local_code(observations["model-decision"].valueCodeableConcept)
    expected = (
        "inconclusive" if result.label == "inconclusive" else f"class-{result.label}"
    )
    assert decision == expected
    assert "signal-quality" in observations
    qemg_rows = [r for r in result.features["qemg"]["rows"] if r["value"] is not None]
    assert qemg_rows, "emgdb needle EMG at 4 kHz yields QEMG values"
    for row in qemg_rows:
        quantity = observations[f"qemg-{row['key']}"].valueQuantity
        assert float(quantity.value) == pytest.approx(row["value"])
    units = {observations[f"qemg-{r['key']}"].valueQuantity.code for r in qemg_rows}
    assert "uV" in units and "ms" in units

    docs = resources["DocumentReference"]
    hashes = {f.sha256 for f in result.job.upload.files.all()}
    assert {d.identifier[0].value for d in docs} == hashes
    assert "emg_myopathy" not in json.dumps(data)  # uploaded file names stay out
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.EXPORTED, details__format="fhir"
        ).count()
        == 1
    )


def test_the_document_reference_url_downloads_the_recording(
    clinician, active_model, uploaded_files
):
    result = _analyse(clinician, uploaded_files("emg_healthy"), "P-FHIR-2")
    client = _client(clinician)
    bundle, _ = _get_bundle(client, result)
    stored = {f.sha256: f for f in result.job.upload.files.all()}
    for doc in _by_type(bundle)["DocumentReference"]:
        url = doc.content[0].attachment.url
        response = client.get(url.removeprefix("http://testserver"))
        assert response.status_code == 200
        body = b"".join(response.streaming_content)
        f = stored[doc.identifier[0].value]
        assert len(body) == f.size_bytes == doc.content[0].attachment.size


def test_a_flat_recording_has_no_probabilities_but_a_not_analysable_decision(
    clinician, active_model, emgdb
):
    header = (emgdb / "emg_healthy.hea").read_bytes()
    n = 50860  # samples in the header; format 16: two bytes each, all zero
    files = [
        SimpleUploadedFile("emg_healthy.hea", header),
        SimpleUploadedFile("emg_healthy.dat", np.zeros(n, "<i2").tobytes()),
    ]
    result = _analyse(clinician, files, "P-FHIR-3")
    assert result.label == Result.NOT_ANALYSABLE
    bundle, _ = _get_bundle(_client(clinician), result)
    observations = {_local_code(o.code): o for o in _by_type(bundle)["Observation"]}
    assert not [c for c in observations if c.startswith("probability-")]
    decision = observations["model-decision"]
    assert _local_code(decision.valueCodeableConcept) == "not-analysable"
    assert any("flat" in note.text for note in decision.note)
    report = _by_type(bundle)["DiagnosticReport"][0]
    assert report.conclusionCode is None


def test_a_clinician_of_another_team_gets_404_and_no_export_is_audited(
    clinician, active_model, uploaded_files
):
    result = _analyse(clinician, uploaded_files("emg_healthy"), "P-FHIR-4")
    other = make_user("clinician", team=Team.objects.create(name="Neuro B"))
    client = _client(other)
    assert client.get(f"/api/v1/results/{result.pk}/fhir").status_code == 404
    f = result.job.upload.files.first()
    url = f"/api/v1/recordings/{f.upload_id}/files/{f.pk}"
    assert client.get(url).status_code == 404
    admin = make_user("admin")  # sees no uploads and may not export results
    assert _client(admin).get(f"/api/v1/results/{result.pk}/fhir").status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).exists()
