"""/api/v1/gestures: the same operations and rules as the pages, token auth."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from clinic.gestures.models import GestureSession
from clinic.services.users import api_token_create
from tests.clinic.factories import TeamFactory, make_user

# Fixtures: tiny_gesture_checkpoint, gesture_model, person_file, person_path,
# fast_adaptation, make_gesture_session.

pytestmark = pytest.mark.django_db


def _token_client(role: str | None, team=None) -> APIClient:
    user = make_user(role, team=team)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(username=user.username)}"
    )
    client.user = user
    return client


def test_a_person_is_adapted_through_the_api(
    gesture_model,
    person_file,
    fast_adaptation,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = _token_client("clinician")
    models = client.get("/api/v1/gestures/models")
    assert models.status_code == 200
    assert [m["id"] for m in models.json()] == [gesture_model.pk]
    assert models.json()[0]["layout"] == "myo-readings"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/gestures/sessions",
            {
                "file": [person_file()],
                "base_model": gesture_model.pk,
                "layout": "myo-readings",
                "person_code": "API-G1",
                "k": 1,
            },
            format="multipart",
        )
    assert response.status_code == 202, response.content
    session = GestureSession.objects.get()
    assert response.json() == {
        "session_id": session.pk,
        "status_url": f"http://testserver/api/v1/gestures/sessions/{session.pk}",
    }
    status = client.get(f"/api/v1/gestures/sessions/{session.pk}").json()
    assert status["status"] == "SUCCEEDED", status["error"]
    assert status["progress"] == 100 and status["finished"] is True
    report = status["report"]
    assert 0 <= report["accuracy_before"] <= 1 and 0 <= report["accuracy_after"] <= 1
    assert len(report["confusion_after"]) == len(report["class_names"]) == 8
    assert status["adapted_model"]["sha256"] == session.adapted_checkpoint.name[-67:-3]
    assert [(h["phase"], h["epoch"]) for h in status["history"]] == [
        ("select", 1),
        ("refit", 1),
    ]


def test_bad_input_gets_400_with_field_errors(gesture_model, person_file):
    client = _token_client("clinician")
    response = client.post(
        "/api/v1/gestures/sessions",
        {"base_model": gesture_model.pk, "layout": "csv", "person_code": "a b"},
        format="multipart",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) >= {"file", "person_code", "k", "sfreq_hz"}
    response = client.post(
        "/api/v1/gestures/sessions",
        {
            "file": [person_file()],
            "base_model": gesture_model.pk,
            "layout": "uci-emg-gestures",
            "person_code": "G-1",
            "k": 1,
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert "layout" in response.json()["errors"]
    assert not GestureSession.objects.exists()


def test_roles_and_teams_apply_to_the_api(gesture_model, make_gesture_session):
    team_a, team_b = TeamFactory(name="a"), TeamFactory(name="b")
    owner = _token_client("clinician", team=team_a)
    session = make_gesture_session(
        user=owner.user, gesture_model=gesture_model, status="SUCCEEDED"
    )
    url = f"/api/v1/gestures/sessions/{session.pk}"
    assert owner.get(url).status_code == 200
    listed = owner.get("/api/v1/gestures/sessions").json()
    assert [(r["id"], r["status_url"]) for r in listed] == [
        (session.pk, f"http://testserver{url}")
    ]
    assert owner.get("/api/v1/gestures/sessions?person=nobody").json() == []
    other = _token_client("clinician", team=team_b)
    assert other.get("/api/v1/gestures/sessions").json() == []
    assert _token_client(None).get("/api/v1/gestures/sessions").status_code == 403
    assert _token_client("clinician", team=team_b).get(url).status_code == 404
    auditor = _token_client("auditor")
    assert auditor.get(url).json()["report"]["accuracy_after"] == 0.75
    assert auditor.get("/api/v1/gestures/models").status_code == 200
    refused = auditor.post(
        "/api/v1/gestures/sessions", {"person_code": "G-1"}, format="multipart"
    )
    assert refused.status_code == 403
    assert _token_client(None).get("/api/v1/gestures/models").status_code == 403
    anonymous = APIClient()
    assert anonymous.get(url).status_code == 401
    assert anonymous.get("/api/v1/gestures/models").status_code == 401
    assert anonymous.post("/api/v1/gestures/sessions").status_code == 401


def test_the_openapi_schema_lists_the_gesture_endpoints():
    client = _token_client("clinician")
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in (
        "/api/v1/gestures/sessions",
        "/api/v1/gestures/sessions/{session_id}",
        "/api/v1/gestures/models",
    ):
        assert path in text


def test_gesture_sessions_share_the_daily_upload_quota_and_throttle(
    gesture_model, person_file, settings
):
    from django.core.cache import cache

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.EMG_UPLOAD_QUOTA_PER_DAY = 1
    client = _token_client("clinician")

    def post(code):
        return client.post(
            "/api/v1/gestures/sessions",
            {
                "file": [person_file()],
                "base_model": gesture_model.pk,
                "layout": "myo-readings",
                "person_code": code,
                "k": 1,
            },
            format="multipart",
        )

    assert post("Q-1").status_code == 202
    refused = post("Q-2")
    assert refused.status_code == 429
    assert "daily limit" in refused.json()["detail"]
    assert GestureSession.objects.count() == 1  # nothing stored for the refused one
    # The API's upload throttle covers gesture POSTs too (GETs are not counted).
    settings.EMG_UPLOAD_QUOTA_PER_DAY = 0
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "uploads": "1/minute",
        },
    }
    cache.clear()
    try:
        assert post("Q-3").status_code == 202
        throttled = post("Q-4")
        assert throttled.status_code == 429
        assert client.get("/api/v1/gestures/sessions").status_code == 200
    finally:
        cache.clear()
