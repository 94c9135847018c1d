"""Abuse resistance: login lockout (audited), API 429, CSP, sessions, passwords,
``check --deploy`` with .env.example's production values."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from clinic.models import AuditEvent
from tests.clinic.factories import make_user
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _try_login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_it_locks_a_username_after_n_failures_audits_and_unlocks(client, settings):
    user = make_user("clinician", username="nurse")
    user.set_password("a-long-test-password-1")
    user.save()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert _try_login(client, "nurse", "wrong").status_code == 200
    locked = _try_login(client, "nurse", "wrong")
    assert locked.status_code == 429
    assert "Sign-in is paused" in locked.content.decode()
    # Even the right password is refused while locked.
    assert _try_login(client, "nurse", "a-long-test-password-1").status_code == 429
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED)
    assert failed.count() == limit + 1
    assert "password" not in str(list(failed.values_list("details", flat=True)))
    lockouts = AuditEvent.objects.filter(action=AuditEvent.Action.LOCKED_OUT)
    assert [e.details["username"] for e in lockouts] == ["nurse"]
    call_command("axes_reset_username", "nurse")
    ok = _try_login(client, "nurse", "a-long-test-password-1")
    assert ok.status_code == 302


def test_it_answers_429_in_plain_words_when_the_api_rate_is_exceeded(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "anon": "2/minute",
            "user": "2/minute",
            "uploads": "1/minute",
        },
    }
    api = APIClient()
    api.force_authenticate(make_user("clinician"))
    codes = [api.get("/api/v1/models").status_code for _ in range(3)]
    assert codes[-1] == 429
    body = api.get("/api/v1/models").json()
    assert body["detail"].startswith("Too many requests: the limit is 2 requests")
    assert body["retry_after_s"] >= 1


def test_it_sends_a_csp_with_a_nonce_and_no_unsafe_eval(client, active_model):
    client.force_login(make_user("clinician"))
    page = client.get(reverse("login"))
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp


def test_it_expires_idle_sessions_and_at_browser_close(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


@pytest.mark.parametrize("password", ["short-pw", "password1234", "123456789012345"])
def test_it_rejects_weak_passwords(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_it_accepts_a_strong_password():
    validate_password("violet-ankle-tram-93")


def _env_example() -> dict[str, str]:
    values = {}
    for line in (REPO_ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def test_check_deploy_is_clean_with_the_production_env_example(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **_env_example()}
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["MYOLENS_VAR_DIR"] = str(tmp_path)
    run = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


def test_it_refuses_uploads_past_the_daily_quota_on_web_and_api(
    client, settings, uploaded_files, active_model
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.EMG_UPLOAD_QUOTA_PER_DAY = 1
    user = make_user("clinician")
    from clinic.services import upload_create
    from clinic.services.quota import UploadQuotaExceeded

    upload_create(user=user, files=uploaded_files(), patient_code="P1")
    with pytest.raises(UploadQuotaExceeded, match="1 uploads in the last 24"):
        upload_create(user=user, files=uploaded_files(), patient_code="P2")
    client.force_login(user)
    files = uploaded_files()
    page = client.post(
        reverse("upload_new"),
        {
            "patient_code": "P3",
            "muscle": "deltoid",
            "side": "RIGHT",
            "electrode_type": "NEEDLE",
            "files": files,
        },
    )
    assert page.status_code == 429 and "daily limit" in page.content.decode()
    api = APIClient()
    api.force_authenticate(user)
    resp = api.post(
        "/api/v1/recordings", {"patient_code": "P4", "file": uploaded_files()}
    )
    assert resp.status_code == 429 and "daily limit" in resp.json()["detail"]
