"""The result page is read right (issue 16): the headline's performance
sentence, the training-recording notice, units, and the confirmed-diagnosis
form that starts empty."""

from __future__ import annotations

import re

import pytest

from clinic.models import AuditEvent, ConfirmedDiagnosis
from tests.clinic.factories import (
    ModelVersionFactory,
    ResultFactory,
    UploadFactory,
    UploadFileFactory,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician_client(client):
    user = make_user("clinician")
    client.force_login(user)
    client.user = user
    return client


def _result(user, **kwargs):
    upload = UploadFactory(uploaded_by=user)
    UploadFileFactory(upload=upload)
    return ResultFactory(job__upload=upload, **kwargs)


def test_it_states_the_performance_on_new_people_in_the_headline(clinician_client):
    result = _result(clinician_client.user)
    html = clinician_client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    # The factory's card: sensitivity 0.9, specificity 0.85 per class.
    assert (
        "On people it has not seen, this model identifies myopathy in 9 of 10 "
        "cases and wrongly suggests it in 2 of 10 people who do not have it."
    ) in html
    assert "training recordings" not in html


def test_it_says_plainly_when_there_is_no_evaluation_on_new_people(clinician_client):
    mv = ModelVersionFactory(evaluation={"protocol": "time_block_same_people"})
    result = _result(clinician_client.user, model_version=mv)
    html = clinician_client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    assert "has not been evaluated on people it has not seen" in html
    assert "identifies myopathy in" not in html


def test_it_warns_when_the_recording_is_a_training_recording(clinician_client):
    upload = UploadFactory(uploaded_by=clinician_client.user)
    f = UploadFileFactory(upload=upload)
    mv = ModelVersionFactory(training_data={"sha256s": [f.sha256.upper()]})
    result = ResultFactory(job__upload=upload, model_version=mv)
    html = clinician_client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    assert "This recording is one of this model's training recordings" in html
    assert f.sha256[:12] in html


def test_the_api_result_carries_the_sentence_and_the_training_flag(client):
    user = make_user("clinician")
    upload = UploadFactory(uploaded_by=user)
    f = UploadFileFactory(upload=upload)
    mv = ModelVersionFactory(training_data={"sha256s": [f.sha256]})
    result = ResultFactory(job__upload=upload, model_version=mv)
    client.force_login(user)
    body = client.get(f"/api/v1/jobs/{result.job.pk}").json()
    assert body["result"]["performance"].startswith("On people it has not seen")
    assert body["result"]["in_training_data"] is True


def test_probabilities_have_two_digits_and_units_read_in_volts(clinician_client):
    features = {
        "band_hz": [20, 450],
        "channels": [
            {
                "name": "EMG",
                "rms": 0.12345,
                "unit": "mV",
                "mnf_hz": 120.4,
                "mdf_hz": 100.2,
                "zc_per_s": 50,
                "turns_per_s": 40,
                "muap": {"amplitude_pp_median": 412.678, "amplitude_unit": "uV"},
                "notes": [],
            }
        ],
    }
    result = _result(
        clinician_client.user,
        features=features,
        probabilities={"healthy": 0.1234, "myopathy": 0.8111, "neuropathy": 0.0655},
    )
    html = clinician_client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    assert "<td>0.81</td>" in html and "<td>0.811</td>" not in html
    assert "123 µV" in html  # 0.12345 mV
    assert "413 µV" in html
    assert "uV" not in html and "0.1235" not in html
    assert html.count(result.model_version.sha256[:16]) == 1


def test_the_diagnosis_select_starts_empty(clinician_client):
    result = _result(clinician_client.user)
    html = clinician_client.get(f"/jobs/{result.job.pk}/result/").content.decode()
    select = re.search(r'<select name="diagnosis".*?</select>', html, re.S).group(0)
    first = re.search(r"<option[^>]*>([^<]*)</option>", select)
    assert first.group(1) == "— choose —"
    assert "selected" in first.group(0) or "selected" not in select
    assert 'name="confirm"' in html


@pytest.mark.parametrize(
    "data",
    [
        {"diagnosis": "", "confirm": "on"},  # no choice
        {"confirm": "on"},
        {"diagnosis": "HEALTHY"},  # no tick
    ],
)
def test_a_submission_without_a_choice_or_a_tick_records_nothing(
    clinician_client, data
):
    result = _result(clinician_client.user)
    response = clinician_client.post(f"/jobs/{result.job.pk}/confirm/", data)
    assert response.status_code == 400
    assert not ConfirmedDiagnosis.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CONFIRMED).exists()
