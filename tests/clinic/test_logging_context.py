"""Request ids on web log lines, job ids on worker log lines, JSON logs by env."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from clinic.logging_context import ContextFilter, request_id_var
from clinic.models import AnalysisJob
from clinic.services import analysis_run
from tests.clinic.factories import AnalysisJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logs(caplog):
    """caplog with the filter the console handler has (settings.LOGGING)."""
    caplog.handler.addFilter(ContextFilter())
    caplog.set_level(logging.INFO)
    return caplog


def test_a_requests_log_lines_and_response_carry_its_request_id(client, logs):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-42.abc")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-42.abc"
    lines = [r for r in logs.records if r.name == "django.request"]
    assert lines and all(r.request_id == "req-42.abc" for r in lines)
    assert "[request_id=req-42.abc]" in lines[0].log_context
    # Cleared when the request finished: later lines belong to no request.
    assert request_id_var.get() is None


def test_a_request_without_a_usable_id_gets_a_fresh_one(client, logs):
    first = client.get("/no-such-page/")["X-Request-ID"]
    forged = client.get("/no-such-page/", HTTP_X_REQUEST_ID="x\nFAKE LINE")
    second = forged["X-Request-ID"]
    assert len(first) == 32 and len(second) == 32 and first != second
    ids = {r.request_id for r in logs.records if r.name == "django.request"}
    assert ids == {first, second}


def test_a_jobs_log_lines_carry_its_job_id(logs):
    job = AnalysisJobFactory()  # no active model: it fails, and says so
    logs.clear()
    analysis_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.FAILED
    lines = logs.records
    assert any("claimed" in r.getMessage() for r in lines)
    assert any("failed" in r.getMessage() for r in lines)
    assert all((r.job_kind, r.job_id) == ("analysis", job.pk) for r in lines)
    logging.getLogger("clinic.test").info("after the job")
    assert logs.records[-1].job_id is None


def test_emg_log_format_json_writes_one_object_per_line_with_the_ids():
    env = {
        **os.environ,
        "EMG_LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "SECRET_KEY": "test-only",
    }
    code = (
        "import django, logging; django.setup(); "
        "from clinic.logging_context import job_log_context; "
        "log = logging.getLogger('clinic.demo'); "
        "ctx = job_log_context('retraining', 7); ctx.__enter__(); "
        "log.warning('inside %s', 'job'); ctx.__exit__(None, None, None); "
        "log.warning('outside')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    records = [json.loads(line) for line in out.stderr.splitlines() if line.strip()]
    demo = [r for r in records if r["name"] == "clinic.demo"]
    assert demo[0]["message"] == "inside job" and demo[0]["level"] == "WARNING"
    assert (demo[0]["job_kind"], demo[0]["job_id"]) == ("retraining", 7)
    assert demo[1]["job_id"] is None and "request_id" in demo[1]
    assert "log_context" not in demo[0] and "time" in demo[0]
